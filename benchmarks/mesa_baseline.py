"""ccframe's default rules written as a plain per-agent Mesa model: the baseline of BENCHMARKS.md.

Every supplier and server is an ordinary ``mesa.Agent`` keeping its state in attributes,
and each phase of a year loops over ``model.agents_by_type[...]`` in Python, the way a
Mesa model is usually written. The rules are those of ccframe's built-in mechanisms
(commodity=cournot, fund=cif, information=vision, technology=learning,
export_choice=logit, lifecycle=profit) with the same validated settings. The demand
space is an environment, not an agent: it uses the same NumPy grid (``ccframe.demand``),
and each server sums its own window of it.

Each agent draws its random numbers from the model's ``rng`` in the order ccframe's
vectorised code draws them, so both implementations follow the same trajectory and
``tests/test_benchmarks.py`` can check that this baseline computes what ccframe
computes (up to floating-point summation order).

    python -m benchmarks.mesa_baseline 1000 --years 10    # suppliers; prints agent-years/s
"""

from __future__ import annotations

import argparse
import math
import time

import mesa
import numpy as np

from ccframe.demand import DemandSpace
from ccframe.settings import Settings

TS, ES = 0, 1
RULES = {"commodity": "cournot", "fund": "cif", "information": "vision",
         "technology": "learning", "export_choice": "logit", "lifecycle": "profit"}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _sum(values) -> float:
    """Sum as NumPy rounds it (pairwise), not as ``sum()`` does.

    Where a total decides a discrete outcome (which server a supplier's midpoint falls
    under, and suppliers of equal output often sit exactly on a bound), a last-bit
    difference would send the baseline down another path than ccframe.
    """
    return float(np.sum(list(values)))


class Supplier(mesa.Agent):
    """A manufacturer with its state as attributes."""

    def __init__(self, model: BaselineModel, scale_class: int, scale: float, funds: float,
                 reproduction_time: float, mode: int) -> None:
        super().__init__(model)
        self.scale_class, self.scale, self.funds = scale_class, scale, funds
        self.reproduction_time, self.mode = reproduction_time, mode
        self.entry_year = model.year
        self.output = self.sold = self.revenue = self.cost = self.profit = 0.0
        self.loss_years = 0
        self.partner: Server | None = None


class Server(mesa.Agent):
    """A TS or ES service provider with its state as attributes."""

    def __init__(self, model: BaselineModel, kind: int, x: int, y: int, vision: float,
                 escape: float, transport_time: float, funds: float) -> None:
        super().__init__(model)
        self.kind, self.x, self.y, self.vision, self.escape = kind, x, y, vision, escape
        self.transport_time, self.funds = transport_time, funds
        self.visible = self.cif = self.variable_cost = self.sellable = 0.0
        self.supply = self.sold = self.revenue = self.cost = self.profit = 0.0

    def windows(self) -> tuple[tuple[float, tuple[slice, slice]], ...]:
        """The demand cells this server observes, as (weight, square) pairs (``vision`` cells, clipped).

        Its inner odd square at weight 1 - w and the square one cell wider at w, w the share of
        the ring between them that makes ``vision`` cells in all (ccframe's fractional edge).
        """
        vision = max(self.vision, 1.0)
        half = math.floor((math.sqrt(vision) - 1.0) / 2.0)
        ring = min(max((vision - (2 * half + 1) ** 2) / (8.0 * (half + 1)), 0.0), 1.0)
        return (1.0 - ring, self._square(half)), (ring, self._square(half + 1))

    def _square(self, half: int) -> tuple[slice, slice]:
        """The cells within ``half`` of the observation location, clipped at the grid's edge."""
        last = self.model.demand.size - 1
        return (slice(min(max(self.x - half, 0), last), min(self.x + half, last) + 1),
                slice(min(max(self.y - half, 0), last), min(self.y + half, last) + 1))

    def transaction_time(self) -> float:
        """Transport plus customs time."""
        ctx = self.model
        customs = self.escape * self.model.settings.context.t_co_escape + (1.0 - self.escape) * ctx.t_co
        return self.transport_time + customs

    def capacity(self) -> float:
        """Units a year this server can handle at its current speed."""
        s = self.model.settings
        kind = s.servers.es if self.kind == ES else s.servers.ts
        return kind.capacity * (kind.transport_time0 + s.context.t_co0) / self.transaction_time()


