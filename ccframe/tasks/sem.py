"""The ``sem`` task: fit a spec to survey answers, print the AMOS-style report, log it to MLflow.

``python -m ccframe task=sem`` fits ``conf/sem/wang2022_revised.yaml`` to n = 481
answers simulated from the population model with a fixed seed; ``task.data=x.csv``
fits a user's survey instead. Order of work, as the paper's: pre-analysis, the
revision loop from the initial model (logged step by step), the five violation
checks, the fit against the reference standards, the paths and hypothesis verdicts,
optionally a bootstrap. Every table is kept in ``<job folder>/sem/`` (Parquet and
the text report), with the fitted model's path diagram (``path_diagram.png``,
:mod:`ccframe.sem.diagram`), and logged to the MLflow experiment ``sem``. A bad spec, bad data or
a bad ``task.*`` value ends in one line (a :class:`ConfigError`) before anything is logged.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ccframe.params import ConfigError, bounded, build, described

OUTPUT_DIR = "sem"
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "space": " "}
"""Names a delimiter can be given by (``task.delimiter=semicolon``), besides the character itself."""
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Violations:
    """``task.violations``: thresholds of the violation checks (:func:`ccframe.sem.checks.violations`)."""

    near_one: float = bounded(0, 1, low_open=True, doc='|standardised coefficient| counted as "very close to 1"')
    se_ratio: float = bounded(1, low_open=True, doc="factor off the median SE of its kind that is extreme")


@dataclass(frozen=True)
class Revise:
    """``task.revise``: the revision loop (:func:`ccframe.sem.revise.revise`)."""

    enabled: bool = described("run the revision loop before the final fit")
    start: str = described("the spec the revision starts from")
    until: str = described("stopping rule: criteria | mi")
    min_mi: float = bounded(0, low_open=True, doc="smallest MI worth freeing")
    max_steps: int = bounded(0, 1000, doc="most error covariances freed")


@dataclass(frozen=True)
class Bootstrap:
    """``task.bootstrap``: the bootstrap of the standardised estimates (:func:`ccframe.sem.bootstrap.bootstrap`)."""

    draws: int = bounded(0, 1_000_000, doc="draws (0: off)")
    seed: int = bounded(0, MAX_SEED, doc="seed of the resamples")
    n_jobs: int = bounded(-1, 4096, doc="worker processes; -1 = all cores")
    level: float = bounded(0, 1, low_open=True, high_open=True, doc="percentile confidence level")


@dataclass(frozen=True)
class SemTask:
    """The validated ``task.*`` values of a sem job (conf/task/sem.yaml)."""

    name: str = described("task name")
    spec: str = described("a spec in conf/sem/ or a path to a spec YAML")
    data: str = described("simulated | path to a CSV")
    delimiter: str = described("the CSV's field separator, by name or the character")
    missing: str = described("error | listwise")
    population: str = described("the population model that data=simulated draws from")
    n: int = bounded(2, 10_000_000, doc="respondents simulated")
    seed: int = bounded(0, MAX_SEED, doc="seed of the simulated answers")
    n_minus_one: bool = described("AMOS's N - 1 convention")
    published: str | None = described("the paper's values shown beside ours ('' for none)")
    alpha: float = bounded(0, 1, low_open=True, high_open=True, doc="significance level of the verdicts")
    preanalysis: bool = described("KMO, Bartlett, PCA + varimax, alpha, CR, AVE")
    modification_indices: int = bounded(0, 100_000, doc="how many of the largest MIs to print")
    criteria: dict[str, tuple[str, float]] = described("reference standards of the fit, {index: {max|min: bound}}")
    violations: Violations = described("thresholds of the violation checks")
    revise: Revise = described("the revision loop")
    bootstrap: Bootstrap = described("the bootstrap")


def settings(task: dict[str, Any]) -> SemTask:
    """Validate the task's config; a bad value raises ConfigError naming key, rule and value."""
    from ccframe.sem.checks import parse_criteria
    from ccframe.sem.revise import STOP_RULES

    checked = build(SemTask, task, "task")
    names = {"spec": checked.spec, "data": checked.data, "population": checked.population,
             "revise.start": checked.revise.start}
    for key, value in names.items():
        if not value:
            raise ConfigError(f"task.{key}: expected a non-empty name or path, got {value!r}")
    if checked.missing not in ("error", "listwise"):
        raise ConfigError(f"task.missing: expected one of ['error', 'listwise'], got {checked.missing!r}")
    if checked.revise.until not in STOP_RULES:
        raise ConfigError(f"task.revise.until: expected one of {', '.join(STOP_RULES)}, got {checked.revise.until!r}")
    if checked.bootstrap.draws == 1:
        raise ConfigError("task.bootstrap.draws: expected 0 (off) or at least 2, got 1")
    if checked.bootstrap.n_jobs == 0:
        raise ConfigError("task.bootstrap.n_jobs: expected -1 (all cores) or a positive count, got 0")
    if checked.criteria is not None and not isinstance(checked.criteria, dict):
        raise ConfigError(f"task.criteria: expected a mapping, got {checked.criteria!r}")
    try:
        criteria = parse_criteria(checked.criteria)
    except ValueError as exc:
        raise ConfigError(f"task.{exc}") from None
    return replace(checked, criteria=criteria, delimiter=_delimiter(checked.delimiter),
                   published=checked.published or "")


