"""The plugin manager: built-in mechanisms and installed plugins, through one path.

Built-in mechanisms are plugin modules listed in :data:`DEFAULT_PLUGINS`; third-party
ones are found through the ``ccframe`` entry-point group. Both register mechanism
classes with the same ``ccframe_register_mechanisms(register)`` hook, so swapping a
built-in is no different from adding a new mechanism.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from functools import cache

import pluggy

from ccframe import hookspecs
from ccframe.mechanism import Mechanism

ENTRY_POINT_GROUP = "ccframe"

#: Built-in plugin modules, registered before any installed plugin.
DEFAULT_PLUGINS = (
    "ccframe.mechanisms.commodity",
    "ccframe.mechanisms.fund",
    "ccframe.mechanisms.information",
    "ccframe.mechanisms.technology",
    "ccframe.mechanisms.export_choice",
    "ccframe.mechanisms.lifecycle",
    "ccframe.survey.instrument",
)

#: The slots of the seed's model, in the order their hooks run within a phase.
CORE_SLOTS = ("commodity", "fund", "information", "technology", "export_choice", "lifecycle")


#: Words Hydra's override grammar reads as values, not strings.
HYDRA_VALUES = {"null", "true", "false", "inf", "nan"}


class PluginError(RuntimeError):
    """A plugin that cannot be loaded or that failed while running."""


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows ccframe's hookspecs and nothing else."""
    pm = pluggy.PluginManager("ccframe")
    pm.add_hookspecs(hookspecs)
    return pm


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager holding the built-in and the installed plugin modules."""
    pm = new_plugin_manager()
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        pm.check_pending()
        for plugin in pm.get_plugins():
            _reject_unmarked_hooks(pm, plugin)
    except Exception as exc:  # an installed plugin that does not import or does not fit the hookspecs
        raise PluginError(_broken_plugin(pm, exc)) from None
    return pm


def _reject_unmarked_hooks(pm: pluggy.PluginManager, plugin: object) -> None:
    """A ``ccframe_*`` function or method without ``@hookimpl`` would never be called: refuse it."""
    unmarked = [name for name in dir(plugin)
                if name.startswith("ccframe_") and callable(getattr(plugin, name))
                and pm.parse_hookimpl_opts(plugin, name) is None]
    if unmarked:
        raise pluggy.PluginValidationError(plugin, f"{unmarked[0]} is not marked @hookimpl, so it would never be "
                                                   "called; decorate it with `from ccframe import hookimpl`")


def _broken_plugin(pm: pluggy.PluginManager, exc: Exception) -> str:
    """One line naming the installed plugin that failed to load, its package and what to do."""
    registered = pm.get_name(exc.plugin) if isinstance(exc, pluggy.PluginValidationError) else None
    # otherwise pluggy stopped at the culprit: the first entry point not registered
    name = registered or next((ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
                               if pm.get_plugin(ep.name) is None), "?")
    entry = next(iter(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)), None)
    package = f"{entry.dist.name} {entry.dist.version}" if entry and entry.dist else "unknown package"
    detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    dist = package.split()[0]
    return (f"installed plugin {name!r} ({package}) cannot be loaded: {type(exc).__name__}: {detail}; "
            f"fix it or remove it with `pip uninstall {dist}`")


@dataclass(frozen=True)
class MechanismInfo:
    """Where a registered mechanism implementation comes from."""

    slot: str
    name: str
    cls: type[Mechanism]
    plugin: str
    distribution: str
    version: str


def mechanism_registry(pm: pluggy.PluginManager | None = None) -> dict[str, dict[str, MechanismInfo]]:
    """All registered implementations, as ``{slot: {name: MechanismInfo}}``."""
    pm = pm or get_plugin_manager()
    registry: dict[str, dict[str, MechanismInfo]] = {}
    dists = _distributions(pm)
    for impl in pm.hook.ccframe_register_mechanisms.get_hookimpls():
        def register(cls: type[Mechanism], _plugin: str = impl.plugin_name) -> None:
            if not (isinstance(cls, type) and issubclass(cls, Mechanism)):
                raise PluginError(f"plugin {_plugin!r} registered {cls!r}, "
                                  "which is not a ccframe.mechanism.Mechanism subclass")
            for what, value in (("slot", cls.slot), ("name", cls.name)):
                if not _selectable(value):
                    raise PluginError(f"plugin {_plugin!r} registers {cls.__name__} with {what} {value!r}: it must be "
                                      "a Python identifier and not one of null, true, false, inf, nan "
                                      "(config would read those as values)")
            slot = registry.setdefault(cls.slot, {})
            if cls.name in slot:
                raise PluginError(f"plugin {_plugin!r} registers {cls.slot}.impl={cls.name!r}, "
                                  f"already registered by {slot[cls.name].plugin!r}")
            builtin = ("ccframe", _own_version()) if _plugin in DEFAULT_PLUGINS else ("unpackaged", "-")
            dist, version = dists.get(_plugin, builtin)
            slot[cls.name] = MechanismInfo(cls.slot, cls.name, cls, _plugin, dist, version)

        impl.function(register=register)
    return registry


def _selectable(name: object) -> bool:
    """Whether ``name`` can be written in an override and read back as the same string."""
    return isinstance(name, str) and name.isidentifier() and name.lower() not in HYDRA_VALUES


def _distributions(pm: pluggy.PluginManager) -> dict[str, tuple[str, str]]:
    return {name: (dist.project_name, dist.version)
            for name, dist in ((pm.get_name(p), d) for p, d in pm.list_plugin_distinfo())}


def _own_version() -> str:
    from ccframe import __version__

    return __version__


@cache
def check_hooks(info: MechanismInfo) -> None:
    """Reject a mechanism whose hook names or signatures do not match the hookspecs.

    Hooks are the class's methods, so each implementation is checked once per process
    (a sweep's pre-check validates every job's mechanisms) on an instance that never runs.
    """
    pm = new_plugin_manager()
    where = f"mechanism {info.slot}={info.name} from plugin {info.plugin!r} ({info.distribution} {info.version})"
    mechanism = info.cls.__new__(info.cls)
    try:
        _reject_unmarked_hooks(pm, mechanism)
        pm.register(mechanism, name=f"{info.slot}={info.name}")
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        detail = "; ".join(line.strip() for line in str(exc).splitlines())
        raise PluginError(f"{where}: {detail}") from None


def config_searchpath(pm: pluggy.PluginManager | None = None) -> list[str]:
    """Hydra search-path entries contributed by plugins (their config groups)."""
    pm = pm or get_plugin_manager()
    return [entry for entries in pm.hook.ccframe_config_searchpath() for entry in entries]


def plugin_config_options(pm: pluggy.PluginManager | None = None, slot: str | None = None) -> list[str]:
    """The overrides that select installed plugins' config options (``fund=escrow``, ``+mechanism=...``).

    A group ccframe's own config has is chosen with ``group=option``; a new group is added with ``+``.
    With ``slot``, only the options that configure that mechanism slot (read from their YAML, as data).
    """
    from importlib.resources import files

    from ccframe.searchpath import CONFIG_MODULE

    own = files(CONFIG_MODULE)
    options = []
    for entry in config_searchpath(pm):
        if not entry.startswith("pkg://"):
            continue
        for group in files(entry.removeprefix("pkg://")).iterdir():
            if not group.is_dir():
                continue
            prefix = "" if own.joinpath(group.name).is_dir() else "+"
            options += [f"{prefix}{group.name}={item.name.removesuffix('.yaml')}" for item in group.iterdir()
                        if item.name.endswith(".yaml") and (slot is None or _configures(item, group.name, slot))]
    return sorted(options)


def _configures(item, group: str, slot: str) -> bool:
    """Whether the config file ``item`` of ``group`` sets ``<slot>.impl``."""
    from omegaconf import OmegaConf

    if group == slot:
        return True
    text = item.read_text()
    node = OmegaConf.create(text) if "@package _global_" in text else None
    return node is not None and OmegaConf.select(node, f"{slot}.impl", default=None) is not None


def blame(pm: pluggy.PluginManager, hook_name: str, exc: BaseException) -> str | None:
    """Name the plugin whose implementation of ``hook_name`` raised ``exc``, if any."""
    codes = {impl.function.__code__: impl.plugin_name
             for impl in getattr(pm.hook, hook_name).get_hookimpls()}
    tb = exc.__traceback__
    culprit = None
    while tb is not None:
        culprit = codes.get(tb.tb_frame.f_code, culprit)
        tb = tb.tb_next
    return culprit
