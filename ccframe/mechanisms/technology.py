"""Technological innovation: servers' transaction times and suppliers' reproduction times.

From the seed: a server's transaction time is transport plus customs time, averaged
by eq. (11); the cluster's reproduction time is averaged by eq. (12), and CBEC's
information efficiency changes suppliers' production mode. Our assumptions
(docs/ODD.md, "Technological innovation"): transport time falls at a kind-specific
yearly rate; freight spending buys speed (elasticity to C_trans); reproduction time
falls faster for suppliers exporting through CBEC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccframe import equations
from ccframe.hookspecs import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.mechanisms import mean_or_nan
from ccframe.modes import ES, TS
from ccframe.params import bounded, fraction, positive


@dataclass(frozen=True)
class LearningParams:
    """Parameters of technological innovation."""

    transport_progress_ts: float = fraction("yearly relative fall of a TS server's transport time")
    transport_progress_es: float = fraction("yearly relative fall of an ES server's transport time")
    transport_time_min: float = positive("floor of any transport time (days)")
    freight_speed_elasticity: float = bounded(
        0, 5, doc="transport time ∝ (freight_reference / ctrans)^e: freight buys speed")
    freight_reference: float = positive("C_trans at which transport times are as configured")
    reproduction_progress_ts: float = fraction("yearly relative fall of t_r, TS exporters")
    reproduction_progress_es: float = fraction("yearly relative fall of t_r, CBEC exporters")
    reproduction_time_min: float = positive("floor of a reproduction time (days)")


class LearningTechnology(Mechanism):
    """The seed's technological innovation mechanism (eqs. 11-12)."""

    slot = "technology"
    name = "learning"
    Params = LearningParams

    @hookimpl
    def ccframe_setup(self, model) -> None:
        """Apply the freight-speed effect to the initial servers' transport times."""
        p = self.params
        rows = model.servers.active_rows()
        speed = (p.freight_reference / model.settings.ctrans) ** p.freight_speed_elasticity
        times = model.servers["transport_time"][rows] * speed
        model.servers["transport_time"][rows] = np.maximum(times, p.transport_time_min)
        self.base_reproduction_time: float | None = None

    @hookimpl
    def ccframe_progress_technology(self, model, year: int) -> None:
        p, sv, sup = self.params, model.servers, model.suppliers
        rows = sv.active_rows()
        progress = np.where(sv["kind"][rows] == ES, p.transport_progress_es, p.transport_progress_ts)
        sv["transport_time"][rows] = np.maximum(sv["transport_time"][rows] * (1.0 - progress),
                                                p.transport_time_min)
        rows = sup.active_rows()
        progress = np.where(sup["mode"][rows] == ES, p.reproduction_progress_es,
                            p.reproduction_progress_ts)
        sup["reproduction_time"][rows] = np.maximum(
            sup["reproduction_time"][rows] * (1.0 - progress), p.reproduction_time_min)

    @hookimpl
    def ccframe_collect_metrics(self, model, year: int) -> dict[str, float]:
        sv, sup = model.servers, model.suppliers
        rows = sv.active_rows()
        times, kind = model.transaction_times(rows), sv["kind"][rows]
        reproduction = equations.average_reproduction_time(sup["reproduction_time"][sup.active_rows()])
        if self.base_reproduction_time is None:
            self.base_reproduction_time = reproduction
        return {
            "transaction_time_ts": mean_or_nan(times[kind == TS]),
            "transaction_time_es": mean_or_nan(times[kind == ES]),
            "transaction_time": equations.average_transaction_time(times[kind == TS], times[kind == ES]),
            "reproduction_time": reproduction,
            "reproduction_time_index": reproduction / self.base_reproduction_time,
        }


@hookimpl
def ccframe_register_mechanisms(register) -> None:
    """Register this module's mechanism with ccframe."""
    register(LearningTechnology)
