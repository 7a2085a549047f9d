"""The seed's equations (1)-(12) as pure functions.

Every function here is a transcription of one numbered equation of the simulation
seed (``shared/seeds/003_03355800c510a481.txt``); mechanisms call them so that the
arithmetic of the paper lives in exactly one place and is tested on hand-computed
cases. Arguments may be floats or NumPy arrays.
"""

from __future__ import annotations

import numpy as np


def effective_suppliers(scales, smallest_scale: float) -> float:
    """N = S1/S3·n1 + S2/S3·n2 + n3: the number of small-supplier equivalents.

    ``scales`` holds the scale S_i of every active supplier; the seed's three-class
    sum is the same as summing S_i/S3 over all suppliers.
    """
    return float(np.sum(np.asarray(scales, dtype=float)) / smallest_scale)


def cluster_marginal_cost(c0: float, n_eff: float) -> float:
    """C = c0 / N^(1/3): the cluster's marginal cost, decreasing in its size (eqs 1-3)."""
    return c0 / np.cbrt(n_eff)


def cluster_output(a: float, b: float, c0: float, n_eff: float) -> float:
    """Eq. (1): total Cournot output O_c = N(a - c) / (b(N + 1))."""
    c = cluster_marginal_cost(c0, n_eff)
    return n_eff * (a - c) / (b * (n_eff + 1.0))


def supplier_output(scale_ratio, a: float, b: float, c0: float, n_eff: float):
    """Eq. (2): output of a supplier of scale S_i, (S_i/S3)(a - c) / (b(N + 1))."""
    c = cluster_marginal_cost(c0, n_eff)
    return np.asarray(scale_ratio, dtype=float) * (a - c) / (b * (n_eff + 1.0))


def market_price(a: float, c0: float, n_eff: float) -> float:
    """Eq. (3): market price P = (a + N·c) / (N + 1)."""
    c = cluster_marginal_cost(c0, n_eff)
    return (a + n_eff * c) / (n_eff + 1.0)


def cif_price(c_cos, c_trans: float, r_fixed: float, r_insu: float, i_exp: float):
    """Eq. (4): CIF price (C_cos + C_trans) / (1 - R_fixed - R_insu - I_exp)."""
    return (np.asarray(c_cos, dtype=float) + c_trans) / (1.0 - r_fixed - r_insu - i_exp)


def traditional_revenue(sold, price: float):
    """Eq. (5): revenue of traditional export, O' · P_c (per supplier; sum for the cluster)."""
    return np.asarray(sold, dtype=float) * price


def cbec_revenue(sold, cif, revenue_share: float):
    """Eq. (6): revenue of CBEC export, O' · P_CIF · R_re (per supplier)."""
    return np.asarray(sold, dtype=float) * np.asarray(cif, dtype=float) * revenue_share


def _pooled_mean(values_ts, values_es) -> float:
    """(ΣX_TS + ΣX_ES) / (n + m), NaN when both kinds are empty."""
    total = np.sum(values_ts) + np.sum(values_es)
    count = np.size(values_ts) + np.size(values_es)
    return float(total / count) if count else float("nan")


def average_vision(vision_ts, vision_es) -> float:
    """Eq. (7): V_C = (ΣV_TS + ΣV_ES) / (n + m)."""
    return _pooled_mean(vision_ts, vision_es)


def variable_cost(price: float, alpha: float, escape, tax: float, rebate: float):
    """Eq. (8): C_cos = P if alpha = 0 or escape = 1, else P(1 - Tax + ReTax).

    With alpha = 1 the tax rule applies whatever ``escape`` says (full supervision).
    ``escape`` may be a degree in [0, 1] (the seed: escape "reflects the standardization
    degree"): a server that escapes with a share e of its operations pays the tax on the
    rest, C_cos = e·P + (1 − e)·P(1 − Tax + ReTax); e = 0 or 1 gives the two cases of eq. (8).
    """
    escape = np.clip(np.asarray(escape, dtype=float), 0.0, 1.0)
    taxed = price * (1.0 - tax + rebate)
    if alpha <= 0.0:
        return np.full(escape.shape, float(price))
    if alpha >= 1.0:
        return np.full(escape.shape, taxed)
    return escape * float(price) + (1.0 - escape) * taxed


def fixed_rate(previous: float, beta: float) -> float:
    """Eq. (9): R_fixed,t = (1 - beta) R_fixed,t-1."""
    return (1.0 - beta) * previous


def customs_time(previous: float, gamma: float, floor: float = 0.0) -> float:
    """Eq. (10): T_co,t = T_co,t-1 - gamma, kept at or above ``floor`` (our assumption)."""
    return max(previous - gamma, floor)


def average_transaction_time(times_ts, times_es) -> float:
    """Eq. (11): (n·mean(T_TS) + m·mean(T_ES)) / (n + m) over servers' transport + customs times."""
    return _pooled_mean(times_ts, times_es)


def average_reproduction_time(times) -> float:
    """Eq. (12): T_Cr = Σ t_r / n over the cluster's suppliers."""
    times = np.asarray(times, dtype=float)
    return float(times.mean()) if times.size else float("nan")
