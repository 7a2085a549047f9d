"""Test helpers for ccframe and for plugin authors (a pytest plugin via the ``pytest11`` entry point).

``register_plugin(obj)`` registers a plugin module or object with ccframe's plugin
manager for the duration of a ``with`` block; the ``ccframe_plugin`` fixture does the
same for a test. ``small_run(overrides)`` runs a few short replicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

#: Overrides that make a run fast enough for a unit test while keeping every phase.
SMALL = ("replicates=3", "years=4", "tracking.enabled=false")


@contextmanager
def register_plugin(plugin: object, name: str | None = None) -> Iterator[object]:
    """Register ``plugin`` (a module or object with ``@hookimpl`` functions) temporarily."""
    from ccframe.plugins import get_plugin_manager

    pm = get_plugin_manager()
    if pm.is_registered(plugin):  # already installed and loaded through its entry point
        yield plugin
        return
    registered = pm.register(plugin, name=name or getattr(plugin, "__name__", type(plugin).__name__))
    try:
        yield plugin
    finally:
        pm.unregister(name=registered)


def small_run(overrides: Sequence[str] = ()):
    """Run the model with :data:`SMALL` settings plus ``overrides``; returns the RunResult."""
    from ccframe.runner import simulate

    return simulate([*SMALL, *overrides])


@pytest.fixture
def ccframe_plugin():
    """Register throwaway plugins for one test: ``ccframe_plugin(obj)``; all removed afterwards."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda plugin, name=None: stack.enter_context(register_plugin(plugin, name))