def run(config: DictConfig, job: Any) -> None:
    """Fit, check, report and log one SEM job (see the module docstring)."""
    from ccframe.sem.fit import DataError
    from ccframe.sem.spec import SpecError

    task = settings(OmegaConf.to_container(config.task, resolve=True))
    try:
        outcome = _analyse(task)
    except (SpecError, DataError) as exc:
        raise ConfigError(str(exc)) from None
    report = outcome["report"]
    print(report.text())
    folder = _save(outcome, task, Path(job.folder) / OUTPUT_DIR)
    if config.tracking.enabled:
        _log(config, job, task, outcome, folder)


# -- the work -------------------------------------------------------------------------
def _analyse(task: SemTask) -> dict[str, Any]:
    from ccframe.sem.bootstrap import bootstrap, print_progress
    from ccframe.sem.checks import violations
    from ccframe.sem.fit import fit_matrix, prepare_data
    from ccframe.sem.modindices import modification_indices
    from ccframe.sem.report import build_report, load_published
    from ccframe.sem.spec import load_spec

    spec = load_spec(task.spec)
    published = load_published(task.published)
    frame, label = _data(task, spec)
    values = prepare_data(spec, frame, missing=task.missing)
    revision = None
    if task.revise.enabled:
        from ccframe.sem.revise import revise

        start = load_spec(task.revise.start)
        print(f"ccframe: revising {start.name} ({task.revise.until})", file=sys.stderr)
        revision = revise(start, prepare_data(start, frame, missing=task.missing), criteria=task.criteria,
                          until=task.revise.until, min_mi=task.revise.min_mi,
                          max_steps=task.revise.max_steps, n_minus_one=task.n_minus_one,
                          near_one=task.violations.near_one, se_ratio=task.violations.se_ratio,
                          log=lambda line: print(line, file=sys.stderr))
    print(f"ccframe: fitting {spec.name} to {label}", file=sys.stderr)
    result = fit_matrix(spec, values, n_minus_one=task.n_minus_one)
    checks = violations(result, near_one=task.violations.near_one, se_ratio=task.violations.se_ratio)
    pre = _preanalysis(spec, frame, result, task)
    mis = modification_indices(result).head(task.modification_indices) if task.modification_indices and \
        result.converged else None
    boot = None
    if task.bootstrap.draws:
        b = task.bootstrap
        boot = bootstrap(spec, values, draws=b.draws, seed=b.seed, level=b.level, n_jobs=b.n_jobs,
                         n_minus_one=task.n_minus_one, progress=print_progress, base=result)
        print(f"ccframe: bootstrap: {boot.draws - boot.failed} of {boot.draws} draws converged "
              f"({boot.n_jobs} workers, {boot.seconds:.1f} s)", file=sys.stderr)
    report = build_report(result, checks, task.criteria, pre=pre, published=published, alpha=task.alpha,
                          revision=revision, bootstrap=boot, modindices=mis, data_label=label)
    return {"result": result, "checks": checks, "report": report, "revision": revision, "bootstrap": boot}


