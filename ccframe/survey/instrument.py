"""The questionnaire as a plugin: the mechanism slot ``survey`` (config group ``conf/survey/``).

:class:`Questionnaire` is registered like the built-in mechanisms. Attached to a model
(``+survey=wang2022``) it changes nothing and draws nothing from the model's RNG: in the
survey year it takes a :class:`~ccframe.survey.snapshot.Snapshot` of what respondents can
see. After the run, :meth:`Questionnaire.respond` samples respondents across clusters in
the survey paper's mix and answers every item:

    perceived = direction · transform(signal seen by the respondent)
    answer    = cut(z(z(perceived) + noise · e)),  e ~ N(0, 1)

where z standardises over the whole sample (respondents judge against the national
norm) and ``cut`` gives 1..5 at the normal quantiles of the configured answer shares.
Every value is an assumption documented in docs/ODD.md ("Observation: the virtual survey").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ccframe.errors import ModelError
from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.modes import ES
from ccframe.params import ConfigError, bounded, build, described, fraction, nonnegative
from ccframe.survey import signals as builtin_signals
from ccframe.survey.snapshot import Snapshot, take

if TYPE_CHECKING:
    import polars as pl


class FieldingError(ModelError):
    """The simulated clusters cannot field the survey: too few agents are left to answer it."""


TRANSFORMS = {
    "identity": lambda x: x,
    "log": lambda x: np.log(np.maximum(x, 1e-9)),
    "signed_log": lambda x: np.sign(x) * np.log1p(np.abs(x)),
}
SUPPLIER, SERVER = "supplier", "server"


@dataclass(frozen=True)
class QuestionnaireParams:
    """Parameters of the virtual questionnaire: who answers, how noisily, from what."""

    wave_year: int = bounded(-1, 1000, doc="simulated year the survey is fielded in; -1: the last year")
    noise: float = nonnegative("respondent noise sd, in sd units of an item's perceived signal")
    answers: list = described("shares of the answers 1..5 (five numbers summing to 1)")
    supplier_share: float = fraction("share of respondents who are suppliers (the rest are servers)")
    scale_mix: list = described("shares of S1, S2, S3 among supplier respondents")
    es_share: float = fraction("share of CBEC (ES) servers among server respondents")
    items: dict = described("item -> {text, signal, transform, direction, noise?, why}")


@dataclass(frozen=True)
class Item:
    """One item's mapping, ``survey.items.<item>`` (checked by :func:`ccframe.params.build`)."""

    signal: str = described("the quantity the item is answered from: a name in Questionnaire.signals")
    noise: float = nonnegative("respondent noise sd of this item (default: the questionnaire's noise)")
    transform: str = field(default="identity", metadata={"doc": f"one of {', '.join(TRANSFORMS)}"})
    direction: int = field(default=1, metadata={"doc": "1, or -1 when a larger value means a worse answer"})
    text: Any = field(default=None, metadata={"doc": "the item's wording (the paper's Table 1)"})
    why: Any = field(default=None, metadata={"doc": "why the signal answers the item (our assumption)"})


