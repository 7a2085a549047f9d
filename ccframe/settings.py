"""The run's settings: schemas of every config section and the validator that builds them.

Hydra composes the config; :func:`validate` turns the composed mapping into frozen,
typed :class:`Settings` before anything runs, or raises a one-line
:class:`~ccframe.params.ConfigError`. We validate here rather than through Hydra's
ConfigStore so that every bad value, in YAML or on the command line, gets the same
one-line message naming the key, the allowed range and the value given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccframe import equations
from ccframe.params import ConfigError, bounded, build, described, fraction, nonnegative, positive
from ccframe.plugins import CORE_SLOTS, MechanismInfo, PluginError, check_hooks, plugin_config_options

#: Most agents of one class: 100x the scale target (10^5 suppliers), far below what memory holds.
MAX_AGENTS = 10**7


@dataclass(frozen=True)
class SupplierClass:
    """One of the seed's three supplier scales: its size S_i and initial count n_i."""

    scale: float = positive("S_i, production scale (S1 > S2 > S3)")
    count: int = bounded(0, MAX_AGENTS, doc="n_i, initial number of suppliers of this scale")


@dataclass(frozen=True)
class SupplierSettings:
    """Supplier agents (seed Table I)."""

    s1: SupplierClass = described("large suppliers, S1 and n1")
    s2: SupplierClass = described("medium suppliers, S2 and n2")
    s3: SupplierClass = described("small suppliers, S3 and n3")
    funds0: float = nonnegative("initial funds of a small supplier (scaled by S_i/S3)")
    fixed_cost: float = nonnegative("yearly fixed cost of a small supplier (scaled by S_i/S3)")
    reproduction_time0: float = positive("t_r at year 0, days to reproduce the output")
    cbec_share0: float = fraction("share of suppliers exporting through CBEC at year 0")


@dataclass(frozen=True)
class ServerKind:
    """One kind of server agent (seed Table II): TS or ES."""

    count: int = bounded(0, MAX_AGENTS, doc="initial number of servers")
    vision0: float = positive("vision at year 0: cells of the demand space observed")
    transport_time0: float = positive("transport time at year 0 (days)")
    capacity: float = positive("units handled per year at the year-0 transaction time")
    funds0: float = nonnegative("initial funds")
    escape0: float = fraction("escape degree at year 0: share of operations outside supervision (eq. 8)")


@dataclass(frozen=True)
class ServerSettings:
    """Traditional-export (TS) and CBEC (ES) servers."""

    ts: ServerKind = described("traditional-export servers")
    es: ServerKind = described("cross-border e-commerce servers")


@dataclass(frozen=True)
class ContextSettings:
    """The context agent's government side beyond alpha, beta, gamma (seed Table III)."""

    r_fixed0: float = fraction("R_fixed at year 0, the fixed rate in the CIF price (eq. 4, 9)")
    r_insu: float = fraction("R_insu, the insurance rate (constant in the seed)")
    t_co0: float = positive("T_co at year 0, customs clearance time in days (eq. 10)")
    t_co_min: float = nonnegative("floor of T_co: clearance never takes less")
    t_co_escape: float = nonnegative("clearance time of a shipment escaping supervision")
    tax: float = fraction("Tax, export tax rate in eq. 8")
    rebate: float = fraction("ReTax, export tax rebate rate in eq. 8")


@dataclass(frozen=True)
class MarketSettings:
    """The context agent's demand side: inverse demand and the overseas demand space."""

    a: float = positive("a, intercept of the inverse demand P = a - bO")
    b: float = positive("b, slope of the inverse demand")
    c0: float = positive("c0, marginal cost scale: c = c0 / N^(1/3)")
    grid_size: int = bounded(2, 4000, doc="side of the square demand space, in cells")
    hotspots: int = bounded(1, 10000, doc="number of overseas markets (demand hotspots)")
    hotspot_radius: float = positive("spread (sd, in cells) of each hotspot")
    growth: float = bounded(-0.5, 1.0, doc="yearly growth of overseas demand")
    volatility: float = bounded(0, 2, doc="sd of the yearly log-normal shock per cell")
    coverage: float = positive("base-year demand visible to servers over base-year output")
    reference_price: float = positive("CIF price at which a cell's demand is its grid value")
    price_elasticity: float = bounded(0, 20, doc="elasticity of overseas demand to the CIF price")


