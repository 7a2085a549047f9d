"""ccframe: a config-driven plugin framework for CBEC and manufacturing cluster co-evolution."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ccframe.hookspecs import hookimpl

try:
    __version__ = version("ccframe")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def simulate(overrides=(), progress=None):
    """Run the model from Hydra-style overrides; see :func:`ccframe.runner.simulate`."""
    from ccframe.runner import simulate as _simulate

    return _simulate(overrides, progress)


__all__ = ["__version__", "hookimpl", "simulate"]
