"""Simulate clusters that differ in context, field the survey across them, fit the SEM.

The survey paper's 481 respondents came from many cities and industries; one simulated
cluster would give no variance between clusters to correlate. So each job simulates
``clusters`` independent clusters whose context (alpha, beta, gamma, ctrans, ... any
config key) is drawn from the configured ranges, takes each one's snapshot in the
survey year, samples ``n`` respondents across them and fits the configured SEM spec.
Seeds: the root seed spawns independent streams for the context draws, the models and
the survey, so overriding a key for every cluster (a mechanism switched off) keeps the
other draws: variants are compared on common random numbers.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ccframe.model import CoevolutionModel
from ccframe.params import ConfigError, bounded, build, described
from ccframe.plugins import mechanism_registry
from ccframe.settings import Settings, validate
from ccframe.survey.instrument import FieldingError
from ccframe.survey.snapshot import Snapshot

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class SurveyTask:
    """The ``task`` section of ``task=virtual_survey`` (conf/task/virtual_survey.yaml)."""

    name: str = described("task name")
    n: int = bounded(10, 10**6, doc="respondents (the paper: 481 valid questionnaires)")
    clusters: int = bounded(2, 10**5, doc="simulated clusters the respondents come from")
    spec: str = described("SEM spec fitted to the answers (conf/sem/)")
    published: str = described("the paper's values printed beside ours (conf/sem/published_*.yaml; '' for none)")
    significance: float = bounded(0, 1, low_open=True, high_open=True,
                                  doc="p below which a positive path supports its hypothesis")
    amos: bool = described("AMOS's N - 1 convention (the paper used AMOS 24)")
    contexts: dict = described("config key -> [low, high]: each cluster's value is drawn uniformly")
    policy: list = described("context keys drawn together as one policy stance (Gaussian copula)")
    policy_correlation: float = bounded(0, 1, high_open=True,
                                        doc="correlation of the policy keys' normal scores")


@dataclass
class SurveyWorld:
    """One fielded virtual survey: the clusters' contexts, the answers and the SEM fit."""

    contexts: pl.DataFrame
    answers: pl.DataFrame
    sem: Any


def task_settings(config: Mapping[str, Any]) -> SurveyTask:
    """Validate the task section of a resolved config (one-line ConfigError)."""
    task = build(SurveyTask, dict(config["task"]), "task")
    for key, bounds in task.contexts.items():
        ok = (isinstance(bounds, list | tuple) and len(bounds) == 2
              and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
              and bounds[0] <= bounds[1])
        if not ok:
            raise ConfigError(f"task.contexts.{key}: expected [low, high] with low <= high, got {bounds!r}")
        _lookup(config, key, f"task.contexts.{key}")
    for key in task.policy:
        if key not in task.contexts:
            raise ConfigError(f"task.policy: {key!r} is not one of task.contexts ({', '.join(task.contexts)})")
    return task


def _lookup(config: Mapping[str, Any], key: str, where: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"{where}: no config key {key!r} to vary")
        node = node[part]
    if isinstance(node, Mapping | list) or isinstance(node, bool):
        raise ConfigError(f"{where}: {key!r} is not a number")
    return node


def _assign(config: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[leaf] = value


def draw_contexts(config: Mapping[str, Any], task: SurveyTask, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Each cluster's drawn values, uniform on [low, high] (integers where the key is an integer).

    The keys in ``task.policy`` share a Gaussian copula with correlation
    ``task.policy_correlation``: a government that supervises more also tends to build
    and streamline more. Every other key is drawn independently.
    """
    from scipy.special import ndtr

    keys = list(task.contexts)
    policy = np.array([key in task.policy for key in keys])
    corr = np.where(np.outer(policy, policy), task.policy_correlation, 0.0)
    np.fill_diagonal(corr, 1.0)
    uniforms = ndtr(rng.multivariate_normal(np.zeros(len(keys)), corr, size=task.clusters))
    integer = {key: isinstance(_lookup(config, key, f"task.contexts.{key}"), int) for key in keys}  # never a bool
    draws = []
    for u in uniforms:
        values = {}
        for key, q in zip(keys, u, strict=True):
            low, high = task.contexts[key]
            if integer[key]:
                values[key] = int(min(np.floor(low + q * (high - low + 1)), high))
            else:
                values[key] = float(low + q * (high - low))
        draws.append(values)
    return draws


def cluster_settings(config: Mapping[str, Any], values: Mapping[str, Any]) -> Settings:
    """Validated settings of one cluster: the config with ``values`` (dotted keys) put in."""
    cluster = copy.deepcopy(dict(config))
    for key, value in values.items():
        _lookup(cluster, key, key)
        _assign(cluster, key, value)
    cluster.pop("task", None)
    return validate(cluster, mechanism_registry())


def field_survey(config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                 progress: Progress | None = None, fit_sem: bool = True) -> SurveyWorld:
    """Simulate the clusters, survey them and fit the SEM, from a resolved config mapping.

    A cluster that dies out before the survey wave (all its suppliers or servers exited)
    has no one to answer: it is recorded in ``contexts`` (``collapsed``: the year) and the
    respondents are spread over the surviving clusters.

    ``overrides`` (dotted keys) are applied to every cluster after its context is drawn,
    e.g. ``{"information.growth_es": 0}`` to switch part of a mechanism off. With
    ``fit_sem=False`` the SEM is not fitted (``sem`` is None): the answers only.
    """
    from ccframe.sem.fit import fit

    if "survey" not in config:
        raise ConfigError("survey: no questionnaire configured; add +survey=wang2022 (conf/survey/)")
    task = task_settings(config)
    contexts_seq, models_seq, survey_seq = np.random.SeedSequence(int(config["seed"])).spawn(3)
    draws = draw_contexts(config, task, np.random.default_rng(contexts_seq))
    snapshots: list[Snapshot] = []
    survivors: list[int] = []
    rows = []
    start = time.perf_counter()
    instrument = None
    all_settings = []
    for index, values in enumerate(draws):  # every cluster is validated before any runs
        try:
            all_settings.append(cluster_settings(config, {**values, **(overrides or {})}))
        except ConfigError as exc:
            raise ConfigError(f"task.contexts: cluster {index}'s drawn context is invalid: {exc}") from None
    for index, (values, settings, seed) in enumerate(zip(draws, all_settings, models_seq.spawn(task.clusters),
                                                          strict=True)):
        model = CoevolutionModel(settings, seed)
        model.run()
        survey = model.mechanism("survey")
        snapshot = survey.snapshot
        if snapshot is None:  # the cluster died out before the wave: nobody is left to answer
            rows.append({"cluster": index, **values, "n_suppliers": 0, "n_servers": 0,
                         "collapsed": model.collapsed_in})
        else:
            instrument = survey
            snapshots.append(snapshot)
            survivors.append(index)
            rows.append({"cluster": index, **values, "n_suppliers": snapshot.n_suppliers,
                         "n_servers": snapshot.n_servers, "collapsed": None})
        if progress:
            progress(index + 1, task.clusters, time.perf_counter() - start)
    if instrument is None:
        raise FieldingError(f"all {task.clusters} simulated clusters died out; nobody is left to survey")
    answers = instrument.respond(snapshots, task.n, np.random.default_rng(survey_seq))
    answers = answers.with_columns(pl.col("cluster").replace_strict(dict(enumerate(survivors))))
    sem = fit(task.spec, answers, n_minus_one=task.amos) if fit_sem else None
    contexts = pl.DataFrame(rows, schema_overrides={"collapsed": pl.Int64}, infer_schema_length=None)
    return SurveyWorld(contexts=contexts, answers=answers, sem=sem)
