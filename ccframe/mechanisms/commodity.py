"""Commodity circulation: Cournot production under decreasing cluster cost, and matching.

From the seed: output and price by eqs. (1)-(3) each year; goods flow supplier ->
server -> overseas customer, and only what is matched is sold (O' <= O).
Our assumptions (docs/ODD.md, "Commodity circulation"): the demand space, partner
choice in proportion to what a server can sell, capacity limits, market saturation
(customers who bought leave the demand space), and the production cost's dependence
on reproduction time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ccframe import equations
from ccframe.demand import DemandView
from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import safe_ratio
from ccframe.modes import ES, TS
from ccframe.params import bounded


@dataclass(frozen=True)
class CournotParams:
    """Parameters of Cournot commodity circulation."""

    reproduction_cost_elasticity: float = bounded(
        0, 10, doc="unit cost = c * (t_r / t_r0)^k: faster reproduction, cheaper output")
    demand_pass_through: float = bounded(
        0, 5, doc="the market the cluster reaches, R_t = (visible demand_t / visible demand_0)^k")
    reach_in_price: float = bounded(
        0, 1, doc="share s of the reach in the price: a_t = a_0 R_t^s (buyers pay more), b_t = b_0 / R_t^(1-s) "
                  "(more buyers)")
    saturation: float = bounded(
        0, 1, doc="share of the customers a server sold to who leave its cells' demand (durable goods)")


class CournotCommodity(Mechanism):
    """The seed's commodity circulation mechanism (eqs. 1-3) with demand-space matching."""

    slot = "commodity"
    name = "cournot"
    Params = CournotParams

    @hookimpl
    def ccframe_setup(self, model) -> None:
        self.base_output: float | None = None
        self.base_visible = float(self._view(model).visible().sum())
        self.visible = np.zeros(0)
        self.view: DemandView | None = None

    @hookimpl
    def ccframe_update_context(self, model, year: int) -> None:
        """Overseas demand grows and every cell takes a mean-one log-normal shock."""
        m = model.settings.market
        shock = model.rng.lognormal(-0.5 * m.volatility**2, m.volatility, model.demand.grid.shape)
        shock *= 1.0 + m.growth  # in place: one grid-sized array fewer a year
        model.demand.scale(shock)

    @hookimpl
    def ccframe_produce(self, model, year: int) -> None:
        """Eqs. (1)-(3) on the market the servers reach: output, price and unit cost.

        The inverse demand follows the demand visible to the cluster's servers (our
        assumption: it is the demand the cluster can reach), by raising its intercept a
        (what buyers pay) or lowering its slope b (how many buy), in the shares
        ``reach_in_price`` and 1 − ``reach_in_price``; the servers' windows and the visible
        demand computed here are reused by matching in the same year. Where the market no
        longer covers the cluster's marginal cost (a <= c) or the servers reach no demand at
        all (R = 0), eq. 2's output is not positive and every supplier exits: the cluster dies
        out (docs/ODD.md 3.3.6).
        """
        sup, market = model.suppliers, model.market
        rows = sup.active_rows()
        self.view = self._view(model)
        self.visible = self.view.visible()
        reach = (self.visible.sum() / self.base_visible) ** self.params.demand_pass_through
        market.a = model.settings.market.a * reach ** self.params.reach_in_price
        market.b = model.settings.market.b / reach ** (1.0 - self.params.reach_in_price) if reach > 0 else math.inf
        s3 = model.settings.suppliers.s3.scale
        market.n_eff = equations.effective_suppliers(sup["scale"][rows], s3)
        market.marginal_cost = equations.cluster_marginal_cost(market.c0, market.n_eff)
        market.price = equations.market_price(market.a, market.c0, market.n_eff)
        if market.a <= market.marginal_cost or reach == 0:  # eq. 2's output would not be positive
            model.remove_suppliers(rows)
            return
        output = equations.supplier_output(sup["scale"][rows] / s3, market.a, market.b,
                                           market.c0, market.n_eff)
        sup["output"][rows] = output
        learning = (sup["reproduction_time"][rows] / model.settings.suppliers.reproduction_time0)
        unit_cost = market.marginal_cost * learning ** self.params.reproduction_cost_elasticity
        fixed = model.settings.suppliers.fixed_cost * sup["scale"][rows] / s3
        sup["cost"][rows] = output * unit_cost + fixed

    @hookimpl
    def ccframe_match_supply_demand(self, model, year: int) -> None:
        """Servers sell min(supply, price-adjusted visible demand, capacity); suppliers share it.

        A server serves ``demand_access`` times what it sees (1 unless a plugin, such as
        demand personalisation, lowers it or moves demand to the server). The share ``saturation`` of the
        customers it sold to then leave the cells it sees (the market saturates).
        """
        sup, sv = model.suppliers, model.servers
        m = model.settings.market
        servers = sv.active_rows()
        price_response = (sv["cif"][servers] / m.reference_price) ** -m.price_elasticity
        demand = self.visible * sv["demand_access"][servers] * price_response
        capacity = model.capacities(servers)
        sellable = np.minimum(demand, capacity)
        sv["demand"][servers], sv["capacity"][servers] = demand, capacity

        suppliers = sup.active_rows()
        modes = sup["mode"][suppliers]
        partner = np.full(suppliers.size, -1)
        for kind in (TS, ES):
            choosers = np.flatnonzero(modes == kind)
            offered = sv["kind"][servers] == kind
            partner[choosers] = _assign(sup["output"][suppliers[choosers]], servers[offered],
                                        sellable[offered], model.rng)
        sup["partner"][suppliers] = partner

        matched = partner >= 0
        supply = np.zeros(sv.size)
        np.add.at(supply, partner[matched], sup["output"][suppliers][matched])
        sold = np.minimum(supply[servers], sellable)
        sv["supply"][servers], sv["sold"][servers] = supply[servers], sold
        through = np.zeros(sv.size)
        through[servers] = np.divide(sold, supply[servers], out=np.zeros_like(sold),
                                     where=supply[servers] > 0)
        sup["sold"][suppliers] = np.where(matched, sup["output"][suppliers] * through[partner], 0.0)
        served = np.divide(sold, self.visible, out=np.zeros_like(sold), where=self.visible > 0)
        self.view.deplete(np.minimum(self.params.saturation * served, 1.0))
        self.view = None  # the year's windows are done with; a grid-sized array less between years

    @staticmethod
    def _view(model) -> DemandView:
        """The active servers' windows on the demand space (shared cells split among them)."""
        sv = model.servers
        rows = sv.active_rows()
        return model.demand.view(sv["x"][rows], sv["y"][rows], sv["vision"][rows])

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        sup, market = model.suppliers, model.market
        rows = sup.active_rows()
        output = float(sup["output"][rows].sum())
        if self.base_output is None:
            self.base_output = output
        sold = sup["sold"][rows]
        es = sup["mode"][rows] == ES
        classes = sup["scale_class"][rows]
        return {
            "output": output,
            "output_index": output / self.base_output,
            "price": market.price,
            "demand_intercept": market.a,
            "demand_slope": market.b,
            "marginal_cost": market.marginal_cost,
            "n_effective": market.n_eff,
            "sold": float(sold.sum()),
            "sell_through": safe_ratio(sold.sum(), output),
            "cbec_share": safe_ratio(sold[es].sum(), sold.sum()),
            "n_suppliers": float(rows.size),
            "n_suppliers_s1": float((classes == 1).sum()),
            "n_suppliers_s2": float((classes == 2).sum()),
            "n_suppliers_s3": float((classes == 3).sum()),
            "n_suppliers_es": float(es.sum()),
        }


def _assign(output: np.ndarray, servers: np.ndarray, sellable: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Each supplier's partner server, giving servers supply in proportion to what they can sell.

    Systematic allocation: suppliers in random order are laid end to end by output,
    servers in random order by sellable volume scaled to the same total; a supplier
    goes to the server under the midpoint of its stretch. Every server gets its share
    to within one supplier's output, vectorised (our assumption: suppliers find the
    servers with unmet orders). Returns -1 where no server of the kind can sell.
    """
    if output.size == 0:
        return np.zeros(0, dtype=np.int64)
    if servers.size == 0 or sellable.sum() <= 0:
        return np.full(output.size, -1)
    supplier_order, server_order = rng.permutation(output.size), rng.permutation(servers.size)
    midpoints = np.cumsum(output[supplier_order]) - 0.5 * output[supplier_order]
    bounds = np.cumsum(sellable[server_order]) * (output.sum() / sellable.sum())
    slot = np.minimum(np.searchsorted(bounds, midpoints), servers.size - 1)
    partner = np.empty(output.size, dtype=np.int64)
    partner[supplier_order] = servers[server_order][slot]
    return partner


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(CournotCommodity)
