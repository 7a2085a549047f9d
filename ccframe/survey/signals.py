"""The quantities a questionnaire item can be answered from: named functions of a snapshot.

Each signal maps a :class:`~ccframe.survey.snapshot.Snapshot` to two arrays, the value
every active supplier and every active server of that cluster perceives. Three kinds:

- **cluster**: the same for everyone (counts, shares, the cluster's output value);
- **own**: the respondent's own state; the other kind of agent sees it through trade
  (a supplier its partner server's value, a server its client suppliers' mean);
- **policy**: a government parameter of the context agent (alpha, beta, gamma), which
  respondents know because it is published policy.

Items in ``conf/survey/*.yaml`` name a signal; which signal answers which item, and why,
is documented in docs/ODD.md ("Observation: the virtual survey"). A plugin adds signals
by subclassing :class:`~ccframe.survey.instrument.Questionnaire` with a larger
``signals`` mapping.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ccframe.modes import ES, TS
from ccframe.survey.snapshot import Snapshot

Signal = Callable[[Snapshot], tuple[np.ndarray, np.ndarray]]

SIGNALS: dict[str, Signal] = {}


def signal(function: Signal) -> Signal:
    """Register ``function`` under its name; its docstring is the signal's documentation."""
    SIGNALS[function.__name__] = function
    return function


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _own_supplier(snap: Snapshot, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(values, dtype=float), snap.seen_by_servers(values)


def _own_server(snap: Snapshot, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return snap.seen_by_suppliers(values), np.asarray(values, dtype=float)


# -- cluster -------------------------------------------------------------------------------
@signal
def n_suppliers(snap: Snapshot):
    """Cluster: number of active suppliers (companies in the cluster)."""
    return snap.everyone(snap.n_suppliers)


@signal
def output_value(snap: Snapshot):
    """Cluster: total output times the market price (the cluster's GDP, eqs. 1, 3)."""
    return snap.everyone(snap.suppliers["output"].sum() * snap.cluster["price"])


@signal
def cbec_entities(snap: Snapshot):
    """Cluster: CBEC servers plus suppliers exporting through CBEC."""
    count = (snap.servers["kind"] == ES).sum() + (snap.suppliers["mode"] == ES).sum()
    return snap.everyone(count)


@signal
def cbec_capacity(snap: Snapshot):
    """Cluster: yearly handling capacity of the CBEC servers (the people and means CBEC employs)."""
    return snap.everyone(snap.servers["capacity"][snap.servers["kind"] == ES].sum())


@signal
def cbec_sales_share(snap: Snapshot):
    """Cluster: CBEC share of the volume exported (sold through ES over all sold)."""
    sold = snap.suppliers["sold"]
    return snap.everyone(_ratio(sold[snap.suppliers["mode"] == ES].sum(), sold.sum()))


@signal
def n_servers(snap: Snapshot):
    """Cluster: number of service providers (TS and ES servers)."""
    return snap.everyone(snap.n_servers)


@signal
def n_ts_servers(snap: Snapshot):
    """Cluster: number of traditional-export service providers (trade intermediaries)."""
    return snap.everyone((snap.servers["kind"] == TS).sum())


@signal
def n_es_servers(snap: Snapshot):
    """Cluster: number of CBEC service providers (payment, logistics and platform services)."""
    return snap.everyone((snap.servers["kind"] == ES).sum())


@signal
def mean_server_vision(snap: Snapshot):
    """Cluster: mean vision of the servers, the know-how of the service sector (eq. 7)."""
    vision = snap.servers["vision"]
    return snap.everyone(vision.mean() if vision.size else 0.0)


@signal
def supervised_share(snap: Snapshot):
    """Cluster: 1 - servers' mean escape degree: the standardised share of operations (eq. 8)."""
    escape = snap.servers["escape"]
    return snap.everyone(1.0 - escape.mean() if escape.size else 1.0)


@signal
def supervised_share_es(snap: Snapshot):
    """Cluster: 1 - CBEC servers' mean escape degree: their share under customs supervision (eq. 8)."""
    escape = snap.servers["escape"][snap.servers["kind"] == ES]
    return snap.everyone(1.0 - escape.mean() if escape.size else 1.0)


@signal
def scale_diversity(snap: Snapshot):
    """Cluster: entropy of the S1/S2/S3 shares of suppliers (division of labour by scale)."""
    counts = np.bincount(snap.suppliers["scale_class"].astype(np.int64), minlength=4)[1:]
    shares = counts[counts > 0] / max(counts.sum(), 1)
    return snap.everyone(float(-(shares * np.log(shares)).sum()))


@signal
def competition(snap: Snapshot):
    """Cluster: marginal cost over price, c / P (eqs. 1-3); 1 is perfect competition."""
    return snap.everyone(_ratio(snap.cluster["marginal_cost"], snap.cluster["price"]))


@signal
def marginal_cost(snap: Snapshot):
    """Cluster: the cluster marginal cost c = c0 / N^(1/3) (input costs)."""
    return snap.everyone(snap.cluster["marginal_cost"])


@signal
def fixed_rate(snap: Snapshot):
    """Cluster: R_fixed, the fixed rate in the CIF price (eqs. 4, 9)."""
    return snap.everyone(snap.cluster["r_fixed"])


@signal
def customs_time(snap: Snapshot):
    """Cluster: T_co, customs clearance days for supervised shipments (eq. 10)."""
    return snap.everyone(snap.cluster["t_co"])


@signal
def cbec_payment_value(snap: Snapshot):
    """Cluster: present value of one unit of CBEC revenue after the settlement delay and fees."""
    return snap.everyone(snap.cluster["payment_factor"])


@signal
def cbec_unit_revenue_ratio(snap: Snapshot):
    """Cluster: revenue per unit produced of CBEC exporters over that of traditional ones."""
    sup = snap.suppliers
    es = sup["mode"] == ES
    unit_es = _ratio(sup["revenue"][es].sum(), sup["output"][es].sum())
    unit_ts = _ratio(sup["revenue"][~es].sum(), sup["output"][~es].sum())
    return snap.everyone(_ratio(unit_es, unit_ts) if unit_ts else 1.0)


# -- policy --------------------------------------------------------------------------------
@signal
def supervision(snap: Snapshot):
    """Policy: alpha, the government's supervision of CBEC exports (eq. 8)."""
    return snap.everyone(snap.cluster["alpha"])


@signal
def infrastructure(snap: Snapshot):
    """Policy: beta, infrastructure construction such as cross-border parks (eq. 9)."""
    return snap.everyone(snap.cluster["beta"])


@signal
def efficiency(snap: Snapshot):
    """Policy: gamma, measures that speed up customs clearance (eq. 10)."""
    return snap.everyone(snap.cluster["gamma"])


# -- own (seen through trade by the other kind) ----------------------------------------------
@signal
def production(snap: Snapshot):
    """Own: a supplier's output this year (its production capacity, eq. 2)."""
    return _own_supplier(snap, snap.suppliers["output"])


@signal
def scale(snap: Snapshot):
    """Own: a supplier's scale S_i (its production facilities)."""
    return _own_supplier(snap, snap.suppliers["scale"])


@signal
def funds(snap: Snapshot):
    """Own: a supplier's available funds (what it can invest)."""
    return _own_supplier(snap, snap.suppliers["funds"])


@signal
def sell_through(snap: Snapshot):
    """Own: share of a supplier's output its partner server sold, O'/O (eqs. 5-6)."""
    sup = snap.suppliers
    return _own_supplier(snap, np.divide(sup["sold"], sup["output"], out=np.zeros(snap.n_suppliers),
                                         where=sup["output"] > 0))


@signal
def profit_rate(snap: Snapshot):
    """Own: a supplier's profit over revenue this year."""
    sup = snap.suppliers
    return _own_supplier(snap, np.divide(sup["profit"], sup["revenue"], out=np.zeros(snap.n_suppliers),
                                         where=sup["revenue"] > 0))


@signal
def reproduction_speedup(snap: Snapshot):
    """Own: t_r at year 0 over a supplier's reproduction time now (eq. 12), > 1 after progress."""
    return _own_supplier(snap, snap.cluster["reproduction_time0"] / snap.suppliers["reproduction_time"])


@signal
def vision(snap: Snapshot):
    """Own: a server's vision, cells of overseas demand it observes (eq. 7)."""
    return _own_server(snap, snap.servers["vision"])


@signal
def visible_demand(snap: Snapshot):
    """Own: the overseas demand a server sees at its CIF price."""
    return _own_server(snap, snap.servers["demand"])


@signal
def transaction_time(snap: Snapshot):
    """Own: a server's transport plus customs days per transaction (eq. 11)."""
    return _own_server(snap, snap.servers["transaction_time"])


@signal
def freight_share(snap: Snapshot):
    """Own: C_trans over a server's CIF price, the freight part of the landed price (eq. 4)."""
    cif = snap.servers["cif"]
    return _own_server(snap, np.divide(snap.cluster["ctrans"], cif, out=np.zeros(cif.size), where=cif > 0))
