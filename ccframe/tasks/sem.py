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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ccframe.params import ConfigError

OUTPUT_DIR = "sem"
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "space": " "}
"""Names a delimiter can be given by (``task.delimiter=semicolon``), besides the character itself."""
KEYS = {"name", "spec", "data", "delimiter", "missing", "population", "n", "seed", "n_minus_one", "published",
        "alpha", "preanalysis", "modification_indices", "criteria", "violations", "revise", "bootstrap"}


@dataclass(frozen=True)
class SemTask:
    """The validated ``task.*`` values of a sem job."""

    spec: str
    data: str
    delimiter: str
    missing: str
    population: str
    n: int
    seed: int
    n_minus_one: bool
    published: str
    alpha: float
    preanalysis: bool
    modification_indices: int
    criteria: dict[str, tuple[str, float]]
    near_one: float
    se_ratio: float
    revise: dict[str, Any]
    bootstrap: dict[str, Any]


def settings(task: dict[str, Any]) -> SemTask:
    """Validate the task's config; a bad value raises ConfigError naming key, rule and value."""
    from ccframe.sem.checks import parse_criteria
    from ccframe.sem.revise import STOP_RULES

    unknown = sorted(set(task) - KEYS)
    if unknown:
        raise ConfigError(f"task.{unknown[0]}: unknown key (allowed: {', '.join(sorted(KEYS))})")
    try:
        criteria = parse_criteria(_mapping(task, "criteria"))
    except ValueError as exc:
        raise ConfigError(f"task.{exc}") from None
    violations = _mapping(task, "violations")
    revise = _mapping(task, "revise")
    boot = _mapping(task, "bootstrap")
    _only(violations, "violations", {"near_one", "se_ratio"})
    _only(revise, "revise", {"enabled", "start", "until", "min_mi", "max_steps"})
    _only(boot, "bootstrap", {"draws", "seed", "n_jobs", "level"})
    draws = _int(boot.get("draws", 0), "bootstrap.draws", 0, 1_000_000)
    if draws == 1:
        raise ConfigError("task.bootstrap.draws: expected 0 (off) or at least 2, got 1")
    n_jobs = _int(boot.get("n_jobs", -1), "bootstrap.n_jobs", -1, 4096)
    if n_jobs == 0:
        raise ConfigError("task.bootstrap.n_jobs: expected -1 (all cores) or a positive count, got 0")
    until = revise.get("until", "criteria")
    if until not in STOP_RULES:
        raise ConfigError(f"task.revise.until: expected one of {', '.join(STOP_RULES)}, got {until!r}")
    return SemTask(
        spec=_text(task.get("spec"), "spec"),
        data=_text(task.get("data"), "data"),
        delimiter=_delimiter(task.get("delimiter", ",")),
        missing=_choice(task.get("missing", "error"), "missing", ["error", "listwise"]),
        population=_text(task.get("population"), "population"),
        n=_int(task.get("n"), "n", 2, 10_000_000),
        seed=_int(task.get("seed"), "seed", 0, 2**63 - 1),
        n_minus_one=_bool(task.get("n_minus_one", True), "n_minus_one"),
        published=str(task.get("published") or ""),
        alpha=_real(task.get("alpha", 0.05), "alpha", 0.0, 1.0),
        preanalysis=_bool(task.get("preanalysis", True), "preanalysis"),
        modification_indices=_int(task.get("modification_indices", 10), "modification_indices", 0, 100_000),
        criteria=criteria,
        near_one=_real(violations.get("near_one", 0.95), "violations.near_one", 0.0, 1.0, closed_high=True),
        se_ratio=_real(violations.get("se_ratio", 100), "violations.se_ratio", 1.0, math.inf),
        revise={"enabled": _bool(revise.get("enabled", False), "revise.enabled"),
                "start": _text(revise.get("start", "wang2022_initial"), "revise.start"), "until": until,
                "min_mi": _real(revise.get("min_mi", 10.83), "revise.min_mi", 0.0, math.inf),
                "max_steps": _int(revise.get("max_steps", 10), "revise.max_steps", 0, 1000)},
        bootstrap={"draws": draws, "seed": _int(boot.get("seed", 0), "bootstrap.seed", 0, 2**63 - 1),
                   "n_jobs": n_jobs, "level": _real(boot.get("level", 0.95), "bootstrap.level", 0.0, 1.0)},
    )


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
    if task.revise["enabled"]:
        from ccframe.sem.revise import revise

        start = load_spec(task.revise["start"])
        print(f"ccframe: revising {start.name} ({task.revise['until']})", file=sys.stderr)
        revision = revise(start, prepare_data(start, frame, missing=task.missing), criteria=task.criteria,
                          until=task.revise["until"], min_mi=task.revise["min_mi"],
                          max_steps=task.revise["max_steps"], n_minus_one=task.n_minus_one,
                          near_one=task.near_one, se_ratio=task.se_ratio,
                          log=lambda line: print(line, file=sys.stderr))
    print(f"ccframe: fitting {spec.name} to {label}", file=sys.stderr)
    result = fit_matrix(spec, values, n_minus_one=task.n_minus_one)
    checks = violations(result, near_one=task.near_one, se_ratio=task.se_ratio)
    pre = _preanalysis(spec, frame, result, task)
    mis = modification_indices(result).head(task.modification_indices) if task.modification_indices and \
        result.converged else None
    boot = None
    if task.bootstrap["draws"]:
        b = task.bootstrap
        boot = bootstrap(spec, values, draws=b["draws"], seed=b["seed"], level=b["level"], n_jobs=b["n_jobs"],
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
        tracker.log_result(run_id, params, metrics, None)
        tracker.client.log_artifacts(run_id, str(folder), OUTPUT_DIR)
        tracker.finish(run_id)
    except Exception as exc:  # noqa: BLE001 - an unreachable store costs a warning, never the results
        tracking.warn(f"tracking failed ({type(exc).__name__}: {exc}); results kept in {folder}")


# -- validation helpers -----------------------------------------------------------------
def _mapping(task: dict[str, Any], key: str) -> dict[str, Any]:
    value = task.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"task.{key}: expected a mapping, got {value!r}")
    return value


def _only(section: dict[str, Any], key: str, allowed: set[str]) -> None:
    extra = sorted(set(section) - allowed)
    if extra:
        raise ConfigError(f"task.{key}.{extra[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"task.{key}: expected a non-empty name or path, got {value!r}")
    return value


def _delimiter(value: Any) -> str:
    if isinstance(value, str) and value in DELIMITERS:
        return DELIMITERS[value]
    if not isinstance(value, str) or len(value) != 1 or value in "\"\r\n":
        raise ConfigError(f"task.delimiter: expected one of {', '.join(DELIMITERS)} or a single character, "
                          f"got {value!r}")
    return value


def _choice(value: Any, key: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise ConfigError(f"task.{key}: expected one of {allowed}, got {value!r}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"task.{key}: expected true or false, got {value!r}")
    return value


def _int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"task.{key}: expected an integer in [{low}, {high}], got {value!r}")
    return value


def _real(value: Any, key: str, low: float, high: float, *, closed_high: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and low < value and (value <= high if closed_high else value < high))
    if not ok:
        raise ConfigError(f"task.{key}: expected a number in ({low:g}, {high:g}{']' if closed_high else ')'}, "
                          f"got {value!r}")
    return float(value)
