"""Check a command line before anything runs: its overrides, and every job of a sweep.

Hydra reports a malformed override or a misspelt key over several lines; here every such
error becomes one :class:`~ccframe.params.ConfigError` line naming the key, what is
allowed and what was given. :func:`check` validates every job of a multirun before the
first one starts, so a bad value in the fifth job does not leave four runs and a parent
run behind. Overrides that would make Hydra import and call code (``_target_``) are refused.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from omegaconf import DictConfig

from ccframe import tasks
from ccframe.params import ConfigError

#: Keys through which Hydra imports and calls code; never accepted from the command line.
CODE_KEYS = ("_target_", "_partial_", "_args_", "_call_")

#: The jobs :func:`check` has passed in this process, as their overrides less Hydra's own.
_passed_jobs: set[tuple[str, ...]] = set()


def describe(exc: BaseException) -> str | None:
    """One line for an error Hydra or OmegaConf raised about the config; None if it is not one."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    cause = exc.__cause__
    if isinstance(cause, ConfigAttributeError | ConfigKeyError) and cause.parent_node is not None:
        key = str(exc).split("'")[1] if "'" in str(exc) else cause.full_key
        keys = ", ".join(map(str, cause.parent_node.keys()))
        parent = cause.parent_node
        inactive = _inactive_slot(key) if parent._get_parent() is None else None
        if inactive:
            return inactive
        where = f"under {parent._get_full_key(None)}" if parent._get_parent() is not None else "at the top level"
        return (f"{key}: unknown key ({cause.full_key!r} is not in the config; a parameter of a mechanism "
                f"that is not selected?); keys {where}: {keys}; to add a new key use +{key}=...")
    if isinstance(exc, OverrideParseException):
        return f"malformed override: {_one_line(exc)}"
    if isinstance(exc, MissingConfigException):
        return missing_option(exc)
    if isinstance(exc, OmegaConfBaseException):
        key = getattr(exc, "full_key", None)
        detail = _one_line(exc).split(" full_key:")[0]
        return f"{key}: {detail}" if key else detail
    if isinstance(exc, HydraException):
        detail = _one_line(exc)
        if isinstance(cause, OmegaConfBaseException):
            detail = f"{detail}: {_one_line(cause).split(' full_key:')[0]}"
        return detail
    return None


def missing_option(exc: Any) -> str:
    """One line for Hydra's MissingConfigException: the group, the option asked for and the available ones."""
    group = (exc.missing_cfg_file or "").rsplit("/", 1)
    if len(group) == 2:
        options = ", ".join(exc.options or []) or "none installed"
        return (f"{group[0]}: no such option {group[1]!r} (no such mechanism, scenario or task; is the plugin "
                f"that provides it installed?); available: {options}")
    return _one_line(exc)


def _inactive_slot(key: str) -> str | None:
    """The message for a parameter of a mechanism slot that no selected option fills, if ``key`` is one."""
    from ccframe.plugins import mechanism_registry, plugin_config_options

    slot = key.split(".")[0]
    registry = mechanism_registry()
    if slot not in registry:
        return None
    how = " or ".join(plugin_config_options(slot=slot)) or f"+{slot}.impl=<{'|'.join(sorted(registry[slot]))}>"
    return f"{key}: mechanism slot {slot!r} is not active, so its parameters cannot be set; activate it with {how}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def group_error(overrides: list[str]) -> str | None:
    """The one-line error of the config-group overrides alone, if they name an option that is not there.

    Hydra would report ``+mechanism=x`` of a plugin that is not installed over several lines,
    or as unknown keys for the parameters set beside it; the group overrides (no dotted keys,
    no sweeps) are composed on their own to say what is available. None when every option
    file exists (decided without composing) or the groups compose and validate.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from ccframe.runner import compose, settings_from

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return None  # a malformed override is reported where overrides are parsed
    groups = [o for o in parsed if not o.is_sweep_override() and "." not in o.key_or_group and not o.is_delete()]
    if all(_option_exists(o.key_or_group, str(o.value())) for o in groups):
        return None
    try:
        settings_from(compose([o.input_line for o in groups]))
    except ConfigError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a Hydra error of the groups themselves
        return describe(exc)
    return None


def _option_exists(group: str, option: str) -> bool:
    """Whether ``<group>/<option>.yaml`` is in ccframe's config or an installed plugin's."""
    if group.startswith("hydra/"):
        return True  # Hydra's own groups (launchers, sweepers) live elsewhere
    return any(_has_folder(package, group) and files(package).joinpath(group, f"{option}.yaml").is_file()
               for package in _config_packages())


def parse(overrides: list[str]) -> list[Any]:
    """Parse Hydra overrides, refusing malformed ones and those that would run code."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    for line in overrides:
        if any(word in line for word in CODE_KEYS):
            key = line.split("=", 1)[0]
            raise ConfigError(f"{key}: refused; an override may not set {'/'.join(CODE_KEYS)} (it would "
                              f"make Hydra import and call code), got {line!r}")
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise ConfigError(describe(exc) or _one_line(exc)) from None
    for override in parsed:
        _check_group_choice(override)
    return parsed


def _check_group_choice(override: Any) -> None:
    """A config group takes option names; Hydra fails with a traceback on anything else."""
    name = override.key_or_group
    if not name:
        raise ConfigError(f"override {override.input_line!r}: no key before '='")
    if not _is_group(name):
        return
    values = list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]
    if override.is_delete():  # ~group or ~group=option: one name, never a list
        flat = [v for v in values if v is not None]
    else:
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
    if not all(isinstance(v, str) and "${" not in v for v in flat):  # Hydra asserts on an interpolation
        raise ConfigError(f"{name}: a config group, choose an option by name (available: "
                          f"{', '.join(_group_options(name)) or 'none'}), got {override.input_line.split('=', 1)[-1]}")