@dataclass(frozen=True)
class ScenarioSettings:
    """What a run investigates (seed Table V); selects nothing by itself."""

    name: str = described("scenario name")
    mechanism: str = described("the mechanism it investigates (seed Table V)")
    description: str = described("one line shown when the run starts")
    metrics: tuple[str, ...] = described("investigation parameters: metrics printed and plotted")


@dataclass(frozen=True)
class TrackingSettings:
    """Where and whether a run is logged to MLflow (see ccframe/tracking.py)."""

    enabled: bool = described("log every run to MLflow")
    uri: str = described("tracking URI; empty: the SQLite store mlflow.db in the working directory")
    experiment: str = described("MLflow experiment; empty: the scenario's name")
    figures: bool = described("draw the scenario's figures as PNG artifacts")


@dataclass(frozen=True)
class Knobs:
    """The top-level keys a researcher turns (``ctrans=3000``)."""

    years: int = bounded(1, 1000, doc="simulated years after the base year 0")
    replicates: int = bounded(1, 100000, doc="independent replicates, averaged")
    seed: int = bounded(0, 2**63 - 1, doc="root seed; replicate seeds are spawned from it")
    ctrans: float = positive("C_trans, freight per unit (eq. 4)")
    iexp: float = bounded(0, 1, high_open=True, doc="I_exp, CBEC servers' expected rate of return (eq. 4)")
    alpha: float = fraction("government supervision (eq. 8)")
    beta: float = bounded(0, 0.5, high_open=True, doc="infrastructure construction (eq. 9)")
    gamma: float = bounded(0, 0.5, high_open=True, doc="efficiency construction (eq. 10)")


SECTIONS = {"suppliers": SupplierSettings, "servers": ServerSettings, "context": ContextSettings,
            "market": MarketSettings, "scenario": ScenarioSettings, "tracking": TrackingSettings}


@dataclass(frozen=True)
class ActiveMechanism:
    """A slot filled: the chosen implementation and its validated parameters."""

    info: MechanismInfo
    params: Any

    def instantiate(self):
        """A fresh mechanism object for one model."""
        return self.info.cls(self.params)


@dataclass(frozen=True)
class Settings(Knobs):
    """Everything a model needs, validated."""

    suppliers: SupplierSettings
    servers: ServerSettings
    context: ContextSettings
    market: MarketSettings
    scenario: ScenarioSettings
    tracking: TrackingSettings
    mechanisms: dict[str, ActiveMechanism]
    resume: bool = True  # a multirun job that already finished is skipped (ccframe/resume.py)


def validate(config: dict[str, Any], registry: dict[str, dict[str, MechanismInfo]]) -> Settings:
    """Build :class:`Settings` from a resolved config mapping, or raise a one-line ConfigError."""
    knob_names = [f for f in Knobs.__dataclass_fields__]
    knobs = build(Knobs, {k: config[k] for k in knob_names if k in config}, "")
    sections = {name: build(schema, config.get(name, {}), name) for name, schema in SECTIONS.items()}
    mechanisms = _mechanisms(config, registry, known=set(knob_names) | set(SECTIONS) | {"task", "resume"})
    resume = config.get("resume", True)
    if not isinstance(resume, bool):
        raise ConfigError(f"resume: expected true or false, got {resume!r}")
    settings = Settings(**vars(knobs), **sections, mechanisms=mechanisms, resume=resume)
    _check_relations(settings)
    return settings


