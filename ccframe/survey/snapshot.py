"""What a respondent of one simulated cluster can see, frozen at the survey year.

A snapshot copies the active suppliers' and servers' columns and the cluster-wide
quantities (context, market, the fund mechanism's payment terms) out of a model, so
the survey can be fielded after the run without touching the model again. It also
says how a quantity held by one kind of agent is *seen* by the other kind: a supplier
sees its partner server's value, a server the mean over its client suppliers
(docs/ODD.md, "Observation: the virtual survey").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPLIER_FIELDS = ("scale_class", "scale", "funds", "mode", "partner", "reproduction_time",
                   "output", "sold", "revenue", "cost", "profit")
SERVER_FIELDS = ("kind", "vision", "escape", "transport_time", "capacity", "demand", "supply",
                 "sold", "revenue", "profit", "cif")


@dataclass(frozen=True)
class Snapshot:
    """One cluster's respondent-visible state.

    ``suppliers`` and ``servers`` hold one array per column over the active agents;
    ``servers["transaction_time"]`` is transport + customs time (eq. 11's summand) and
    ``suppliers["partner_pos"]`` the partner's position in ``servers`` (-1: none).
    ``cluster`` holds scalars: alpha, beta, gamma, r_fixed, r_fixed0, t_co, price,
    marginal_cost, ctrans, iexp, reproduction_time0, payment_factor.
    """

    suppliers: dict[str, np.ndarray]
    servers: dict[str, np.ndarray]
    cluster: dict[str, float]
    year: int = 0

    @property
    def n_suppliers(self) -> int:
        """Active suppliers."""
        return int(self.suppliers["scale"].size)

    @property
    def n_servers(self) -> int:
        """Active servers."""
        return int(self.servers["kind"].size)

    def seen_by_suppliers(self, server_values: np.ndarray) -> np.ndarray:
        """A server quantity as each supplier sees it: its partner's, else the servers' mean."""
        values = np.asarray(server_values, dtype=float)
        pos = self.suppliers["partner_pos"]
        if values.size == 0:
            return np.full(pos.size, np.nan)
        return np.where(pos >= 0, values[np.maximum(pos, 0)], values.mean())

    def seen_by_servers(self, supplier_values: np.ndarray) -> np.ndarray:
        """A supplier quantity as each server sees it: the mean over its clients, else over all."""
        values = np.asarray(supplier_values, dtype=float)
        pos = self.suppliers["partner_pos"]
        matched = pos >= 0
        total = np.bincount(pos[matched], weights=values[matched], minlength=self.n_servers)
        count = np.bincount(pos[matched], minlength=self.n_servers)
        fallback = values.mean() if values.size else np.nan
        return np.divide(total, count, out=np.full(self.n_servers, fallback), where=count > 0)

    def everyone(self, value: float) -> tuple[np.ndarray, np.ndarray]:
        """A cluster-wide quantity, the same for every supplier and server."""
        return np.full(self.n_suppliers, float(value)), np.full(self.n_servers, float(value))


def take(model) -> Snapshot:
    """Freeze ``model``'s respondent-visible state (active agents only) into a :class:`Snapshot`."""
    sup, sv, ctx, s = model.suppliers, model.servers, model.context, model.settings
    sup_rows, sv_rows = sup.active_rows(), sv.active_rows()
    suppliers = {name: sup[name][sup_rows].copy() for name in SUPPLIER_FIELDS}
    servers = {name: sv[name][sv_rows].copy() for name in SERVER_FIELDS}
    servers["transaction_time"] = model.transaction_times(sv_rows)
    position = np.full(sv.size, -1, dtype=np.int64)
    position[sv_rows] = np.arange(sv_rows.size)
    partner = suppliers["partner"]
    suppliers["partner_pos"] = np.where((partner >= 0) & (partner < sv.size),
                                        position[np.clip(partner, 0, max(sv.size - 1, 0))], -1)
    fund = model.mechanism("fund")
    cluster = {
        "alpha": ctx.alpha, "beta": ctx.beta, "gamma": ctx.gamma,
        "r_fixed": ctx.r_fixed, "r_fixed0": s.context.r_fixed0, "t_co": ctx.t_co,
        "price": model.market.price, "marginal_cost": model.market.marginal_cost,
        "ctrans": s.ctrans, "iexp": s.iexp, "reproduction_time0": s.suppliers.reproduction_time0,
        "payment_factor": fund.payment_factor() if hasattr(fund, "payment_factor") else 1.0,
    }
    return Snapshot(suppliers=suppliers, servers=servers, cluster={k: float(v) for k, v in cluster.items()},
                    year=int(model.year))
