"""Modification indices against lavaan's published output, and against actually freeing the parameter."""

import pytest

pytest.importorskip("semopy.examples")
from semopy.examples import holzinger39  # noqa: E402

from ccframe.sem.fit import fit  # noqa: E402
from ccframe.sem.modindices import modification_indices  # noqa: E402
from ccframe.sem.spec import spec_from_dict  # noqa: E402

HS_SPEC = {
    "name": "hs",
    "items": {f"x{i}": "" for i in range(1, 10)},
    "latents": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
}
# lavaan's tutorial (lavaan.ugent.be/tutorial/modindices.html): modindices(fit, sort = TRUE, maximum.number = 5)
LAVAAN_TOP5 = [
    ("visual", "=~", "x9", 36.411, 0.577, 0.515),
    ("x7", "~~", "x8", 34.145, 0.536, 0.859),
    ("visual", "=~", "x7", 18.631, -0.422, -0.349),
    ("x8", "~~", "x9", 14.946, -0.423, -0.805),
    ("textual", "=~", "x3", 9.151, -0.272, -0.238),
]


@pytest.fixture(scope="module")
def data():
    return holzinger39.get_data()


@pytest.fixture(scope="module")
def hs(data):
    return fit(spec_from_dict(HS_SPEC), data)


@pytest.fixture(scope="module")
def mi(hs):
    return modification_indices(hs)


def test_top_five_match_lavaan(mi):
    top = mi.head(5).iter_rows(named=True)
    for row, (lhs, op, rhs, value, epc, sepc) in zip(top, LAVAAN_TOP5, strict=True):
        assert (row["lhs"], row["op"], row["rhs"]) == (lhs, op, rhs)
        assert row["mi"] == pytest.approx(value, abs=5e-4)
        assert row["epc"] == pytest.approx(epc, abs=5e-4)
        assert row["sepc_all"] == pytest.approx(sepc, abs=5e-4)


def test_every_fixed_error_covariance_and_cross_loading_is_scored(mi):
    assert mi.filter(mi["kind"] == "error_covariance").height == 36  # 9 items, no free error covariances
    assert mi.filter(mi["kind"] == "cross_loading").height == 18    # 9 items x 2 other latents
    assert mi.filter(mi["same_latent"]).height == 9                 # 3 pairs per latent


def test_mi_predicts_the_chisq_drop_and_epc_the_estimate_of_freeing_it(hs, mi, data):
    """The score test approximates the likelihood-ratio test; the EPC the freed estimate."""
    spec = spec_from_dict({**HS_SPEC, "error_covariances": [{"between": ["x7", "x8"]}]})
    freed = fit(spec, data)
    drop = hs.fit_indices["chisq"] - freed.fit_indices["chisq"]
    row = mi.filter((mi["lhs"] == "x7") & (mi["rhs"] == "x8")).row(0, named=True)
    assert drop == pytest.approx(row["mi"], rel=0.25)
    estimate = freed.estimates.filter((freed.estimates["op"] == "~~") & (freed.estimates["lhs"] == "x7")
                                      & (freed.estimates["rhs"] == "x8"))["estimate"][0]
    assert estimate == pytest.approx(row["epc"], rel=0.35)


def test_amos_convention_scales_the_mi_by_n_minus_one_over_n(data, mi):
    amos = modification_indices(fit(spec_from_dict(HS_SPEC), data, n_minus_one=True))
    joined = mi.join(amos, on=["lhs", "op", "rhs"], suffix="_amos")
    n = data.shape[0]
    assert (joined["mi_amos"] / joined["mi"]).to_list() == pytest.approx([(n - 1) / n] * joined.height, rel=1e-6)


def test_freed_parameters_are_not_scored_and_unknown_kinds_refused(data):
    spec = spec_from_dict({**HS_SPEC, "error_covariances": [{"between": ["x7", "x8"]}]})
    mi = modification_indices(fit(spec, data), kinds=("error_covariance",))
    assert mi.height == 35
    assert mi.filter((mi["lhs"] == "x7") & (mi["rhs"] == "x8")).height == 0
    with pytest.raises(ValueError, match="unknown kind 'paths'"):
        modification_indices(fit(spec, data), kinds=("paths",))
