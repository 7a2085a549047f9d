"""Swapping the built-in fund mechanism for the escrow plugin."""

from ccframe.testing import small_run


def test_fund_escrow_replaces_cif():
    result = small_run(["fund=escrow"])
    assert result.settings.mechanisms["fund"].info.distribution == "ccframe-escrow-fund"


def test_a_costlier_platform_pays_cbec_suppliers_less_for_the_same_sales():
    cheap = small_run(["fund=escrow", "fund.platform_fee=0.0", "years=1"])
    dear = small_run(["fund=escrow", "fund.platform_fee=0.2", "years=1"])
    assert dear.means("revenue_es")[0] < cheap.means("revenue_es")[0]
    assert dear.means("sold")[0] == cheap.means("sold")[0]  # year-0 trade happens before any fee is felt
