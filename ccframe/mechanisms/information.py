"""Information-driven mechanism: servers' vision and the context's alpha, beta, gamma.

From the seed: the average vision of eq. (7); supervision alpha and the escape flag
of eq. (8); infrastructure beta lowering R_fixed by eq. (9); efficiency gamma
lowering customs time by eq. (10). Our assumptions (docs/ODD.md, "Information-driven
mechanism"): vision grows at a kind-specific rate, unevenly across servers, with a
spillover from CBEC to traditional servers; escape is a degree (the share of a server's
operations outside supervision) and each year supervision brings the share alpha of what
still escapes under customs (gradual standardisation), fining the server on it; while the
CBEC channel's share of last year's sales is small, that share is less than alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe import equations
from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import safe_ratio
from ccframe.modes import ES, TS
from ccframe.params import bounded, fraction, positive


@dataclass(frozen=True)
class VisionParams:
    """Parameters of the information-driven mechanism."""

    growth_ts: float = bounded(0, 10, doc="yearly relative growth of a TS server's vision")
    growth_es: float = bounded(0, 10, doc="yearly relative growth of an ES server's vision")
    growth_dispersion: float = bounded(
        0, 3, doc="sd of a server's yearly growth multiplier (mean-one log-normal): servers learn unevenly")
    spillover: float = fraction("share of the gap to the ES mean vision a TS server closes yearly")
    vision_max: float = positive("upper bound of a server's vision, in cells")
    penalty: float = fraction("fine on a detected escaping server, as a share of its revenue")
    supervision_share: float = fraction(
        "CBEC share of last year's sales from which supervision acts at the full alpha; below it, "
        "1 - (1 - alpha)^(share / this) (0: always the full alpha)")


class VisionInformation(Mechanism):
    """The seed's information-driven mechanism (eqs. 7-10)."""

    slot = "information"
    name = "vision"
    Params = VisionParams

    @hookimpl
    def ccframe_setup(self, model) -> None:
        self.base_vision: float | None = None
        self.supervision = 0.0  # the share of escaping operations standardised this year (none in year 0)

    @hookimpl
    def ccframe_update_context(self, model, year: int) -> None:
        """Eqs. (9) and (10), supervision of escaping servers, then vision growth."""
        self.apply_policy(model)
        self.grow_vision(model)

    def apply_policy(self, model) -> None:
        """The government's year: eqs. (9) and (10), and supervision standardising escaping servers (eq. 8)."""
        ctx, sv = model.context, model.servers
        ctx.r_fixed = equations.fixed_rate(ctx.r_fixed, ctx.beta)
        ctx.t_co = equations.customs_time(ctx.t_co, ctx.gamma, model.settings.context.t_co_min)
        rows = sv.active_rows()
        self.supervision = self.supervision_intensity(model, rows)
        standardised = self.supervision * sv["escape"][rows]  # share of operations brought under supervision
        sv["escape"][rows] -= standardised
        sv["funds"][rows] -= self.params.penalty * sv["revenue"][rows] * standardised

    def supervision_intensity(self, model, rows: np.ndarray) -> float:
        """The share of escaping operations standardised this year: alpha, less while CBEC is small.

        Our assumption (docs/ODD.md 3.3.3): customs attend to a channel as it grows. With f =
        min(1, CBEC share of last year's sales / ``supervision_share``) the share is
        1 − (1 − alpha)^f: alpha once the channel matters, about alpha·f while it is small, and
        all of it at alpha = 1 (eq. 8's full-supervision case) whatever the channel's size.
        """
        alpha, full = model.context.alpha, self.params.supervision_share
        sold, kind = model.servers["sold"][rows], model.servers["kind"][rows]
        if full == 0 or alpha >= 1 or sold.sum() <= 0:
            return alpha
        attention = min(1.0, float(sold[kind == ES].sum() / sold.sum()) / full)
        return 1.0 - (1.0 - alpha) ** attention

    def grow_vision(self, model) -> None:
        """Servers' vision grows unevenly, TS servers catching up on the ES mean (spillover)."""
        sv, p = model.servers, self.params
        rows = sv.active_rows()
        kind = sv["kind"][rows]
        sd = p.growth_dispersion
        luck = model.rng.lognormal(-0.5 * sd**2, sd, rows.size) if sd > 0 else 1.0
        vision = sv["vision"][rows] * (1.0 + np.where(kind == ES, p.growth_es, p.growth_ts) * luck)
        if (kind == ES).any():
            gap = np.maximum(vision[kind == ES].mean() - vision, 0.0)
            vision = np.where(kind == TS, vision + p.spillover * gap, vision)
        cells = model.demand.size ** 2
        sv["vision"][rows] = np.minimum(vision, min(p.vision_max, cells))

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        sv, ctx = model.servers, model.context
        rows = sv.active_rows()
        kind = sv["kind"][rows]
        vision = equations.average_vision(sv["vision"][rows][kind == TS], sv["vision"][rows][kind == ES])
        if self.base_vision is None:
            self.base_vision = vision
        es = rows[kind == ES]
        return {
            "vision": vision,
            "vision_index": vision / self.base_vision,
            "r_fixed": ctx.r_fixed,
            "supervision": self.supervision,
            "customs_time": ctx.t_co,
            "escape_share": safe_ratio(sv["escape"][es].sum(), es.size),  # mean escape degree of ES servers
            "n_servers_ts": float((kind == TS).sum()),
            "n_servers_es": float((kind == ES).sum()),
        }


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(VisionInformation)
