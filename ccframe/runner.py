"""Compose a config, validate it, run the replicates, summarise: the work behind the CLI and API."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from ccframe.model import CoevolutionModel
from ccframe.plugins import config_searchpath, mechanism_registry
from ccframe.results import RunResult, replicate_frame, summarise
from ccframe.settings import Settings, validate

CONFIG_MODULE = "ccframe.conf"
CONFIG_NAME = "config"

Progress = Callable[[int, int, float], None]


def searchpath_override() -> list[str]:
    """The ``hydra.searchpath=[...]`` override that adds installed plugins' config groups."""
    paths = config_searchpath()
    return [f"hydra.searchpath=[{','.join(paths)}]"] if paths else []


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the config from ``ccframe.conf`` with Hydra overrides, as the CLI would."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
        return hydra_compose(config_name=CONFIG_NAME, overrides=[*overrides, *searchpath_override()])


def settings_from(config: DictConfig) -> Settings:
    """Validate a composed config (raises :class:`ccframe.params.ConfigError`)."""
    resolved: Any = OmegaConf.to_container(config, resolve=True)
    return validate(resolved, mechanism_registry())


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Independent per-replicate seeds spawned from the run's root seed."""
    return np.random.SeedSequence(seed).spawn(replicates)


def run(settings: Settings, config: Any = None, progress: Progress | None = None) -> RunResult:
    """Run every replicate of ``settings`` and summarise them."""
    records = []
    start = time.perf_counter()
    seeds = replicate_seeds(settings.seed, settings.replicates)
    for index, seed in enumerate(seeds, start=1):
        records.append(CoevolutionModel(settings, seed).run())
        if progress:
            progress(index, len(seeds), time.perf_counter() - start)
    replicates = replicate_frame(records)
    return RunResult(summary=summarise(replicates), replicates=replicates,
                     config=config, settings=settings)


def simulate(overrides: Sequence[str] = (), progress: Progress | None = None) -> RunResult:
    """Run the model from Hydra-style overrides, e.g. ``["+scenario=fund", "ctrans=3000"]``.

    Returns a :class:`~ccframe.results.RunResult` whose ``summary`` has the columns
    year, metric, mean, sd, ci_low, ci_high, n and whose ``config`` is the resolved config.
    """
    config = compose(overrides)
    return run(settings_from(config), config, progress)


def print_progress(done: int, total: int, elapsed: float) -> None:
    """Progress over replicates on stderr: one updating line on a terminal, else one per replicate."""
    line = f"replicate {done}/{total} done ({elapsed:.1f} s)"
    if sys.stderr.isatty():
        print(f"\r{line}", end="\n" if done == total else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)
