"""The demand-personalisation mechanism (the seed's "future research": personalised customer needs).

Rules (see ../ODD.md; all our assumptions): the customised share of overseas demand
grows from ``initial_share`` at ``rate`` a year, s_t = 1 - (1 - s_0)(1 - rate)^t. A
server can match customised orders when its channel reaches the overseas buyer
directly (its kind is in ``channels``; by default only CBEC servers, which make the
cluster "directly face consumers", seed §4.A) and its vision is at least the
``vision_quantile`` quantile of all active servers' vision this year (enough vision
is relative to the competition, so it stays selective as every server's vision grows).
Customised buyers in a demand cell go to the capable servers that see the cell, shared
equally among them; if none sees it, the share ``fallback`` of them buy a standard
product instead and the rest do not buy this year. Standard buyers are shared among all
the cell's servers, as in the core model. A capable server sells its mix at a premium of
(its customised share)·``premium`` over its CIF price. The mechanism acts through two
columns every ccframe server has, ``demand_access`` and ``price_premium``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.modes import ES, TS
from ccframe.params import ConfigError, bounded, described, fraction

KINDS = {"ts": TS, "es": ES}


@dataclass(frozen=True)
class PersonalisationParams:
    """Parameters of demand personalisation."""

    initial_share: float = fraction("customised share of overseas demand in year 0")
    rate: float = fraction("yearly rate at which standard demand turns customised")
    vision_quantile: float = fraction(
        "a server has enough vision for customised orders when its vision reaches this quantile "
        "of all active servers' vision in the year (0: every server)")
    premium: float = bounded(0, 10, doc="price premium of a customised order over the CIF price")
    fallback: float = fraction(
        "share of the customised buyers no capable server sees who buy a standard product instead (0: lost)")
    channels: tuple[str, ...] = described(
        "server kinds (ts, es) whose channel reaches overseas buyers directly, so can take customised orders")


class NichePersonalisation(Mechanism):
    """Customised niches that only direct-channel, broad-vision servers can serve, at a premium."""

    slot = "personalisation"
    name = "niches"
    Params = PersonalisationParams

    @classmethod
    def check(cls, params: PersonalisationParams, settings, slot: str) -> None:
        unknown = [c for c in params.channels if c not in KINDS]
        if unknown:
            raise ConfigError(f"{slot}.channels: each must be one of ts, es, got {unknown[0]!r}")

    @hookimpl
    def ccframe_setup(self, model) -> None:
        self.able_share = float("nan")

    def customised_share(self, year: int) -> float:
        """s_t, the customised share of overseas demand in ``year``."""
        p = self.params
        return 1.0 - (1.0 - p.initial_share) * (1.0 - p.rate) ** year

    def capable(self, kind: np.ndarray, vision: np.ndarray) -> np.ndarray:
        """Which servers can match customised orders: a direct channel and enough vision."""
        if vision.size == 0:
            return np.zeros(0, dtype=bool)
        direct = np.isin(kind, [KINDS[c] for c in self.params.channels])
        return direct & (vision >= np.quantile(vision, self.params.vision_quantile))

    @hookimpl
    def ccframe_quote_prices(self, model, year):
        """Before matching: each server's access to demand and the premium on its sales mix.

        Standard demand a server sees is split among all servers seeing a cell (as in the
        core); customised demand only among the capable servers seeing it. A server's
        ``demand_access`` is what it can serve over its core share of the demand it sees,
        so it exceeds 1 where it takes customised buyers an incapable neighbour cannot.
        """
        servers, demand = model.servers, model.demand
        rows = servers.active_rows()
        share = self.customised_share(year)
        x, y, vision = servers["x"][rows], servers["y"][rows], servers["vision"][rows]
        able = self.capable(servers["kind"][rows], vision)
        everyone = demand.view(x, y, vision)  # every server's window, built once for both reads below
        seen = everyone.visible()  # each server's share of the cells it sees (core rule)
        seen_customised = np.zeros(rows.size)
        capable = demand.view(x[able], y[able], vision[able])  # the capable servers' windows, built once
        seen_customised[able] = capable.visible()  # split among capable only
        # customised buyers in cells no capable server sees: the share `fallback` buy standard
        orphaned = demand.grid * (capable.coverage() == 0)
        settling = share * self.params.fallback * everyone.visible(orphaned)
        standard, customised = (1.0 - share) * seen + settling, share * seen_customised
        servable = standard + customised
        servers["demand_access"][rows] = np.divide(servable, seen, out=np.full(rows.size, 1.0 - share),
                                                   where=seen > 0)
        mix = np.divide(customised, servable, out=np.zeros(rows.size), where=servable > 0)
        servers["price_premium"][rows] = mix * self.params.premium
        self.able_share = float(able.mean()) if rows.size else float("nan")

    @hookimpl
    def ccframe_collect_metrics(self, model, year):
        servers = model.servers
        rows = servers.active_rows()
        revenue = servers["revenue"][rows]
        es = servers["kind"][rows] == ES
        total = revenue.sum()
        return {
            "customised_share": self.customised_share(year),
            "customising_servers_share": self.able_share,
            "es_server_revenue_share": float(revenue[es].sum() / total) if total else float("nan"),
        }
