"""The command line: a thin Hydra app over :mod:`ccframe.runner`.

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
import polars as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ccframe import runner
from ccframe.model import MechanismError, ModelError
from ccframe.params import ConfigError
from ccframe.plugins import PluginError

EXIT_CONFIG = 2
EXIT_RUN = 1


def fail(message: str, status: int) -> None:
    """Print one line to stderr and exit."""
    print(f"ccframe: error: {message}", file=sys.stderr)
    sys.exit(status)


@hydra.main(version_base=None, config_path=f"pkg://{runner.CONFIG_MODULE}",
            config_name=runner.CONFIG_NAME)
def app(config: DictConfig) -> None:
    """Validate, run, keep, log and report one job of a (multi)run."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        settings = runner.settings_from(config)
    except (ConfigError, PluginError) as exc:
        fail(str(exc), EXIT_CONFIG)
    hydra_config = HydraConfig.get()
    job = runner.Job(overrides=list(hydra_config.overrides.task),
                     folder=Path(hydra_config.runtime.output_dir),
                     sweep_dir=hydra_config.sweep.dir if hydra_config.mode == RunMode.MULTIRUN else None)
    scenario = settings.scenario
    print(f"ccframe: scenario {scenario.name} ({scenario.description}): {settings.replicates} "
          f"replicates x {settings.years} years", file=sys.stderr)
    try:
        result = runner.run_job(settings, config, job, progress=runner.print_progress)
    except (MechanismError, ModelError) as exc:
        if job.sweep_dir is None:
            fail(str(exc), EXIT_RUN)
        print(f"ccframe: error: {exc}", file=sys.stderr)  # the sweep's other jobs go on
        return
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True, tbl_width_chars=200):
        print(result.table(scenario.metrics))


def main() -> None:
    """Entry point of ``python -m ccframe`` and the ``ccframe`` script."""
    try:
        extra = runner.searchpath_override()
    except PluginError as exc:
        fail(str(exc), EXIT_CONFIG)
    sys.argv = [sys.argv[0], *sys.argv[1:], *extra]
    app()
