"""Compose a config, validate it, run the replicates, summarise: the work behind the CLI and API."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from ccframe.errors import MechanismError, ModelError
from ccframe.outputs import draw_figure, figure_spec, save_outputs
from ccframe.plugins import mechanism_registry
from ccframe.searchpath import CONFIG_MODULE, register_with_hydra
from ccframe.settings import Settings, validate
from ccframe.uploader import BackgroundUploader, UploadError, stop_worker, uploader_for

if TYPE_CHECKING:
    from ccframe.results import RunResult

CONFIG_NAME = "config"

Progress = Callable[[int, int, float], None]


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the config from ``ccframe.conf`` with Hydra overrides, as the CLI would.

    Installed plugins' config groups are on the search path (:mod:`ccframe.searchpath`).
    """
    register_with_hydra()
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
        return hydra_compose(config_name=CONFIG_NAME, overrides=list(overrides))


def compose_checked(overrides: Sequence[str] = ()) -> DictConfig:
    """:func:`compose` for the Python API: a config error is one :class:`~ccframe.params.ConfigError` line.

    Worded as the CLI words it: a malformed or code-running override, a misspelt key, a
    parameter of an inactive slot, and a ``+mechanism=...`` whose plugin is not installed
    (Hydra would report the parameters set beside it as unknown keys) each say what to do.
    """
    from ccframe.params import ConfigError
    from ccframe.preflight import describe, group_error, parse

    overrides = list(overrides)
    parse(overrides)
    try:
        return compose(overrides)
    except Exception as exc:
        message = describe(exc)
        if message is None:
            raise
        raise ConfigError(group_error(overrides) or message) from None


