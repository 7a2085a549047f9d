"""Export-mode choice: suppliers weigh traditional export against CBEC.

The seed lets suppliers "choose traditional export methods or cross-border
e-commerce export" from their income statements but gives no rule. Ours (docs/ODD.md,
"Export-mode choice"): each year a supplier reconsiders with probability
``switch_rate`` (entrants always do) and picks CBEC with a logit probability of the
relative advantage of last year's cluster-wide unit revenue of the two modes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import safe_ratio
from ccframe.modes import ES
from ccframe.params import bounded, fraction


@dataclass(frozen=True)
class LogitParams:
    """Parameters of the logit export-mode choice."""

    switch_rate: float = fraction("yearly probability that a supplier reconsiders its mode")
    sensitivity: float = bounded(0, 100, doc="logit slope on the relative CBEC advantage")


class LogitExportChoice(Mechanism):
    """Discrete choice between TS and ES on last year's unit revenues."""

    slot = "export_choice"
    name = "logit"
    Params = LogitParams

    @hookimpl
    def ccframe_choose_export_mode(self, model, year: int) -> None:
        sup, p = model.suppliers, self.params
        rows = sup.active_rows()
        probability = self.cbec_probability(model, rows)
        reconsider = (sup["entry_year"][rows] == year) | (model.rng.random(rows.size) < p.switch_rate)
        chosen = model.rng.random(rows.size) < probability
        sup["mode"][rows[reconsider]] = chosen[reconsider]

    def cbec_probability(self, model, rows: np.ndarray) -> float:
        """1 / (1 + exp(-sensitivity * (u_ES / u_TS - 1))) on last year's unit revenues."""
        sup = model.suppliers
        experienced = rows[sup["output"][rows] > 0]
        es = sup["mode"][experienced] == ES
        revenue, output = sup["revenue"][experienced], sup["output"][experienced]
        advantage = safe_ratio(safe_ratio(revenue[es].sum(), output[es].sum()),
                               safe_ratio(revenue[~es].sum(), output[~es].sum())) - 1.0
        if not np.isfinite(advantage):  # a mode nobody used last year: no evidence either way
            advantage = 0.0
        return float(1.0 / (1.0 + np.exp(-self.params.sensitivity * advantage)))


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(LogitExportChoice)
