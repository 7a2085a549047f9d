"""The plugin, tested the way ccframe tests plugins (``ccframe.testing``)."""

from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from ccframe_demand_personalisation.mechanism import NichePersonalisation, PersonalisationParams

from ccframe.agents import ES, TS
from ccframe.demand import DemandSpace
from ccframe.table import AgentTable
from ccframe.testing import small_run

SELECT = ["+mechanism=demand_personalisation"]


def params(**changes):
    values = dict(initial_share=0.5, rate=0.0, vision_quantile=0.5, premium=0.2, fallback=1.0, channels=("es",))
    return PersonalisationParams(**{**values, **changes})


def test_installing_the_package_is_enough_for_the_override_to_work():
    result = small_run([*SELECT, "personalisation.rate=0.2"])
    assert result.settings.mechanisms["personalisation"].info.distribution == "ccframe-demand-personalisation"
    shares = result.means("customised_share")
    assert shares[0] == pytest.approx(0.05)
    assert shares[2] == pytest.approx(1 - 0.95 * 0.8**2)


def test_customised_share_grows_towards_one():
    mechanism = NichePersonalisation(params(initial_share=0.1, rate=0.3))
    shares = [mechanism.customised_share(t) for t in range(20)]
    assert shares[0] == pytest.approx(0.1)
    assert all(b > a for a, b in zip(shares, shares[1:], strict=False)) and shares[-1] < 1


def quote(**changes):
    """Three servers on a 5 x 5 grid of one unit per cell, customised share 0.5.

    A (CBEC, 3 x 3 window at (1, 1)) and B (traditional, 3 x 3 at (2, 2)) share 4 cells;
    C (traditional, 1 cell at (4, 4)) is alone. Vision 9, 9, 1: the median is 9.
    """
    servers = AgentTable({"kind": np.int8, "x": np.int64, "y": np.int64, "vision": float,
                          "revenue": float, "demand_access": float, "price_premium": float})
    servers.add(3, kind=np.array([ES, TS, TS]), x=np.array([1, 2, 4]), y=np.array([1, 2, 4]),
                vision=np.array([9.0, 9.0, 1.0]))
    model = SimpleNamespace(servers=servers, demand=DemandSpace(np.ones((5, 5))))
    mechanism = NichePersonalisation(params(**changes))
    mechanism.ccframe_setup(model=model)
    mechanism.ccframe_quote_prices(model=model, year=0)
    seen = np.array([7.0, 7.0, 1.0])  # the core's split: A and B halve their 4 shared cells
    return servers["demand_access"] * seen, servers["price_premium"], mechanism


def test_customised_buyers_move_to_the_capable_cbec_server_and_pay_it_a_premium():
    servable, premium, mechanism = quote()
    # A: half its 7 standard, plus all customised buyers of its 9 cells (B cannot take them)
    # B: half its 7 standard, plus the 5 customised of cells no capable server sees, bought standard
    # C: no capable server sees its cell; its customised buyer buys standard
    assert servable == pytest.approx([3.5 + 4.5, 3.5 + 2.5, 1.0])
    assert servable.sum() == pytest.approx(15.0)  # fallback 1: demand moves, none disappears
    assert premium == pytest.approx([4.5 / 8 * 0.2, 0.0, 0.0])
    assert mechanism.able_share == pytest.approx(1 / 3)


def test_customised_buyers_no_capable_server_sees_are_lost_without_fallback():
    servable, _, _ = quote(fallback=0.0)
    assert servable == pytest.approx([8.0, 3.5, 0.5])


def test_a_server_needs_a_direct_channel_and_vision_at_the_quantile():
    mechanism = NichePersonalisation(params(vision_quantile=0.75, channels=("ts", "es")))
    kind, vision = np.array([TS, TS, ES, ES]), np.array([40.0, 10.0, 20.0, 30.0])
    assert mechanism.capable(kind, vision).tolist() == [True, False, False, False]  # quantile 32.5
    assert NichePersonalisation(params(vision_quantile=0.5)).capable(kind, vision).tolist() == [
        False, False, False, True]  # median 25; TS has no direct channel by default


# Measured with this test's settings (seed 11, 16 replicates, year 6) on the core's session-14
# defaults: the ES servers' revenue share is 0.330 (95% CI 0.298-0.363) at rate 0 and 0.399
# (0.348-0.449) at rate 0.4 (0.392 at 0.1, 0.383 at 0.2). Seeds 1, 2, 3: 0.324 -> 0.371,
# 0.314 -> 0.378, 0.325 -> 0.356. With channels=[ts, es] (vision alone) the share falls with
# the rate: 0.306 at rate 0, 0.258 at rate 0.4 (ODD.md).
def test_more_personalisation_raises_cbec_servers_share_of_revenue():
    def es_share(rate):
        result = small_run([*SELECT, f"personalisation.rate={rate}", "replicates=16", "years=6", "seed=11"])
        return result.metric("es_server_revenue_share").filter(pl.col("year") == 6)

    low, high = es_share(0.0), es_share(0.4)
    assert high["mean"][0] > low["ci_high"][0]  # the difference is beyond replicate noise


def test_a_bad_rate_is_a_one_line_error():
    from ccframe.params import ConfigError

    with pytest.raises(ConfigError, match=r"^personalisation.rate: must be in \[0, 1\], got 1.5$"):
        small_run([*SELECT, "personalisation.rate=1.5"])


def test_an_unknown_channel_is_a_one_line_error():
    from ccframe.params import ConfigError

    with pytest.raises(ConfigError, match=r"^personalisation.channels: each must be one of ts, es, got 'b2b'$"):
        small_run([*SELECT, "personalisation.channels=[es,b2b]"])
