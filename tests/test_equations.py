"""The seed's equations (1)-(12) against hand-computed cases."""

import math

import numpy as np
import pytest

from ccframe import equations as eq

# A cluster of n1 = 2 large (S1 = 8), n2 = 3 medium (S2 = 2) and n3 = 5 small (S3 = 1)
# suppliers: N = 8/1*2 + 2/1*3 + 5 = 27, so N^(1/3) = 3 exactly.
SCALES = [8.0] * 2 + [2.0] * 3 + [1.0] * 5
A, B, C0 = 100.0, 2.0, 60.0  # c = 60 / 3 = 20


def test_effective_suppliers_weights_scales_by_the_smallest():
    assert eq.effective_suppliers(SCALES, 1.0) == 27.0
    assert eq.effective_suppliers([4.0, 2.0], 2.0) == 3.0


def test_cluster_marginal_cost_falls_with_the_cube_root_of_size():
    assert eq.cluster_marginal_cost(C0, 27.0) == pytest.approx(20.0)


def test_eq1_cluster_output():
    # O = N (a - c) / (b (N + 1)) = 27 * 80 / (2 * 28)
    assert eq.cluster_output(A, B, C0, 27.0) == pytest.approx(27 * 80 / 56)


def test_eq2_supplier_output_sums_to_eq1():
    ratios = np.array(SCALES) / 1.0
    out = eq.supplier_output(ratios, A, B, C0, 27.0)
    assert out[0] == pytest.approx(8 * 80 / 56)   # large: (S1/S3)(a - c) / (b (N + 1))
    assert out[-1] == pytest.approx(80 / 56)      # small
    assert out.sum() == pytest.approx(eq.cluster_output(A, B, C0, 27.0))


def test_eq3_market_price():
    # P = (a + N c) / (N + 1) = (100 + 27 * 20) / 28
    assert eq.market_price(A, C0, 27.0) == pytest.approx(640 / 28)


def test_eq3_price_lies_on_the_inverse_demand_of_eq1():
    # Cournot consistency: P = a - b O.
    n = 27.0
    assert eq.market_price(A, C0, n) == pytest.approx(A - B * eq.cluster_output(A, B, C0, n))


def test_eq4_cif_price():
    # (C_cos + C_trans) / (1 - R_fixed - R_insu - I_exp) = (8000 + 4000) / 0.6
    assert eq.cif_price(8000.0, 4000.0, 0.15, 0.05, 0.2) == pytest.approx(20000.0)


def test_eq5_and_eq6_revenues():
    sold = np.array([10.0, 5.0])
    assert eq.traditional_revenue(sold, 7.0).tolist() == [70.0, 35.0]
    assert eq.cbec_revenue(sold, np.array([20.0, 30.0]), 0.5).tolist() == [100.0, 75.0]


def test_eq7_average_vision_pools_both_kinds():
    assert eq.average_vision([1.0, 3.0], [8.0]) == pytest.approx(4.0)
    assert math.isnan(eq.average_vision([], []))


@pytest.mark.parametrize(("alpha", "escape", "expected"), [
    (0.0, [False, True], [100.0, 100.0]),   # no supervision: C_cos = P
    (0.5, [False, True], [96.0, 100.0]),    # 0 < alpha < 1: taxed unless escaping
    (1.0, [False, True], [96.0, 96.0]),     # full supervision: taxed whatever escape says
])
def test_eq8_variable_cost(alpha, escape, expected):
    # P (1 - Tax + ReTax) = 100 (1 - 0.13 + 0.09) = 96
    assert eq.variable_cost(100.0, alpha, escape, 0.13, 0.09).tolist() == pytest.approx(expected)


def test_eq9_fixed_rate_decays_geometrically_over_years():
    rate = 0.1
    for _ in range(5):
        rate = eq.fixed_rate(rate, 0.2)
    assert rate == pytest.approx(0.1 * 0.8**5)


def test_eq10_customs_time_falls_by_gamma_each_year_down_to_its_floor():
    times = [5.0]
    for _ in range(4):
        times.append(eq.customs_time(times[-1], 0.4, floor=3.5))
    assert times == pytest.approx([5.0, 4.6, 4.2, 3.8, 3.5])


def test_eq11_average_transaction_time_weights_kinds_by_their_counts():
    # (n * mean_TS + m * mean_ES) / (n + m) with n = 2 (30, 34) and m = 1 (10)
    assert eq.average_transaction_time([30.0, 34.0], [10.0]) == pytest.approx(74 / 3)


def test_eq12_average_reproduction_time():
    assert eq.average_reproduction_time([30.0, 20.0, 10.0]) == pytest.approx(20.0)