class Questionnaire(Mechanism):
    """The survey instrument: snapshots clusters, samples respondents, answers items."""

    slot = "survey"
    name = "questionnaire"
    Params = QuestionnaireParams
    signals: ClassVar[Mapping[str, Any]] = builtin_signals.SIGNALS

    @classmethod
    def check(cls, params: QuestionnaireParams, settings, slot: str) -> None:
        if params.wave_year > settings.years:
            raise ConfigError(f"{slot}.wave_year: must be -1 or at most years ({settings.years}), "
                              f"got {params.wave_year}")
        _shares(params.answers, 5, f"{slot}.answers")
        _shares(params.scale_mix, 3, f"{slot}.scale_mix")
        cls.items_of(params, slot)

    @classmethod
    def items_of(cls, params: QuestionnaireParams, slot: str = "survey") -> dict[str, Item]:
        """The validated item mappings by item, in config order (one-line ConfigError otherwise)."""
        if not isinstance(params.items, Mapping) or not params.items:
            raise ConfigError(f"{slot}.items: expected a mapping of item -> mapping, got {params.items!r}")
        items = {}
        for name, spec in params.items.items():
            key = f"{slot}.items.{name}"
            item = build(Item, {"noise": params.noise, **spec} if isinstance(spec, dict) else spec, key)
            if item.signal not in cls.signals:
                raise ConfigError(f"{key}.signal: no such signal {item.signal!r}; available: "
                                  f"{', '.join(sorted(cls.signals))}")
            if item.transform not in TRANSFORMS:
                raise ConfigError(f"{key}.transform: must be one of {', '.join(TRANSFORMS)}, got {item.transform!r}")
            if item.direction not in (1, -1):
                raise ConfigError(f"{key}.direction: must be 1 or -1, got {item.direction!r}")
            items[str(name)] = item
        return items

    @cached_property
    def items(self) -> dict[str, Item]:
        """The validated item mappings of these params (:meth:`items_of`, computed once)."""
        return self.items_of(self.params, self.slot)

    # -- during the run --------------------------------------------------------------------
    @hookimpl
    def ccframe_setup(self, model) -> None:
        self.snapshot: Snapshot | None = None

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        """Take the snapshot in the survey year; report nothing (the survey is not a metric)."""
        wave = model.settings.years if self.params.wave_year < 0 else self.params.wave_year
        if year == wave:
            self.snapshot = take(model)
        return {}

    # -- after the runs: Polars and SciPy imported here, so that registering the mechanism
    # (every process that loads the plugins, a sweep's parent among them) does not load them.
    def respond(self, snapshots: Sequence[Snapshot], n: int, rng: np.random.Generator) -> pl.DataFrame:
        """``n`` respondents across ``snapshots`` answer every item: one row each.

        Columns: cluster, agent (supplier | server), position (row among that cluster's
        active agents), then one Int8 column per item with answers 1..5.
        """
        import polars as pl

        sample = self.sample(snapshots, n, rng)
        answers = self.answer(self.perceive(snapshots, sample), rng)
        return sample.with_columns(pl.Series(name, values, dtype=pl.Int8) for name, values in answers.items())

    def sample(self, snapshots: Sequence[Snapshot], n: int, rng: np.random.Generator) -> pl.DataFrame:
        """Respondents: ``n`` split evenly over clusters; within one, suppliers and servers in the mix.

        Suppliers are drawn without replacement with weights that give S1, S2, S3 the
        shares ``scale_mix`` (renormalised over the classes present), servers likewise
        with ``es_share`` of CBEC servers. A cluster with fewer agents of a kind than its
        quota is surveyed whole, and the rest of that quota goes to the clusters with agents
        to spare (see :func:`_allocate`).
        """
        import polars as pl

        p = self.params
        if not snapshots:
            raise FieldingError("no simulated cluster to survey")
        quotas = np.full(len(snapshots), n // len(snapshots))
        quotas[: n % len(snapshots)] += 1
        n_suppliers = np.array([int(round(quota * p.supplier_share)) for quota in quotas])
        wanted = {SUPPLIER: n_suppliers, SERVER: quotas - n_suppliers}
        population = {agent: [self._groups(snap, agent) for snap in snapshots] for agent in wanted}
        counts = {agent: _allocate(wanted[agent], np.array([_eligible(*g).size for g in population[agent]]),
                                   f"{agent}s") for agent in wanted}
        frames = []
        for cluster in range(len(snapshots)):
            for agent in (SUPPLIER, SERVER):
                chosen = _draw(*population[agent][cluster], int(counts[agent][cluster]), rng)
                frames.append(pl.DataFrame({"cluster": np.full(chosen.size, cluster), "agent": agent,
                                            "position": chosen}))
        return pl.concat(frames).with_columns(pl.col("cluster").cast(pl.Int64), pl.col("position").cast(pl.Int64))

    def _groups(self, snap: Snapshot, agent: str) -> tuple[np.ndarray, np.ndarray]:
        """The sampling groups of a cluster's agents of one kind, and each group's share of respondents."""
        if agent == SUPPLIER:
            return snap.suppliers["scale_class"] - 1, np.asarray(self.params.scale_mix, dtype=float)
        return (snap.servers["kind"] == ES).astype(np.int64), np.array([1.0 - self.params.es_share,
                                                                         self.params.es_share])

    def perceive(self, snapshots: Sequence[Snapshot], sample: pl.DataFrame) -> dict[str, np.ndarray]:
        """Each item's signal as each sampled respondent sees it, transformed and signed."""
        perceived = {name: np.empty(sample.height) for name in self.items}
        clusters, agents, positions = (sample[c].to_numpy() for c in ("cluster", "agent", "position"))
        for cluster, snap in enumerate(snapshots):
            sides = [np.flatnonzero((clusters == cluster) & (agents == agent)) for agent in (SUPPLIER, SERVER)]
            if not any(here.size for here in sides):
                continue
            for name, item in self.items.items():  # a signal gives what suppliers and servers see at once
                for here, values in zip(sides, self.signals[item.signal](snap), strict=True):
                    perceived[name][here] = values[positions[here]]
        for name, item in self.items.items():
            perceived[name] = item.direction * TRANSFORMS[item.transform](perceived[name])
        return perceived

    def answer(self, perceived: Mapping[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Five-point answers: standardise, add respondent noise, standardise, cut at the answer shares."""
        from scipy.special import ndtri

        cuts = ndtri(np.cumsum(np.asarray(self.params.answers, dtype=float))[:-1])
        answers = {}
        for name, values in perceived.items():
            response = _standardise(values) + self.items[name].noise * rng.standard_normal(values.size)
            answers[name] = (np.searchsorted(cuts, _standardise(response)) + 1).astype(np.int8)
        return answers


def _standardise(values: np.ndarray) -> np.ndarray:
    """z-scores; a constant (or non-finite) signal carries no information and becomes 0."""
    values = np.where(np.isfinite(values), values, np.nan)
    sd = np.nanstd(values)
    if not sd > 0:
        return np.zeros(values.size)
    return np.nan_to_num((values - np.nanmean(values)) / sd)


def _weights(groups: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Each agent's chance weight, so that groups come in ``shares`` (0 for a group with no share)."""
    sizes = np.bincount(groups, minlength=shares.size)
    return np.where(sizes[groups] > 0, shares[groups] / np.maximum(sizes[groups], 1), 0.0)


def _eligible(groups: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """The agents that can be sampled (their group has a share)."""
    return np.flatnonzero(_weights(groups, shares) > 0)


def _allocate(wanted: np.ndarray, available: np.ndarray, what: str) -> np.ndarray:
    """Respondents per cluster: as wanted, but a short cluster is surveyed whole, the rest spread.

    The shortfall goes one by one, in cluster order, to the clusters with agents to spare.
    """
    counts = np.minimum(wanted, available)
    short = int(wanted.sum() - counts.sum())
    while short > 0:
        spare = np.flatnonzero(counts < available)
        if spare.size == 0:
            raise FieldingError(f"{what}: {int(wanted.sum())} respondents wanted, only {int(available.sum())} agents "
                                "of the sampled kinds in all clusters; survey more clusters or fewer respondents")
        extra = spare[:short]
        counts[extra] += 1
        short -= extra.size
    return counts


def _draw(groups: np.ndarray, shares: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` positions without replacement, group g weighted so groups come in ``shares``."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    weights = _weights(groups, shares)
    return rng.choice(groups.size, size=count, replace=False, p=weights / weights.sum())


def _shares(values: Any, length: int, key: str) -> None:
    ok = (isinstance(values, list | tuple) and len(values) == length
          and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values))
    if not ok or not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ConfigError(f"{key}: expected {length} non-negative shares summing to 1, got {values!r}")


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register the questionnaire in the slot ``survey``."""
    register(Questionnaire)