def _mechanisms(config: dict[str, Any], registry: dict[str, dict[str, MechanismInfo]],
                known: set[str]) -> dict[str, ActiveMechanism]:
    active: dict[str, ActiveMechanism] = {}
    for key, node in config.items():
        if key in known:
            continue
        if isinstance(node, str):  # `+group=option` for a config group nobody installed
            raise ConfigError(f"{key}: no such config group, so no mechanism {node!r} (is the plugin that "
                              f"provides it installed?); available mechanisms: {_listing(registry)}")
        if key in registry and isinstance(node, dict) and "impl" not in node:
            options = plugin_config_options(slot=key)
            how = (" or ".join(options) if options else
                   f"+{key}.impl=<{'|'.join(sorted(registry[key]))}> and every parameter as +{key}.<name>=")
            raise ConfigError(f"{key}: mechanism slot not active, so its parameters cannot be set; activate it "
                              f"first with {how}")
        if not (isinstance(node, dict) and "impl" in node):
            raise ConfigError(f"{key}: unknown key; top-level keys are "
                              f"{', '.join(sorted(known | set(registry)))}")
        if key not in registry:
            raise ConfigError(f"{key}: no such mechanism slot; available slots: "
                              f"{', '.join(sorted(registry))}")
        impls = registry[key]
        name = node["impl"]
        if not isinstance(name, str) or name not in impls:
            raise ConfigError(f"{key}.impl: no such mechanism {name!r}; available: "
                              f"{', '.join(sorted(impls))}")
        info = impls[name]
        values = {k: v for k, v in node.items() if k != "impl"}
        allowed = set(info.cls.Params.__dataclass_fields__)
        extra = sorted(set(values) - allowed)
        if extra:
            raise ConfigError(f"{key}.{extra[0]}: not a parameter of {key}.impl={name} (its parameters: "
                              f"{', '.join(sorted(allowed)) or 'none'}); to switch implementation "
                              f"with its own parameters use {key}=<option>")
        active[key] = ActiveMechanism(info, build(info.cls.Params, values, key))
        check_hooks(info)
    missing = [slot for slot in CORE_SLOTS if slot not in active]
    if missing:
        raise ConfigError(f"{missing[0]}: mechanism slot not configured; "
                          f"set {missing[0]}.impl to one of {', '.join(sorted(registry.get(missing[0], {})))}")
    return active


def _listing(registry: dict[str, dict[str, MechanismInfo]]) -> str:
    return "; ".join(f"{slot}: {', '.join(sorted(impls))}" for slot, impls in sorted(registry.items()))


def _check_relations(s: Settings) -> None:
    """Rules that involve more than one key (the seed's and the model's consistency)."""
    total = s.context.r_fixed0 + s.context.r_insu + s.iexp
    if total >= 1:
        raise ConfigError(f"iexp: context.r_fixed0 + context.r_insu + iexp must be < 1 "
                          f"(eq. 4's denominator), got {s.context.r_fixed0:g} + "
                          f"{s.context.r_insu:g} + {s.iexp:g} = {total:g}")
    sup = s.suppliers
    if not sup.s1.scale >= sup.s2.scale >= sup.s3.scale:
        raise ConfigError(f"suppliers: scales must satisfy s1 >= s2 >= s3, got "
                          f"{sup.s1.scale:g}, {sup.s2.scale:g}, {sup.s3.scale:g}")
    if sup.s1.count + sup.s2.count + sup.s3.count == 0:
        raise ConfigError("suppliers: at least one supplier is needed, got 0 in s1, s2 and s3")
    if s.servers.ts.count + s.servers.es.count == 0:
        raise ConfigError("servers: at least one server is needed, got 0 TS and 0 ES")
    if s.context.rebate > s.context.tax:
        raise ConfigError(f"context.rebate: must be <= context.tax ({s.context.tax:g}), "
                          f"got {s.context.rebate:g}")
    n_eff = (sup.s1.scale * sup.s1.count + sup.s2.scale * sup.s2.count
             + sup.s3.scale * sup.s3.count) / sup.s3.scale
    cost = equations.cluster_marginal_cost(s.market.c0, n_eff)
    if s.market.a <= cost:
        raise ConfigError(f"market.a: must exceed the base-year cluster marginal cost "
                          f"c0/N^(1/3) = {cost:g} (else eq. 1 gives no output), got {s.market.a:g}")
    for slot, mechanism in s.mechanisms.items():
        try:
            mechanism.info.cls.check(mechanism.params, s, slot)
        except ConfigError:
            raise
        except Exception as exc:
            info = mechanism.info
            raise PluginError(f"mechanism {slot}={info.name} from plugin {info.plugin!r} ({info.distribution} "
                              f"{info.version}) failed in check(): {type(exc).__name__}: {exc}") from None
