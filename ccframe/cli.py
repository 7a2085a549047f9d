"""The command line: a thin Hydra app over :mod:`ccframe.tasks`.

``python -m ccframe +scenario=fund ctrans=3000`` composes the config, validates it
(a bad value is one line on stderr and exit status 2), runs the replicates with
progress on stderr, keeps the results in the Hydra output folder, logs the run to
MLflow and prints the scenario's metrics, replicate mean ± 95% CI half-width.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from ccframe import preflight, runner, sweep_failures, tasks
from ccframe.argv import NO_PREFLIGHT, multirun, overrides_in, unknown_flag
from ccframe.errors import MechanismError, ModelError
from ccframe.parallel import release_workers
from ccframe.params import ConfigError
from ccframe.plugins import PluginError, get_plugin_manager
from ccframe.searchpath import register_with_hydra

EXIT_CONFIG = 2
EXIT_RUN = 1


def fail(message: str, status: int) -> None:
    """Print one line to stderr and exit."""
    print(f"ccframe: error: {message}", file=sys.stderr)
    sys.exit(status)


@hydra.main(version_base=None, config_path=f"pkg://{runner.CONFIG_MODULE}",
            config_name=runner.CONFIG_NAME)
def app(config: DictConfig) -> None:
    """Run one job of a (multi)run: the task that ``task=`` names (default: simulate)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hydra_config = HydraConfig.get()
    job = runner.Job(overrides=list(OmegaConf.to_container(hydra_config.overrides.task)),  # as typed
                     folder=Path(hydra_config.runtime.output_dir),
                     sweep_dir=hydra_config.sweep.dir if hydra_config.mode == RunMode.MULTIRUN else None)
    if job.sweep_dir is not None:
        sweep_failures.clear(job.folder)
    try:
        task = tasks.load(config.task.name)
        task(config, job)
    except (ConfigError, PluginError) as exc:
        fail(str(exc), EXIT_CONFIG)
    except (MechanismError, ModelError) as exc:
        if job.sweep_dir is None:
            fail(str(exc), EXIT_RUN)
        print(f"ccframe: error: {exc}", file=sys.stderr)  # the sweep's other jobs go on
        sweep_failures.record(job.folder, str(exc))


def main() -> None:
    """Entry point of ``python -m ccframe`` and the ``ccframe`` script."""
    args = sys.argv[1:]
    if args[:1] == ["plugins"]:
        from ccframe.plugin_listing import print_plugins

        sys.exit(print_plugins(args[1:]))
    if args[:1] == ["sync"]:
        from ccframe.outbox import sync_command

        sys.exit(sync_command(args[1:]))
    if args[:1] == ["check"]:
        sys.exit(check_command(args[1:]))
    try:
        refuse_unknown_flag(args)
        get_plugin_manager()  # a broken installed plugin is one line here, not a Hydra traceback
        overrides = overrides_in(args)
        preflight.parse(overrides)
        message = preflight.group_error(overrides)
        if message:
            fail(message, EXIT_CONFIG)
        register_with_hydra()
        if multirun(args) and not NO_PREFLIGHT.intersection(args):
            preflight.check(overrides, multirun=True)  # every job, before the sweep starts
    except (ConfigError, PluginError) as exc:
        fail(str(exc), EXIT_CONFIG)
    run_hydra()
    release_workers(args)
    if sweep_failures.any_failed():
        sys.exit(EXIT_RUN)


def refuse_unknown_flag(args: list[str]) -> None:
    """One line for an argument that looks like a flag but is none of Hydra's (argparse prints its usage)."""
    flag = unknown_flag(args)
    if flag:
        raise ConfigError(f"{flag!r}: no such option; ccframe takes overrides key=value and Hydra's flags "
                          "(python -m ccframe --help)")


def check_command(args: list[str]) -> int:
    """``python -m ccframe check [-m] OVERRIDES``: validate every job without running any."""
    try:
        refuse_unknown_flag(args)
        jobs = preflight.check(overrides_in(args), multirun=multirun(args))
    except (ConfigError, PluginError) as exc:
        print(f"ccframe: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"ccframe: ok: {len(jobs)} job{'s' if len(jobs) != 1 else ''} valid")
    return 0


def run_hydra() -> None:
    """Run the Hydra app; an error Hydra raises about the config becomes one line (exit 2).

    Hydra prints its own errors over several lines unless ``HYDRA_FULL_ERROR`` is set, in
    which case it raises them; ccframe sets it and words them. A user who set it gets the traceback.
    """
    import os

    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Exception as exc:
        message = preflight.describe(exc)
        if wants_traceback or message is None:
            raise
        fail(message, EXIT_CONFIG)
    finally:
        if not wants_traceback:
            os.environ.pop("HYDRA_FULL_ERROR", None)
