"""Entry, expansion and exit: the cluster's population follows its profits.

The seed's suppliers "adjust the scale or exit the market according to [their] own
attributes", and the context agent "adds supplier and server agents", with no rule
given. Ours (docs/ODD.md, "Entry, expansion and exit"), on last year's results:
profitable suppliers grow a scale class, loss-makers shrink one, and a supplier
exits when its funds run out or after ``exit_patience`` loss years in a row;
entrants arrive in proportion to the cluster's profit rate. Servers enter likewise
per kind and exit when their funds run out; an entrant server enters at its kind's
current mean escape degree (it enters under the regime the government has brought
the sector to).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import safe_ratio
from ccframe.modes import ES, TS
from ccframe.params import bounded, fraction


@dataclass(frozen=True)
class ProfitParams:
    """Parameters of profit-driven entry, expansion and exit."""

    entry_rate: float = bounded(0, 100, doc="expected supplier entrants per incumbent per unit of profit rate")
    exit_patience: int = bounded(1, 100, doc="consecutive loss years after which a supplier exits")
    expand_threshold: float = bounded(-1, 1, doc="profit rate above which a supplier may grow a class")
    expand_prob: float = fraction("yearly probability that an eligible supplier grows a class")
    shrink_prob: float = fraction("yearly probability that a loss-making supplier shrinks a class")
    server_entry_rate: float = bounded(0, 100, doc="expected server entrants per incumbent per unit of profit rate")


class ProfitLifecycle(Mechanism):
    """Profit-driven entry, scale change and exit of suppliers and servers."""

    slot = "lifecycle"
    name = "profit"
    Params = ProfitParams

    @hookimpl
    def ccframe_setup(self, model) -> None:
        self.entered = self.exited = 0

    @hookimpl
    def ccframe_enter_expand_exit(self, model, year: int) -> None:
        self.entered = self.exited = 0
        self._suppliers(model)
        self._servers(model)

    def _suppliers(self, model) -> None:
        sup, p, rng, s = model.suppliers, self.params, model.rng, model.settings.suppliers
        rows = sup.active_rows()
        profit, revenue = sup["profit"][rows], sup["revenue"][rows]
        losing = profit < 0
        sup["loss_years"][rows] = np.where(losing, sup["loss_years"][rows] + 1, 0)

        rate = np.divide(profit, revenue, out=np.full(rows.size, -1.0), where=revenue > 0)
        classes = sup["scale_class"][rows]
        grow = (rate > p.expand_threshold) & (classes > 1) & (rng.random(rows.size) < p.expand_prob)
        shrink = losing & (classes < 3) & (rng.random(rows.size) < p.shrink_prob)
        classes = classes - grow + shrink
        scales = np.array([0.0, s.s1.scale, s.s2.scale, s.s3.scale])
        sup["scale_class"][rows] = classes
        sup["scale"][rows] = scales[classes]

        gone = rows[(sup["funds"][rows] < 0) | (sup["loss_years"][rows] >= p.exit_patience)]
        model.remove_suppliers(gone)
        self.exited += gone.size

        cluster_rate = safe_ratio(profit.sum(), revenue.sum())
        expected = p.entry_rate * rows.size * max(0.0, cluster_rate) if np.isfinite(cluster_rate) else 0.0
        count = int(rng.poisson(expected))
        if count:
            remaining = sup.active_rows()
            t_r = sup["reproduction_time"][remaining].mean() if remaining.size else s.reproduction_time0
            model.add_suppliers(count, scale_class=3, scale=s.s3.scale, funds=s.funds0,
                                reproduction_time=t_r, mode=0)
            self.entered += count

    def _servers(self, model) -> None:
        sv, p, rng = model.servers, self.params, model.rng
        rows = sv.active_rows()
        broke = rows[sv["funds"][rows] < 0]
        model.remove_servers(broke)
        for kind, cfg in ((TS, model.settings.servers.ts), (ES, model.settings.servers.es)):
            own = rows[sv["kind"][rows] == kind]
            rate = safe_ratio(sv["profit"][own].sum(), sv["revenue"][own].sum())
            expected = p.server_entry_rate * own.size * max(0.0, rate) if np.isfinite(rate) else 0.0
            count = int(rng.poisson(expected))
            if count:
                escaping = sv["escape"][own].mean()  # the kind's current practice (after this year's supervision)
                model.add_servers(count, kind=kind, vision=cfg.vision0, funds=cfg.funds0,
                                  transport_time=sv["transport_time"][own].mean(), escape=escaping)

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        return {"supplier_entrants": float(self.entered), "supplier_exits": float(self.exited)}


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(ProfitLifecycle)