def settings_from(config: DictConfig) -> Settings:
    """Validate a composed config (raises :class:`ccframe.params.ConfigError`).

    An interpolation that cannot be resolved (``${oc.env:UNSET}``, an unknown resolver)
    is a ConfigError naming its key: OmegaConf's built-in resolvers are the only ones.
    """
    from omegaconf.errors import OmegaConfBaseException

    from ccframe.params import ConfigError
    from ccframe.preflight import describe

    try:
        resolved: Any = OmegaConf.to_container(config, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(describe(exc)) from None
    return validate(resolved, mechanism_registry())


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Independent per-replicate seeds spawned from the run's root seed."""
    return np.random.SeedSequence(seed).spawn(replicates)


def run(settings: Settings, config: Any = None, progress: Progress | None = None) -> RunResult:
    """Run every replicate of ``settings`` and summarise them."""
    from ccframe.model import CoevolutionModel  # Mesa: imported where replicates run, not in a sweep's parent
    from ccframe.results import RunResult, replicate_frame, summarise  # Polars and SciPy: likewise

    records, sources = [], {}
    start = time.perf_counter()
    seeds = replicate_seeds(settings.seed, settings.replicates)
    for index, seed in enumerate(seeds, start=1):
        model = CoevolutionModel(settings, seed)
        records.append(model.run())
        sources.update(model.metric_sources)
        if progress:
            progress(index, len(seeds), time.perf_counter() - start)
    replicates = replicate_frame(records)
    return RunResult(summary=summarise(replicates), replicates=replicates,
                     config=config, settings=settings, metric_sources=sources)


@dataclass(frozen=True)
class Job:
    """Where a run's outputs go and how it is named: its overrides, its folder, its sweep."""

    overrides: list[str]
    folder: Path
    sweep_dir: str | None = None


def run_job(settings: Settings, config: Any, job: Job, progress: Progress | None = None) -> RunResult:
    """Run, keep the results in ``job.folder``, then log them to MLflow if tracking is on.

    A worker process imports MLflow and opens the store while the model runs
    (:mod:`ccframe.uploader`). A simulation
    that fails is logged as a FAILED run with its error before the error propagates. A
    tracking store that cannot be reached costs a warning, never the results: the run waits
    in the outbox for ``python -m ccframe sync`` (see :mod:`ccframe.outbox`). A sweep job
    that already finished (same resolved config and version) is skipped (:mod:`ccframe.resume`).
    """
    from ccframe import resume

    digest = resume.job_hash(config) if config is not None and job.sweep_dir else None  # sweeps resume
    earlier = resume.finished_folder(digest) if digest and settings.resume else None
    if earlier is not None:
        print(f"ccframe: job already finished in {earlier} (config hash {digest[:12]}, ccframe "
              f"{ccframe_version()}); skipped, its results copied (resume=false runs it again)", file=sys.stderr)
        return resume.restore(earlier, job.folder, config, settings)
    uploader = None
    if settings.tracking.enabled:
        from ccframe import multirun, tracking

        uploader = uploader_for(tracking.tracking_uri(settings.tracking.uri))
        parent = multirun.parent_run_id(job.sweep_dir) if job.sweep_dir else None
    else:
        stop_worker()
    try:
        result = run(settings, config, progress)
    except (MechanismError, ModelError) as exc:
        if uploader:
            tracking.write_manifest(settings, config, job.overrides, job.folder, parent, error=str(exc))
            _upload(uploader, job)
        raise
    save_outputs(result, job.folder)
    if uploader:  # the worker logs the results while the figure is drawn
        tracking.write_manifest(settings, config, job.overrides, job.folder, parent, summary=result.summary)
        _begin_upload(uploader, job)
    if settings.tracking.figures:
        draw_figure(result.summary, job.folder, **figure_spec(settings))
    if digest:
        resume.mark_finished(digest, job.folder)
    if uploader:
        _upload(uploader, job)
    return result


def ccframe_version() -> str:
    """The installed ccframe version (part of a job's identity for resuming)."""
    from ccframe import __version__

    return __version__


def _begin_upload(uploader: BackgroundUploader, job: Job) -> None:
    """List the job's folder in the outbox and have the worker start on all of it but the figures."""
    from ccframe import outbox

    outbox.enqueue(job.folder)
    with contextlib.suppress(UploadError):  # reported by _upload, which waits for the upload
        uploader.begin(job.folder)


def _upload(uploader: BackgroundUploader, job: Job) -> None:
    """Upload the job's folder through the outbox: listed first, taken out once the store has it."""
    from ccframe import outbox
    from ccframe.tracking import warn

    outbox.enqueue(job.folder)
    try:
        uploader.upload(job.folder)
    except Exception as exc:
        warn(f"tracking store unreachable ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); "
             f"results kept in {job.folder} and in the outbox; upload later with: python -m ccframe sync")
        return
    outbox.dequeue(job.folder)


def simulate(overrides: Sequence[str] = (), progress: Progress | None = None) -> RunResult:
    """Run the model from Hydra-style overrides, e.g. ``["+scenario=fund", "ctrans=3000"]``.

    Returns a :class:`~ccframe.results.RunResult` whose ``summary`` has the columns
    year, metric, mean, sd, ci_low, ci_high, n and whose ``config`` is the resolved config.
    Unless ``tracking.enabled=false``, the run is logged to MLflow like a CLI run; its
    folder is kept under ``.ccframe/`` only while it waits in the outbox.
    """
    from ccframe import outbox

    config = compose_checked(overrides)
    settings = settings_from(config)
    if not settings.tracking.enabled:
        return run(settings, config, progress)
    state = outbox.outbox_dir().parent
    state.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="api-run-", dir=state))
    try:
        return run_job(settings, config, Job(list(overrides), folder), progress)
    finally:
        if folder.resolve() not in outbox.pending():
            shutil.rmtree(folder, ignore_errors=True)


def print_progress(done: int, total: int, elapsed: float, unit: str = "replicate", verb: str = "done",
                   every: int = 1) -> None:
    """Progress on stderr: one updating line on a terminal, else a line every ``every`` ``unit``s and at the end."""
    line = f"{unit} {done}/{total} {verb} ({elapsed:.1f} s)"
    if sys.stderr.isatty():
        print(f"\r{line}", end="\n" if done == total else "", file=sys.stderr, flush=True)
    elif done == total or done % every == 0:
        print(line, file=sys.stderr, flush=True)