def _data(task: SemTask, spec: Any) -> tuple[Any, str]:
    if task.data == "simulated":
        from ccframe.sem.population import load_population, simulate

        population = load_population(task.population)
        return simulate(population, n=task.n, seed=task.seed), \
            f"simulated from {population.name} (n = {task.n}, seed {task.seed})"
    from ccframe.sem.data import read_survey

    return read_survey(task.data, spec, delimiter=task.delimiter), task.data


def _preanalysis(spec: Any, frame: Any, result: Any, task: SemTask) -> Any:
    if not task.preanalysis:
        return None
    from ccframe.sem.preanalysis import preanalysis

    scale_items = {i for _, items in spec.scales.values() for i in items}
    absent = sorted(scale_items - set(frame.columns))
    if absent:
        print(f"ccframe: pre-analysis skipped: scale item(s) {', '.join(absent)} not in the data", file=sys.stderr)
        return None
    complete = frame.drop_nulls(subset=sorted(scale_items) or spec.observed)
    return preanalysis(spec, complete, result if result.converged else None)


# -- outputs --------------------------------------------------------------------------
def _save(outcome: dict[str, Any], task: SemTask, folder: Path) -> Path:
    """report.txt, estimates.parquet, fit_indices.json, checks.json, one Parquet per table, the path diagram."""
    folder.mkdir(parents=True, exist_ok=True)
    result, report = outcome["result"], outcome["report"]
    (folder / "report.txt").write_text(report.text() + "\n")
    result.estimates.write_parquet(folder / "estimates.parquet")
    (folder / "fit_indices.json").write_text(json.dumps(result.fit_indices, indent=1))
    (folder / "checks.json").write_text(json.dumps([c.__dict__ for c in outcome["checks"]], indent=1))
    (folder / "spec.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(result.spec.to_dict())))
    report.write_tables(folder / "tables")
    if result.converged:
        from ccframe.sem.diagram import FILENAME, draw

        path = draw(result, folder / FILENAME, admissible=report.admissible)
        print(f"ccframe: path diagram: {path}", file=sys.stderr)
    return folder


def _log(config: DictConfig, job: Any, task: SemTask, outcome: dict[str, Any], folder: Path) -> None:
    """One MLflow run in experiment ``sem`` (or tracking.experiment): params, indices as metrics, files."""
    from ccframe import tracking

    result, report = outcome["result"], outcome["report"]
    try:
        tracker = tracking.Tracker(config.tracking.uri)
        tags = {"ccframe.task": "sem", "ccframe.sem.spec": result.spec.name,
                "ccframe.overrides": " ".join(job.overrides), "ccframe.sem.admissible": str(report.admissible)}
        run_id = tracker.start(config.tracking.experiment or "sem", tracking.run_name(job.overrides), tags)
        params = tracking.flatten(OmegaConf.to_container(config.task, resolve=True), "task.")
        metrics = [(k, float(v), 0) for k, v in result.fit_indices.items() if math.isfinite(v)]
        metrics.append(("admissible", float(report.admissible), 0))
        if "Table 8: hypothesis verdicts" in report.tables:
            verdicts = report.tables["Table 8: hypothesis verdicts"]
            metrics.append(("hypotheses_supported", float((verdicts["verdict"] == "supported").sum()), 0))
        tracker.log_result(run_id, params, metrics)
        tracker.client.log_artifacts(run_id, str(folder), OUTPUT_DIR)
        tracker.finish(run_id)
    except Exception as exc:  # noqa: BLE001 - an unreachable store costs a warning, never the results
        tracking.warn(f"tracking failed ({type(exc).__name__}: {exc}); results kept in {folder}")


# -- validation helpers -----------------------------------------------------------------
def _delimiter(value: Any) -> str:
    if isinstance(value, str) and value in DELIMITERS:
        return DELIMITERS[value]
    if not isinstance(value, str) or len(value) != 1 or value in "\"\r\n":
        raise ConfigError(f"task.delimiter: expected one of {', '.join(DELIMITERS)} or a single character, "
                          f"got {value!r}")
    return value
