"""``python -m ccframe plugins``: every mechanism slot, its implementations, who provides them, which is active.

Implementations whose hooks do not fit the hookspecs are reported as broken under the table.
"""

from __future__ import annotations

import sys

from ccframe import runner
from ccframe.params import ConfigError
from ccframe.plugins import CORE_SLOTS, PluginError, check_hooks, mechanism_registry, plugin_config_options


def active_implementations(overrides: list[str]) -> dict[str, str]:
    """The implementation each slot gets from the config composed with ``overrides``."""
    config = runner.compose_checked(overrides)
    return {slot: node["impl"] for slot, node in config.items()
            if hasattr(node, "get") and node.get("impl") is not None}


def print_plugins(overrides: list[str]) -> int:
    """Print the table; ``overrides`` (e.g. ``fund=escrow``) change which are active."""
    try:
        registry = mechanism_registry()
        active = active_implementations(overrides)
    except (PluginError, ConfigError) as exc:
        print(f"ccframe: error: {exc}", file=sys.stderr)
        return 2
    slots = [*CORE_SLOTS, *sorted(set(registry) - set(CORE_SLOTS))]
    rows = [("slot", "implementation", "plugin", "package", "version", "active")]
    for slot in slots:
        for name, info in sorted(registry.get(slot, {}).items()):
            rows.append((slot, name, info.plugin, info.distribution, info.version,
                         "*" if active.get(slot) == name else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    for info in (info for slot in slots for info in registry.get(slot, {}).values()):
        try:
            check_hooks(info)
        except PluginError as exc:
            print(f"broken: {exc}")
    options = plugin_config_options()
    if options:
        print(f"\nconfig options from installed plugins: {', '.join(options)}")
    print("\n* = active with the given overrides (`python -m ccframe plugins <overrides>` marks what they "
          "select); switch with <slot>.impl=<implementation> or the plugin's config option")
    return 0
