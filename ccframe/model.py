"""The agent-based collaboration model of a CBEC service cluster and a manufacturing cluster.

Source: the simulation seed (``shared/seeds/003_03355800c510a481.txt``): supplier,
server (TS and ES) and context agents, and four interaction mechanisms (commodity
circulation, eqs. 1-3; fund circulation, eqs. 4-6; information-driven, eqs. 7-10;
technological innovation, eqs. 11-12). The model itself only holds state and runs
the year's phases in order; every rule lives in a mechanism plugin chosen by config
(see :mod:`ccframe.hookspecs` and docs/ODD.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import mesa
import numpy as np

from ccframe import equations
from ccframe.agents import Context, RowViews, Server, Supplier
from ccframe.demand import DemandSpace
from ccframe.errors import MechanismError, ModelError
from ccframe.modes import ES, MODES, TS
from ccframe.plugins import blame, new_plugin_manager
from ccframe.settings import Settings
from ccframe.table import AgentTable

SUPPLIER_COLUMNS = {
    "scale_class": np.int8, "scale": float, "funds": float, "mode": np.int8,
    "partner": np.int64, "reproduction_time": float, "output": float, "sold": float,
    "revenue": float, "cost": float, "profit": float, "loss_years": np.int16,
    "entry_year": np.int16,
}
SERVER_COLUMNS = {
    "kind": np.int8, "x": np.int64, "y": np.int64, "vision": float, "escape": float,
    "transport_time": float, "capacity": float, "funds": float,
    "variable_cost": float, "cif": float, "demand": float, "supply": float, "sold": float,
    "revenue": float, "cost": float, "profit": float, "entry_year": np.int16,
    "demand_access": float, "price_premium": float,
}
EVOLUTION_PHASES = ("ccframe_update_context", "ccframe_progress_technology",
                    "ccframe_enter_expand_exit", "ccframe_choose_export_mode")
OPERATING_PHASES = ("ccframe_produce", "ccframe_quote_prices",
                    "ccframe_match_supply_demand", "ccframe_settle_funds")


@dataclass
class MarketState:
    """The cluster's market this year: the seed's a, b, c0 and what eqs. 1-3 give."""

    a: float
    b: float
    c0: float
    n_eff: float = math.nan
    marginal_cost: float = math.nan
    price: float = math.nan


class CoevolutionModel(mesa.Model):
    """One replicate of the collaboration model, configured by validated :class:`Settings`.

    Args:
        settings: the run's validated settings (see :func:`ccframe.settings.validate`).
        seed: the replicate's seed; an int or a ``numpy.random.SeedSequence``. All
            randomness goes through ``self.rng``.

    """

    def __init__(self, settings: Settings, seed: int | np.random.SeedSequence = 0) -> None:
        super().__init__(rng=np.random.SeedSequence(seed) if isinstance(seed, int) else seed)
        self.settings = settings
        self.year = 0
        self.records: list[dict[str, float]] = []
        self.metric_sources: dict[str, str] = {"collapsed": "model"}  # metric -> "slot=impl" reporting it
        self.collapsed_in: int | None = None  # the year the cluster died out (see step)
        self.suppliers = AgentTable(SUPPLIER_COLUMNS)
        self.servers = AgentTable(SERVER_COLUMNS)
        self._views = (RowViews(self, "suppliers", Supplier), RowViews(self, "servers", Server))
        m = settings.market
        self.market = MarketState(a=m.a, b=m.b, c0=m.c0)
        self.context = Context(self)
        self.demand = DemandSpace.hotspots(m.grid_size, m.hotspots, m.hotspot_radius, self.rng)
        self._populate()
        self._mechanisms = self._activate_mechanisms()
        self._call("ccframe_setup", model=self)

    # ------------------------------------------------------------------ population

    def _populate(self) -> None:
        s = self.settings
        for scale_class, cls in enumerate((s.suppliers.s1, s.suppliers.s2, s.suppliers.s3), start=1):
            ratio = cls.scale / s.suppliers.s3.scale
            self.add_suppliers(cls.count, scale_class=scale_class, scale=cls.scale,
                               funds=s.suppliers.funds0 * ratio,
                               reproduction_time=s.suppliers.reproduction_time0,
                               mode=self.rng.random(cls.count) < s.suppliers.cbec_share0)
        for kind, cfg in ((TS, s.servers.ts), (ES, s.servers.es)):
            self.add_servers(cfg.count, kind=kind, vision=cfg.vision0, escape=cfg.escape0,
                             transport_time=cfg.transport_time0,
                             funds=cfg.funds0)
        self._normalise_demand()

    def _normalise_demand(self) -> None:
        """Scale demand so servers see ``market.coverage`` times the base-year output (eq. 1)."""
        rows = self.servers.active_rows()
        sv = self.servers
        seen = self.demand.visible(sv["x"][rows], sv["y"][rows], sv["vision"][rows]).sum()
        n_eff = equations.effective_suppliers(self.suppliers["scale"][self.suppliers.active_rows()],
                                              self.settings.suppliers.s3.scale)
        m = self.settings.market
        output0 = equations.cluster_output(m.a, m.b, m.c0, n_eff)
        self.demand.scale(m.coverage * output0 / seen)

    def add_suppliers(self, count: int, **values) -> np.ndarray:
        """Add ``count`` suppliers (columns given as scalars or arrays); returns their rows."""
        return self.suppliers.add(count, entry_year=self.year, **values)

    def remove_suppliers(self, rows: np.ndarray) -> None:
        """Take suppliers out of the model (exit); their rows keep their last values."""
        self.suppliers.deactivate(rows)

    def add_servers(self, count: int, **values) -> np.ndarray:
        """Add ``count`` servers at demand-weighted observation locations; returns their rows."""
        if "x" not in values:
            values["x"], values["y"] = self.demand.sample_locations(count, self.rng)
        values.setdefault("demand_access", 1.0)
        return self.servers.add(count, entry_year=self.year, **values)

    def remove_servers(self, rows: np.ndarray) -> None:
        """Take servers out of the model; suppliers re-match among the rest next year."""
        self.servers.deactivate(rows)

    # ------------------------------------------------------------------ Mesa agent views

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """All agents as Mesa's AgentSet; supplier and server views are brought up to date first."""
        self._sync_views()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        """Mesa's AgentSet per agent class, views up to date (see :class:`ccframe.agents.RowViews`)."""
        self._sync_views()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """The agent classes in the model (Supplier and Server once any is viewed)."""
        self._sync_views()
        return super().agent_types

    def _sync_views(self) -> None:
        for views in getattr(self, "_views", ()):  # Mesa reads these before __init__ ends
            views.sync()

    def transaction_times(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Transport plus customs time per server (eq. 11's summand).

        Customs: T_co (eq. 10) for shipments under supervision; an escaping CBEC
        shipment clears in ``context.t_co_escape`` (our assumption, see ODD). A server
        escaping with degree e (the share of its operations outside supervision, eq. 8)
        takes e·t_co_escape + (1 − e)·T_co.
        """
        sv = self.servers
        rows = sv.active_rows() if rows is None else rows
        escape = sv["escape"][rows]
        customs = escape * self.settings.context.t_co_escape + (1.0 - escape) * self.context.t_co
        return sv["transport_time"][rows] + customs

    def capacities(self, rows: np.ndarray) -> np.ndarray:
        """Units per year each server can handle: its kind's capacity, scaled by speed.

        A server handles ``capacity`` units a year at its kind's year-0 supervised
        transaction time (``transport_time0 + t_co0``) and proportionally more when
        faster (our assumption: throughput is inverse to time per transaction).
        """
        s, sv = self.settings, self.servers
        ts, es = s.servers.ts, s.servers.es
        is_es = sv["kind"][rows] == ES
        base = np.where(is_es, es.capacity, ts.capacity)
        reference = np.where(is_es, es.transport_time0, ts.transport_time0) + s.context.t_co0
        return base * reference / self.transaction_times(rows)

    # ------------------------------------------------------------------ mechanisms

    def _activate_mechanisms(self):
        pm = new_plugin_manager()
        active = list(self.settings.mechanisms.items())
        for slot, mechanism in reversed(active):  # pluggy calls last-registered first
            pm.register(mechanism.instantiate(), name=f"{slot}={mechanism.info.name}")
        self._pm = pm
        return {slot: pm.get_plugin(f"{slot}={m.info.name}") for slot, m in active}

    def mechanism(self, slot: str):
        """The active mechanism object filling ``slot``."""
        return self._mechanisms[slot]

    def _call(self, hook_name: str, **kwargs):
        return self._guarded(hook_name, lambda: getattr(self._pm.hook, hook_name)(**kwargs))

    def _guarded(self, hook_name: str, call):
        """Run ``call``; a plugin's exception becomes a MechanismError naming it, its hook and the year."""
        try:
            return call()
        except (MechanismError, ModelError):
            raise
        except Exception as exc:
            culprit = blame(self._pm, hook_name, exc) or "unknown"
            plugin = self.settings.mechanisms.get(culprit.split("=")[0])
            info = plugin.info if plugin else None
            origin = f" from plugin {info.plugin} ({info.distribution} {info.version})" if info else ""
            raise MechanismError(f"mechanism {culprit}{origin} failed in {hook_name} "
                                 f"in year {self.year}: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ the year

    def step(self) -> None:
        """Simulate one year: evolution phases (from year 1), operating phases, metrics.

        A cluster left without suppliers or without servers has died out: from that year on
        nothing runs and every metric but ``collapsed`` (1 from then, 0 before) is NaN, so
        replicate summaries average over the clusters still alive and ``collapsed`` gives the
        share that died (our assumption, docs/ODD.md "Collapse").
        """
        if self.collapsed_in is None:
            self._live_year()
        if self.collapsed_in is None:
            self._check_state()
            self.records.append(self._collect())
        else:
            last = self.records[-1] if self.records else {}
            self.records.append({**dict.fromkeys(last, math.nan), "year": float(self.year), "collapsed": 1.0})
        self.year += 1

    def _live_year(self) -> None:
        """The phases of a year of a living cluster, up to the point where it dies out.

        It dies out when, after entry and exit or any operating phase (production, say, where
        the market no longer covers the cost), no supplier or no server is left.
        """
        if self.year > 0:
            for phase in EVOLUTION_PHASES:
                self._call(phase, model=self, year=self.year)
        for phase in (*OPERATING_PHASES, None):  # None: the check after the last phase
            if not (self.suppliers.active_rows().size and self.servers.active_rows().size):
                self.collapsed_in = self.year
                return
            if phase is not None:
                self._call(phase, model=self, year=self.year)

    def _collect(self) -> dict[str, float]:
        """The year's record; each metric's reporting mechanism is kept in :attr:`metric_sources`."""
        row: dict[str, float] = {"year": float(self.year), "collapsed": 0.0}
        kwargs = {"model": self, "year": self.year}
        for impl in reversed(self._pm.hook.ccframe_collect_metrics.get_hookimpls()):  # pluggy's call order
            call = partial(impl.function, *(kwargs[name] for name in impl.argnames))
            for name, value in (self._guarded("ccframe_collect_metrics", call) or {}).items():
                source = impl.plugin_name
                if name in row:
                    raise MechanismError(f"metric {name!r} reported by both {self.metric_sources[name]} and "
                                         f"{source} in year {self.year}")
                row[name] = _metric_value(value, f"mechanism {source}: metric {name!r} in year {self.year}")
                self.metric_sources[name] = source
        return row

    def run(self, years: int | None = None) -> list[dict[str, float]]:
        """Run the base year and ``years`` more (default: ``settings.years``); return the records."""
        for _ in range((self.settings.years if years is None else years) + 1):
            self.step()
        return self.records

    def _check_state(self) -> None:
        """Stop at the first undefined quantity rather than carry NaN into the results.

        Checks the market price (eq. 3), each server kind's CIF price (eq. 4; a non-positive
        denominator makes it negative or infinite) and every agent column for NaN or inf.
        """
        self.require(math.isfinite(self.market.price) and self.market.price > 0,
                     f"supplier: market price P = {self.market.price:g} is not positive (eq. 3)")
        sv = self.servers
        rows = sv.active_rows()
        for kind, label in ((TS, "TS server"), (ES, "ES server")):
            cif = sv["cif"][rows[sv["kind"][rows] == kind]]
            bad = ~np.isfinite(cif) | (cif <= 0)
            self.require(not bad.any(), f"{label}: CIF price {cif[bad][0] if bad.any() else 0:g} is not "
                         f"positive in {int(bad.sum())} agents (eq. 4: is 1 - R_fixed - R_insu - I_exp <= 0?)")
        for table, label in ((self.suppliers, "supplier"), (sv, "server")):
            active = table.active_rows()
            for column in table.columns:
                values = table[column][active]
                if values.dtype.kind == "f" and not np.isfinite(values).all():
                    who = label
                    if table is sv:
                        kinds = {MODES[k] for k in sv["kind"][active][~np.isfinite(values)]}
                        who = "/".join(sorted(kinds)) + " server"
                    self.require(False, f"{who}: {column} is NaN or infinite in "
                                 f"{int((~np.isfinite(values)).sum())} agents")

    def require(self, ok: bool, what: str) -> None:
        """Raise :class:`ModelError` naming the year when a model quantity leaves its domain."""
        if not ok:
            raise ModelError(f"year {self.year}: {what}")


def _metric_value(value: object, what: str) -> float:
    """A reported metric as a float: finite, or NaN where undefined (anything else is the mechanism's error)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MechanismError(f"{what} is {value!r}, not a number") from None
    if math.isinf(number):
        raise MechanismError(f"{what} is {number}; metrics must be finite (NaN where undefined)")
    return number
