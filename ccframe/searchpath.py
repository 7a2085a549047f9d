"""Installed plugins' config groups on Hydra's search path, through Hydra's own plugin type.

A :class:`~hydra.plugins.search_path_plugin.SearchPathPlugin` appends the entries that
ccframe plugins return from ``ccframe_config_searchpath`` whenever ccframe's config is
loaded, so ``+mechanism=...`` options are found, listed by ``--help`` and composed by
:func:`ccframe.runner.compose`. It is registered explicitly (:func:`register_with_hydra`)
because Hydra's scan of ``hydra_plugins`` misses packages installed in editable mode.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

CONFIG_MODULE = "ccframe.conf"


class CcframeSearchPathPlugin(SearchPathPlugin):
    """Append installed ccframe plugins' config packages to ccframe's search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from ccframe.plugins import config_searchpath

        if any(entry.path == f"pkg://{CONFIG_MODULE}" for entry in search_path.get_path()):
            for path in config_searchpath():
                search_path.append(provider="ccframe-plugin", path=path)


def register_with_hydra() -> None:
    """Make Hydra use :class:`CcframeSearchPathPlugin` and know ccframe's sweeper (idempotent)."""
    # The first call scans Hydra's plugin modules and runs them again, BasicSweeper's among
    # them: the sweeper is imported after it, so that it subclasses the class Hydra keeps.
    plugins = Plugins.instance()
    from hydra_plugins.ccframe_sweeper import CheckedSweeper

    plugins.register(CcframeSearchPathPlugin)
    plugins.register(CheckedSweeper)