def jobs(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override list of every job the command line runs (one unless ``multirun``)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.errors import HydraException

    parsed = parse(overrides)
    sweeps = [o for o in parsed if o.is_sweep_override()]
    if not multirun:
        if sweeps:
            raise ConfigError(f"{sweeps[0].get_key_element()}: a sweep ({sweeps[0].input_line.split('=', 1)[-1]}) "
                              "needs -m (multirun); for a list write key=[a,b], for a string quote it")
        return [overrides]
    try:
        return BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as exc:
        raise ConfigError(_one_line(exc)) from None


def job_config(overrides: list[str]) -> DictConfig:
    """The composed config of one job, as Hydra would compose it (without its ``hydra`` node).

    Config-group overrides (``+scenario=fund``, ``fund=escrow``) are composed (cached: a
    sweep over values composes once); value overrides are applied by Hydra's own rule,
    ``hydra.*`` ones to Hydra's settings (checked once per distinct set), the rest to a
    copy of the job's part, which is ten times cheaper to copy than the whole.
    """
    parsed = parse(overrides)
    groups = tuple(o.input_line for o in parsed if _is_group(o.key_or_group))
    values = [o for o in parsed if not _is_group(o.key_or_group)]
    hydras_own = tuple(o.input_line for o in values if o.is_hydra_override())
    if hydras_own:
        _check_hydra_settings(groups, hydras_own)
    config = copy.deepcopy(_job_part(groups))
    _apply([o for o in values if not o.is_hydra_override()], config)
    return config


@cache
def _check_hydra_settings(groups: tuple[str, ...], lines: tuple[str, ...]) -> None:
    """Apply ``hydra.*`` overrides to a copy of the composed config: one ConfigError if Hydra refuses them."""
    _apply(parse(list(lines)), copy.deepcopy(_composed(groups)))


def _apply(values: list, config: DictConfig) -> None:
    """Apply parsed value overrides to ``config`` by Hydra's own rule; one ConfigError if Hydra refuses one."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.errors import HydraException

    try:
        ConfigLoaderImpl._apply_overrides_to_config(values, config)
    except HydraException as exc:
        raise ConfigError(describe(exc) or _one_line(exc)) from None


@cache
def _job_part(groups: tuple[str, ...]) -> DictConfig:
    """The composed config without Hydra's own settings (the ``hydra`` node)."""
    from omegaconf import open_dict

    config = copy.deepcopy(_composed(groups))
    with open_dict(config):
        del config["hydra"]
    return config


@cache
def _composed(groups: tuple[str, ...]) -> DictConfig:
    from hydra import compose, initialize_config_module

    from ccframe.runner import CONFIG_MODULE, CONFIG_NAME
    from ccframe.searchpath import register_with_hydra

    register_with_hydra()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
            return compose(config_name=CONFIG_NAME, overrides=list(groups), return_hydra_config=True)
    except Exception as exc:  # noqa: BLE001 - Hydra's errors, turned into one line
        message = describe(exc)
        if message is None:
            raise
        raise ConfigError(message) from None


def _is_group(name: str) -> bool:
    """Whether ``name`` is a config group (a folder of options) of ccframe or an installed plugin."""
    if "." in name:
        return False
    if name.startswith("hydra/"):
        return True
    return any(_has_folder(package, name) for package in _config_packages())


def _config_packages() -> list[str]:
    """The config package of ccframe and those installed plugins add to Hydra's search path."""
    from ccframe.plugins import config_searchpath
    from ccframe.runner import CONFIG_MODULE

    return [CONFIG_MODULE] + [p.removeprefix("pkg://") for p in config_searchpath() if p.startswith("pkg://")]


def _group_options(name: str) -> list[str]:
    return sorted({item.name.removesuffix(".yaml") for package in _config_packages() if _has_folder(package, name)
                   for item in files(package).joinpath(name).iterdir() if item.name.endswith(".yaml")})


def _has_folder(package: str, name: str) -> bool:
    try:
        return files(package).joinpath(name).is_dir()
    except ModuleNotFoundError:
        return False


def check(overrides: list[str], multirun: bool = False) -> list[Any]:
    """Validate every job of a command line; return their settings or raise one ConfigError."""
    from ccframe.runner import settings_from

    parsed = parse(overrides)
    swept = {o.get_key_element() for o in parsed if o.is_sweep_override()}
    hydras_own = {o.get_key_element() for o in parsed if o.is_hydra_override()}  # not in the sweeper's jobs
    checked = []
    for index, job in enumerate(jobs(overrides, multirun)):
        try:
            config = job_config(job)
            checked.append(settings_from(config))
            tasks.target(config.task.name)  # what the run would refuse, check refuses
        except ConfigError as exc:
            label = " ".join(o for o in job if o.split("=", 1)[0] in swept)
            prefix = f"job {index} ({label}): " if multirun else ""
            raise ConfigError(f"{prefix}{exc}") from None
        _passed_jobs.add(tuple(o for o in job if o.split("=", 1)[0] not in hydras_own))
    return checked


def passed(job: Sequence[str]) -> bool:
    """Whether :func:`check` has passed a sweep job, given as Hydra's sweeper has it (no ``hydra.*`` overrides)."""
    return tuple(job) in _passed_jobs