class BaselineModel(mesa.Model):
    """One replicate of ccframe's default model, agent by agent."""

    def __init__(self, settings: Settings, seed: int | np.random.SeedSequence = 0) -> None:
        super().__init__(rng=np.random.SeedSequence(seed) if isinstance(seed, int) else seed)
        for slot, name in RULES.items():
            if settings.mechanisms[slot].info.name != name:
                raise ValueError(f"{slot}: the baseline implements {name!r}, "
                                 f"got {settings.mechanisms[slot].info.name!r}")
        self.settings, self.year, self.records = settings, 0, []
        self.collapsed_in: int | None = None
        self.p = {slot: m.params for slot, m in settings.mechanisms.items()}
        s, m = settings, settings.market
        self.a, self.b, self.t_co, self.r_fixed = m.a, m.b, s.context.t_co0, s.context.r_fixed0
        self.demand = DemandSpace.hotspots(m.grid_size, m.hotspots, m.hotspot_radius, self.rng)
        for scale_class, cls in enumerate((s.suppliers.s1, s.suppliers.s2, s.suppliers.s3), start=1):
            for _ in range(cls.count):
                Supplier(self, scale_class, cls.scale, s.suppliers.funds0 * (cls.scale / s.suppliers.s3.scale),
                         s.suppliers.reproduction_time0, int(self.rng.random() < s.suppliers.cbec_share0))
        for kind, cfg in ((TS, s.servers.ts), (ES, s.servers.es)):
            self._add_servers(kind, cfg, cfg.count, cfg.transport_time0, cfg.escape0)
        self._see_demand()
        output0 = self.n_eff() * (m.a - self.c()) / (m.b * (self.n_eff() + 1.0))
        self.demand.scale(m.coverage * output0 / _sum(sv.visible for sv in self.servers()))
        self.base_visible = self._see_demand()
        p = self.p["technology"]
        speed = (p.freight_reference / s.ctrans) ** p.freight_speed_elasticity
        for sv in self.servers():
            sv.transport_time = max(sv.transport_time * speed, p.transport_time_min)
        self.entered = self.exited = 0
        self.agent_years = 0

    def _add_servers(self, kind: int, cfg, count: int, transport_time: float, escape: float) -> None:
        xs, ys = self.demand.sample_locations(count, self.rng)
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            Server(self, kind, x, y, cfg.vision0, escape, transport_time, cfg.funds0)

    def suppliers(self):
        """The active suppliers, in order of entry."""
        return self.agents_by_type.get(Supplier, ())

    def servers(self):
        """The active servers, in order of entry."""
        return self.agents_by_type.get(Server, ())

    def n_eff(self) -> float:
        """Eq. 1's N: small-supplier equivalents."""
        return _sum(sp.scale for sp in self.suppliers()) / self.settings.suppliers.s3.scale

    def c(self) -> float:
        """The cluster's marginal cost c0 / N^(1/3)."""
        return self.settings.market.c0 / np.cbrt(self.n_eff())

    def _see_demand(self) -> float:
        """Each server's visible demand (cells shared among the servers seeing them); the total.

        Servers mark the cells they see, then each reads its window's sum from a summed-area
        table of the shared demand: the environment's arithmetic is ccframe's, cell for cell.
        """
        size = self.demand.size
        coverage = np.zeros((size, size))
        for sv in self.servers():
            for weight, square in sv.windows():
                coverage[square] += weight
        table = np.zeros((size + 1, size + 1))
        table[1:, 1:] = (self.demand.grid / np.maximum(coverage, 1.0)).cumsum(0).cumsum(1)
        for sv in self.servers():
            sv.visible = 0.0
            for weight, (rows, cols) in sv.windows():
                x0, x1, y0, y1 = rows.start, rows.stop, cols.start, cols.stop
                sv.visible += weight * float(table[x1, y1] - table[x0, y1] - table[x1, y0] + table[x0, y0])
        return _sum(sv.visible for sv in self.servers())

    # ------------------------------------------------------------------ the year

    def step(self) -> None:
        """One year: evolution phases from year 1, then operating phases and metrics.

        A cluster left without suppliers or servers dies out: from that year its records are
        NaN but for ``collapsed`` = 1 (as ccframe's model does).
        """
        if self.collapsed_in is None:
            self._live_year()
        if self.collapsed_in is None:
            self.records.append({**self.collect(), "collapsed": 0.0})
            self.agent_years += len(self.suppliers()) + len(self.servers())
        else:
            self.records.append({**dict.fromkeys(self.records[-1] if self.records else (), math.nan),
                                 "year": float(self.year), "collapsed": 1.0})
        self.year += 1

    def _live_year(self) -> None:
        """The year's phases, up to the point where the cluster dies out."""
        if self.year > 0:
            self.update_context()
            self.progress_technology()
            self.enter_expand_exit()
            self.choose_export_mode()
        for phase in (self.produce, self.quote_prices, self.match, self.settle, None):
            if not (self.suppliers() and self.servers()):
                self.collapsed_in = self.year
                return
            if phase is not None:
                phase()

    def update_context(self) -> None:
        """Demand growth and shocks; eqs. 9-10; supervision of escaping servers; vision growth."""
        s, m, p = self.settings, self.settings.market, self.p["information"]
        self.demand.scale((1.0 + m.growth) * self.rng.lognormal(-0.5 * m.volatility**2, m.volatility,
                                                                 self.demand.grid.shape))
        self.r_fixed = (1.0 - s.beta) * self.r_fixed
        self.t_co = max(self.t_co - s.gamma, s.context.t_co_min)
        supervision = self.supervision()
        for sv in self.servers():  # gradual standardisation: a share of what still escapes
            standardised = supervision * sv.escape
            sv.escape -= standardised
            sv.funds -= p.penalty * sv.revenue * standardised
        servers, sd = list(self.servers()), p.growth_dispersion
        luck = self.rng.lognormal(-0.5 * sd**2, sd, len(servers)) if sd > 0 else np.ones(len(servers))
        for sv, draw in zip(servers, luck, strict=True):
            sv.vision *= 1.0 + (p.growth_es if sv.kind == ES else p.growth_ts) * draw
        es_visions = [sv.vision for sv in self.servers() if sv.kind == ES]
        es_mean = sum(es_visions) / len(es_visions) if es_visions else None
        cap = min(p.vision_max, self.demand.size**2)
        for sv in self.servers():
            if es_mean is not None and sv.kind == TS:
                sv.vision += p.spillover * max(es_mean - sv.vision, 0.0)
            sv.vision = min(sv.vision, cap)

    def supervision(self) -> float:
        """alpha, or 1 − (1 − alpha)^f while the CBEC share f·``supervision_share`` of last year's sales is small."""
        alpha, full = self.settings.alpha, self.p["information"].supervision_share
        sold = _sum(sv.sold for sv in self.servers())
        if full == 0 or alpha >= 1 or sold <= 0:
            return alpha
        attention = min(1.0, _sum(sv.sold for sv in self.servers() if sv.kind == ES) / sold / full)
        return 1.0 - (1.0 - alpha) ** attention

    def progress_technology(self) -> None:
        """Transport and reproduction times fall at their kind's and mode's rates."""
        p = self.p["technology"]
        for sv in self.servers():
            rate = p.transport_progress_es if sv.kind == ES else p.transport_progress_ts
            sv.transport_time = max(sv.transport_time * (1.0 - rate), p.transport_time_min)
        for sp in self.suppliers():
            rate = p.reproduction_progress_es if sp.mode == ES else p.reproduction_progress_ts
            sp.reproduction_time = max(sp.reproduction_time * (1.0 - rate), p.reproduction_time_min)

    def enter_expand_exit(self) -> None:
        """Scale changes and exit on last year's profits; profit-driven entry."""
        p, s = self.p["lifecycle"], self.settings.suppliers
        suppliers = list(self.suppliers())
        scales = (0.0, s.s1.scale, s.s2.scale, s.s3.scale)
        grow_draws = [self.rng.random() for _ in suppliers]
        shrink_draws = [self.rng.random() for _ in suppliers]
        self.entered = self.exited = 0
        profit = revenue = 0.0
        for sp, u_grow, u_shrink in zip(suppliers, grow_draws, shrink_draws, strict=True):
            profit, revenue = profit + sp.profit, revenue + sp.revenue
            sp.loss_years = sp.loss_years + 1 if sp.profit < 0 else 0
            rate = sp.profit / sp.revenue if sp.revenue > 0 else -1.0
            grow = rate > p.expand_threshold and sp.scale_class > 1 and u_grow < p.expand_prob
            shrink = sp.profit < 0 and sp.scale_class < 3 and u_shrink < p.shrink_prob
            sp.scale_class += int(shrink) - int(grow)
            sp.scale = scales[sp.scale_class]
            if sp.funds < 0 or sp.loss_years >= p.exit_patience:
                sp.remove()
                self.exited += 1
        rate = _ratio(profit, revenue)
        expected = p.entry_rate * len(suppliers) * max(0.0, rate) if math.isfinite(rate) else 0.0
        count = int(self.rng.poisson(expected))
        if count:
            left = list(self.suppliers())
            t_r = (sum(sp.reproduction_time for sp in left) / len(left) if left
                   else s.reproduction_time0)
            for _ in range(count):
                Supplier(self, 3, s.s3.scale, s.funds0, t_r, TS)
            self.entered = count

        servers = list(self.servers())
        for sv in servers:
            if sv.funds < 0:
                sv.remove()
        for kind, cfg in ((TS, self.settings.servers.ts), (ES, self.settings.servers.es)):
            own = [sv for sv in servers if sv.kind == kind]
            rate = _ratio(sum(sv.profit for sv in own), sum(sv.revenue for sv in own))
            expected = p.server_entry_rate * len(own) * max(0.0, rate) if math.isfinite(rate) else 0.0
            count = int(self.rng.poisson(expected))
            if count:
                transport = sum(sv.transport_time for sv in own) / len(own)
                escaping = sum(sv.escape for sv in own) / len(own)
                self._add_servers(kind, cfg, count, transport, escaping)

    def choose_export_mode(self) -> None:
        """Logit choice of CBEC on last year's unit revenues; entrants always choose."""
        p = self.p["export_choice"]
        totals = {TS: [0.0, 0.0], ES: [0.0, 0.0]}
        suppliers = list(self.suppliers())
        for sp in suppliers:
            if sp.output > 0:
                totals[sp.mode][0] += sp.revenue
                totals[sp.mode][1] += sp.output
        advantage = _ratio(_ratio(*totals[ES]), _ratio(*totals[TS])) - 1.0
        advantage = advantage if math.isfinite(advantage) else 0.0
        probability = 1.0 / (1.0 + math.exp(-p.sensitivity * advantage))
        reconsider_draws = [self.rng.random() for _ in suppliers]
        choice_draws = [self.rng.random() for _ in suppliers]
        for sp, u_reconsider, u_choice in zip(suppliers, reconsider_draws, choice_draws, strict=True):
            if sp.entry_year == self.year or u_reconsider < p.switch_rate:
                sp.mode = int(u_choice < probability)

    def produce(self) -> None:
        """Eqs. 1-3 on the market the servers reach; each supplier's output and cost."""
        s, p = self.settings, self.p["commodity"]
        reach = (self._see_demand() / self.base_visible) ** p.demand_pass_through
        self.a = s.market.a * reach ** p.reach_in_price
        self.b = s.market.b / reach ** (1.0 - p.reach_in_price) if reach > 0 else math.inf
        n, c = self.n_eff(), self.c()
        if self.a <= c or reach == 0:  # no market covers the cost: every supplier exits
            for sp in list(self.suppliers()):
                sp.remove()
            return
        self.price = (self.a + n * c) / (n + 1.0)
        self.marginal_cost, self.n_effective = c, n
        s3 = s.suppliers.s3.scale
        for sp in self.suppliers():
            sp.output = sp.scale / s3 * (self.a - c) / (self.b * (n + 1.0))
            unit_cost = c * (sp.reproduction_time / s.suppliers.reproduction_time0) ** p.reproduction_cost_elasticity
            sp.cost = sp.output * unit_cost + s.suppliers.fixed_cost * sp.scale / s3

    def supplier_share(self) -> float:
        """R_re: the CBEC server's expected return comes out of the pair's share."""
        return self.p["fund"].revenue_share - self.settings.iexp

    def quote_prices(self) -> None:
        """Eq. 8 variable cost and eq. 4 CIF price of each server."""
        s, p = self.settings, self.p["fund"]
        r_re = self.supplier_share()
        taxed = self.price * (1.0 - s.context.tax + s.context.rebate)
        for sv in self.servers():
            if s.alpha <= 0.0:
                sv.variable_cost = self.price
            elif s.alpha >= 1.0:
                sv.variable_cost = taxed
            else:
                escape = min(max(sv.escape, 0.0), 1.0)
                sv.variable_cost = escape * self.price + (1.0 - escape) * taxed
            iexp = s.iexp if sv.kind == ES else p.ts_iexp
            sv.cif = (sv.variable_cost + s.ctrans) / (1.0 - self.r_fixed - s.context.r_insu - iexp)
            if sv.kind == ES:  # never below the price at which paying R_re, freight and rates breaks even
                sv.cif = max(sv.cif, s.ctrans / (1.0 - self.r_fixed - s.context.r_insu - r_re))

    def match(self) -> None:
        """Servers sell what they can; suppliers of each mode are allocated to servers of that kind."""
        m = self.settings.market
        for sv in self.servers():
            demand = sv.visible * 1.0 * (sv.cif / m.reference_price) ** -m.price_elasticity
            sv.sellable = min(demand, sv.capacity())
            sv.supply = 0.0
        suppliers = list(self.suppliers())
        for kind in (TS, ES):
            self._allocate([sp for sp in suppliers if sp.mode == kind],
                           [sv for sv in self.servers() if sv.kind == kind])
        for sp in suppliers:
            if sp.partner is not None:
                sp.partner.supply += sp.output
        for sv in self.servers():
            sv.sold = min(sv.supply, sv.sellable)
        for sp in suppliers:
            sv = sp.partner
            sp.sold = sp.output * (sv.sold / sv.supply if sv.supply > 0 else 0.0) if sv else 0.0
        self._saturate()

    def _saturate(self) -> None:
        """Each server removes the share saturation * sold / visible of the customers in its window."""
        saturation = self.p["commodity"].saturation
        size = self.demand.size
        coverage, served = np.zeros((size, size)), np.zeros((size, size))
        for sv in self.servers():
            share = min(saturation * sv.sold / sv.visible, 1.0) if sv.visible > 0 else 0.0
            for weight, square in sv.windows():
                coverage[square] += weight
                served[square] += weight * share
        self.demand.grid *= np.clip(1.0 - served / np.maximum(coverage, 1.0), 0.0, 1.0)

    def _allocate(self, choosers: list[Supplier], servers: list[Server]) -> None:
        """Systematic allocation: suppliers laid end to end by output onto servers' sellable volume."""
        if not choosers:
            return
        sellable = _sum(sv.sellable for sv in servers)
        if not servers or sellable <= 0:
            for sp in choosers:
                sp.partner = None
            return
        supplier_order, server_order = self.rng.permutation(len(choosers)), self.rng.permutation(len(servers))
        factor = _sum(sp.output for sp in choosers) / sellable
        slot, bound = 0, servers[server_order[0]].sellable * factor
        cumulative_sellable, cumulative_output = servers[server_order[0]].sellable, 0.0
        for index in supplier_order.tolist():
            sp = choosers[index]
            cumulative_output += sp.output
            midpoint = cumulative_output - 0.5 * sp.output
            while bound < midpoint and slot < len(servers) - 1:
                slot += 1
                cumulative_sellable += servers[server_order[slot]].sellable
                bound = cumulative_sellable * factor
            sp.partner = servers[server_order[slot]]

    def settle(self) -> None:
        """Eq. 5 (TS) or eq. 6 (CBEC, paid late) revenue; servers keep the CIF price less costs."""
        s, p = self.settings, self.p["fund"]
        payment_factor = (1.0 + p.discount_rate) ** (-p.settlement_days / 365.0)
        r_re = self.supplier_share()
        for sp in self.suppliers():
            cif = sp.partner.cif if sp.partner is not None else 0.0
            if sp.mode == ES:
                sp.revenue = sp.sold * cif * r_re * payment_factor
            else:
                sp.revenue = sp.sold * self.price
            sp.profit = sp.revenue - sp.cost
            sp.funds += sp.profit
        for sv in self.servers():
            paid = r_re * sv.cif if sv.kind == ES else sv.variable_cost
            unit_cost = paid + s.ctrans + (self.r_fixed + s.context.r_insu) * sv.cif
            sv.revenue = sv.sold * sv.cif
            sv.cost = sv.sold * unit_cost + p.server_fixed_cost
            sv.profit = sv.revenue - sv.cost
            sv.funds += sv.profit

    def collect(self) -> dict[str, float]:
        """The year's main metrics, named as ccframe names them."""
        output = sold = sold_es = revenue_ts = revenue_es = reproduction = 0.0
        n_es = 0
        for sp in self.suppliers():
            output, sold, reproduction = output + sp.output, sold + sp.sold, reproduction + sp.reproduction_time
            if sp.mode == ES:
                sold_es, revenue_es, n_es = sold_es + sp.sold, revenue_es + sp.revenue, n_es + 1
            else:
                revenue_ts += sp.revenue
        vision = transaction = 0.0
        kinds = {TS: 0, ES: 0}
        for sv in self.servers():
            vision, transaction = vision + sv.vision, transaction + sv.transaction_time()
            kinds[sv.kind] += 1
        n_suppliers, n_servers = len(self.suppliers()), len(self.servers())
        return {"year": float(self.year), "output": output, "price": self.price,
                "n_effective": self.n_effective, "sold": sold, "cbec_share": _ratio(sold_es, sold),
                "n_suppliers": float(n_suppliers), "n_suppliers_es": float(n_es),
                "revenue_ts": revenue_ts, "revenue_es": revenue_es,
                "vision": _ratio(vision, n_servers), "transaction_time": _ratio(transaction, n_servers),
                "reproduction_time": _ratio(reproduction, n_suppliers), "r_fixed": self.r_fixed,
                "customs_time": self.t_co, "n_servers_ts": float(kinds[TS]),
                "n_servers_es": float(kinds[ES]), "supplier_entrants": float(self.entered),
                "supplier_exits": float(self.exited)}

    def run(self, years: int | None = None) -> list[dict[str, float]]:
        """The base year and ``years`` more (default: the settings'); returns the records."""
        for _ in range((self.settings.years if years is None else years) + 1):
            self.step()
        return self.records


def main() -> None:
    """Run the baseline at a size given on the command line; print its agent-years per second."""
    from benchmarks.scale import scaled_overrides
    from ccframe.runner import compose, settings_from

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suppliers", type=int)
    parser.add_argument("--years", type=int, default=10)
    options = parser.parse_args()
    settings = settings_from(compose(scaled_overrides(options.suppliers, options.years)))
    start = time.perf_counter()
    model = BaselineModel(settings, seed=0)
    model.run()
    elapsed = time.perf_counter() - start
    print(f"{model.agent_years} agent-years in {elapsed:.2f} s: {model.agent_years / elapsed:,.0f} agent-years/s")


if __name__ == "__main__":
    main()
