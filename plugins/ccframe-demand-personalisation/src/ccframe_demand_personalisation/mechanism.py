"""The demand-personalisation mechanism (the seed's "future research": personalised customer needs).

Rules (see ../ODD.md): the customised share of overseas demand grows from
``initial_share`` at ``rate`` a year, s_t = 1 - (1 - s_0)(1 - rate)^t. A server whose
vision reaches ``vision_threshold`` cells can match customised orders and sells its
mix at a premium of s_t·premium over its CIF price; a narrower server can serve only
the standard share 1 - s_t of the demand it sees. It acts through two columns every
ccframe server has, ``demand_access`` and ``price_premium``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe import hookimpl
from ccframe.agents import ES
from ccframe.mechanism import Mechanism
from ccframe.params import bounded, fraction, positive


@dataclass(frozen=True)
class PersonalisationParams:
    """Parameters of demand personalisation."""

    initial_share: float = fraction("customised share of overseas demand in year 0")
    rate: float = fraction("yearly rate at which standard demand turns customised")
    vision_threshold: float = positive("vision (cells) a server needs to match customised orders")
    premium: float = bounded(0, 10, doc="price premium of a customised order over the CIF price")


class NichePersonalisation(Mechanism):
    """Customised niches that only broad-vision servers can serve, at a premium."""

    slot = "personalisation"
    name = "niches"
    Params = PersonalisationParams

    def customised_share(self, year: int) -> float:
        """s_t, the customised share of overseas demand in ``year``."""
        p = self.params
        return 1.0 - (1.0 - p.initial_share) * (1.0 - p.rate) ** year

    @hookimpl
    def ccframe_quote_prices(self, model, year):
        """Before matching: restrict narrow servers to standard demand; price broad servers' mix."""
        servers = model.servers
        rows = servers.active_rows()
        share = self.customised_share(year)
        able = servers["vision"][rows] >= self.params.vision_threshold
        servers["demand_access"][rows] = np.where(able, 1.0, 1.0 - share)
        servers["price_premium"][rows] = np.where(able, share * self.params.premium, 0.0)

    @hookimpl
    def ccframe_collect_metrics(self, model, year):
        servers = model.servers
        rows = servers.active_rows()
        revenue = servers["revenue"][rows]
        es = servers["kind"][rows] == ES
        able = servers["vision"][rows] >= self.params.vision_threshold
        total = revenue.sum()
        return {
            "customised_share": self.customised_share(year),
            "customising_servers_share": float(able.mean()) if rows.size else float("nan"),
            "es_server_revenue_share": float(revenue[es].sum() / total) if total else float("nan"),
        }
