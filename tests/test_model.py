"""The model: determinism, mechanism effects, agents as views, the demand space."""

import warnings

import numpy as np
import polars as pl
import pytest

from ccframe import simulate
from ccframe.agents import Context, Server, Supplier
from ccframe.demand import DemandSpace
from ccframe.mechanisms.commodity import _assign
from ccframe.model import CoevolutionModel
from ccframe.table import AgentTable
from ccframe.testing import small_run


def test_the_same_seed_gives_identical_numbers_and_another_seed_does_not():
    first, again = small_run(["seed=5"]), small_run(["seed=5"])
    assert first.summary.equals(again.summary)
    assert not first.summary.equals(small_run(["seed=6"]).summary)


def test_ctrans_changes_cbec_revenue():
    low, high = small_run(["ctrans=3000"]), small_run(["ctrans=5000"])
    assert low.means("revenue_es") != high.means("revenue_es")
    # a higher freight raises the CIF price (eq. 4) and so CBEC servers' quotes
    assert high.means("cif_es")[0] > low.means("cif_es")[0]


def test_revenue_per_unit_sold_compares_the_cbec_share_of_the_cif_price_with_the_market_price():
    result = small_run(["fund.settlement_days=0", "fund.revenue_share=0.6", "iexp=0.2"])
    year0 = result.replicates.filter(pl.col("year") == 0)
    value = {m: year0.filter(pl.col("metric") == m).sort("replicate")["value"].to_numpy()
             for m in ("sold_revenue_ratio", "cif_es", "price", "unit_revenue_ratio")}
    # R_re = revenue_share - iexp = 0.4; in Y0 every CBEC server escapes, so all quote one CIF price
    assert value["sold_revenue_ratio"] == pytest.approx(0.4 * value["cif_es"] / value["price"])
    assert not np.allclose(value["sold_revenue_ratio"], value["unit_revenue_ratio"])  # unsold output is left out


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_the_market_reach_raises_the_intercept_or_widens_the_market_by_reach_in_price(share):
    result = small_run([f"commodity.reach_in_price={share}", "market.a=100000", "market.b=10"])
    value = {m: result.replicates.filter(pl.col("metric") == m).sort("replicate", "year")["value"].to_numpy()
             for m in ("demand_intercept", "demand_slope", "output", "n_effective", "marginal_cost", "price")}
    a, b, n, c = value["demand_intercept"], value["demand_slope"], value["n_effective"], value["marginal_cost"]
    reach = (a / 100000) * (10 / b)  # R^s times R^(1-s): the year's market reach R
    assert not np.allclose(reach, 1.0)  # it moves: demand grows, vision widens
    assert a == pytest.approx(100000 * reach**share) and b == pytest.approx(10 / reach ** (1 - share))
    assert value["output"] == pytest.approx(n * (a - c) / (b * (n + 1)))  # eq. 1 on the year's a and b
    assert value["price"] == pytest.approx((a + n * c) / (n + 1))        # eq. 3: b does not enter the price


def test_the_market_reach_is_the_visible_demand_growth_to_the_power_pass_through():
    def year1_lift(k):  # a_1 / a_0 with the whole reach in the price: R_1
        result = small_run([f"commodity.demand_pass_through={k}", "commodity.reach_in_price=1", "market.a=100000"])
        return result.replicates.filter(metric="demand_intercept", year=1).sort("replicate")["value"].to_numpy() / 1e5

    # the runs are the same up to year 1's production (R_0 = 1 whatever k), so they see the same demand
    assert year1_lift(0) == pytest.approx(1.0)
    assert year1_lift(2) == pytest.approx(year1_lift(1) ** 2) and not np.allclose(year1_lift(1), 1.0)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_cluster_whose_servers_see_no_demand_dies_out_whatever_the_reach_moves(settings_for, share):
    model = CoevolutionModel(settings_for(f"commodity.reach_in_price={share}"), seed=1)
    model.step()
    model.demand.scale(0.0)  # every customer served and gone
    model.step()
    assert model.records[-1]["collapsed"] == 1 and model.suppliers.active_rows().size == 0


def test_a_cbec_server_never_quotes_below_its_break_even_price():
    # R_re = 0.8: at eq. (4)'s price the CBEC server would pay out more than it sells for
    result = small_run(["+scenario=fund", "fund.revenue_share=0.85", "iexp=0.05", "alpha=0", "ctrans=4000",
                        "context.r_insu=0.02", "fund.server_fixed_cost=0"])
    r_fixed, cif = np.array(result.means("r_fixed")), np.array(result.means("cif_es"))
    assert cif == pytest.approx(4000 / (1 - r_fixed - 0.02 - 0.8))
    assert result.means("server_profit_es") == pytest.approx(np.zeros_like(cif), abs=1e-6 * cif.max())
    servers = result.means("n_servers_es")
    assert min(servers) >= servers[0]  # no CBEC server goes broke


def test_summary_has_the_documented_columns_and_core_metrics():
    result = small_run()
    assert result.summary.columns == ["year", "metric", "mean", "sd", "ci_low", "ci_high", "n"]
    metrics = set(result.summary["metric"].to_list())
    assert {"output_index", "unit_revenue_ratio", "revenue_ts", "revenue_es", "vision_index",
            "transaction_time_ts", "transaction_time_es", "reproduction_time_index",
            "cbec_share", "n_suppliers", "n_servers_ts", "n_servers_es"} <= metrics
    assert result.means("output_index")[0] == pytest.approx(1.0)
    assert result.means("vision_index")[0] == pytest.approx(1.0)


def test_summary_ci_is_the_t_interval_over_replicates():
    result = small_run()
    values = result.replicates.filter((pl.col("metric") == "output") & (pl.col("year") == 2))["value"]
    row = result.metric("output").filter(pl.col("year") == 2).row(0, named=True)
    half = 4.302652729911275 * values.std() / np.sqrt(3)  # t(0.975, 2)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci_high"] - row["mean"] == pytest.approx(half)


def test_replicates_are_independent_draws():
    reps = small_run().replicates.filter((pl.col("metric") == "output") & (pl.col("year") == 3))
    assert reps["value"].n_unique() == 3


def test_agents_are_mesa_views_of_the_columnar_state(settings_for):
    model = CoevolutionModel(settings_for(), seed=1)
    suppliers = model.agents_by_type[Supplier]
    servers = model.agents_by_type[Server]
    assert len(suppliers) == 70 and len(servers) == 25
    assert len(model.agents_by_type[Context]) == 1
    agent = next(iter(suppliers))
    agent.funds = 123.0
    assert model.suppliers["funds"][agent.row] == 123.0
    assert agent.export_mode in ("TS", "ES")
    model.run(2)
    assert len(model.agents_by_type[Supplier]) == model.suppliers.n_active



def test_agent_views_follow_entry_and_exit(settings_for):
    model = CoevolutionModel(settings_for("lifecycle.entry_rate=5", "suppliers.fixed_cost=3000"), seed=2)
    first = {agent.row: agent for agent in model.agents_by_type[Supplier]}
    model.run(4)
    rows = {agent.row: agent for agent in model.agents_by_type[Supplier]}
    assert set(rows) == set(model.suppliers.active_rows().tolist())
    assert set(rows) != set(first), "the run should have seen entry or exit"
    assert all(rows[row] is first[row] for row in set(rows) & set(first))
    assert {a.row for a in model.agents if isinstance(a, Server)} == set(model.servers.active_rows().tolist())

def test_suppliers_sell_no_more_than_they_make(settings_for):
    model = CoevolutionModel(settings_for(), seed=3)
    for _ in range(4):
        model.step()
        rows = model.suppliers.active_rows()
        assert np.all(model.suppliers["sold"][rows] <= model.suppliers["output"][rows] + 1e-9)


def test_beta_and_gamma_drive_eqs_9_and_10_in_the_model(settings_for):
    result = simulate(["replicates=1", "years=3", "beta=0.2", "gamma=0.4"])
    assert result.means("r_fixed") == pytest.approx([0.1 * 0.8**t for t in range(4)])
    assert result.means("customs_time") == pytest.approx([5.0, 4.6, 4.2, 3.8])


def test_full_supervision_standardises_every_cbec_server_in_year_one():
    result = simulate(["replicates=2", "years=2", "alpha=1"])
    assert result.means("escape_share")[1:] == [0.0, 0.0]


def test_supervision_follows_the_cbec_share_of_last_years_sales():
    result = simulate(["replicates=1", "years=4", "alpha=0.2", "information.supervision_share=0.5"])
    share, supervision = result.means("cbec_share"), result.means("supervision")
    assert max(share[:-1]) < 0.5  # a small channel: supervised at less than the full alpha
    assert supervision == pytest.approx([0.0] + [1 - 0.8 ** (s / 0.5) for s in share[:-1]])
    always = simulate(["replicates=1", "years=2", "alpha=0.2", "information.supervision_share=0"])
    assert always.means("supervision") == pytest.approx([0.0, 0.2, 0.2])


def _window_weights(size: int, x: int, y: int, vision: float) -> np.ndarray:
    """A server's weight on each cell, by hand: the odd square below its vision whole, the ring around it in part."""
    h = int((np.sqrt(vision) - 1) // 2)
    ring = (vision - (2 * h + 1) ** 2) / ((2 * h + 3) ** 2 - (2 * h + 1) ** 2)
    weights = np.zeros((size, size))
    weights[max(x - h - 1, 0):x + h + 2, max(y - h - 1, 0):y + h + 2] = ring
    weights[max(x - h, 0):x + h + 1, max(y - h, 0):y + h + 1] = 1.0
    return weights


def test_visible_demand_matches_a_brute_force_count():
    rng = np.random.default_rng(0)
    space = DemandSpace(rng.random((12, 12)))
    x, y, vision = np.array([0, 5, 11, 6, 3]), np.array([0, 5, 3, 6, 8]), np.array([9.0, 25.0, 1.0, 9.0, 14.5])
    seen = space.visible(x, y, vision)
    windows = [_window_weights(12, *server) for server in zip(x, y, vision, strict=True)]
    coverage = np.sum(windows, axis=0)
    expected = [(space.grid * w / np.maximum(coverage, 1)).sum() for w in windows]
    assert seen == pytest.approx(expected)
    # shared cells are split, so servers together never see more than there is
    assert seen.sum() <= space.total + 1e-9
    assert space.coverage(x, y, vision) == pytest.approx(coverage)  # the windows' weight per cell, for plugins
    assert (space.coverage(x, y, vision)[coverage == 0] == 0).all()  # exactly: plugins test cells for == 0
    assert (space.coverage(x[:0], y[:0], vision[:0]) == 0).all()


def test_what_a_server_sees_grows_smoothly_with_its_vision():
    """A window covers exactly ``vision`` cells, so visible demand has no jumps as vision grows."""
    space = DemandSpace(np.ones((40, 40)))
    vision = np.linspace(9.0, 120.0, 200)
    seen = np.array([space.visible(np.array([20]), np.array([20]), np.array([v]))[0] for v in vision])
    assert seen == pytest.approx(vision)


def test_a_served_window_loses_customers_by_how_much_of_each_cell_it_sees():
    space = DemandSpace(np.ones((9, 9)))
    space.view(np.array([4]), np.array([4]), np.array([17.0])).deplete(np.array([0.5]))  # 3 x 3 and half the ring
    assert space.grid[4, 4] == pytest.approx(0.5) and space.grid[2, 2] == pytest.approx(0.75)
    assert space.grid[0, 0] == 1.0 and space.total == pytest.approx(81 - 0.5 * 17)


def test_a_view_keeps_its_windows_but_reads_the_demand_at_each_use():
    """The commodity mechanism sees demand at production and depletes the same windows after matching."""
    space = DemandSpace(np.ones((9, 9)))
    view = space.view(np.array([4]), np.array([4]), np.array([17.0]))
    space.scale(2.0)  # demand grows after the windows were built
    assert view.visible() == pytest.approx([34.0])
    view.deplete(np.array([0.5]))
    assert space.total == pytest.approx(2 * (81 - 0.5 * 17))
    assert view.visible() == pytest.approx([9 * 1.0 + 16 * 0.5 * 1.5])  # inner cells halved, the ring a quarter off


def test_entrant_servers_settle_where_demand_is_and_anywhere_when_there_is_none():
    rng = np.random.default_rng(2)
    grid = np.zeros((9, 9))
    grid[2, 7] = 1.0
    x, y = DemandSpace(grid).sample_locations(50, rng)
    assert (x == 2).all() and (y == 7).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NaN probabilities on an emptied demand space
        x, y = DemandSpace(np.zeros((9, 9))).sample_locations(2000, rng)
    assert np.unique(x * 9 + y).size > 70  # spread over the grid, not piled on one cell


def test_assignment_gives_servers_supply_in_proportion_to_what_they_can_sell():
    rng = np.random.default_rng(1)
    output = rng.uniform(1, 2, size=5000)
    sellable = np.array([1.0, 2.0, 3.0, 4.0])
    partner = _assign(output, np.array([10, 11, 12, 13]), sellable, rng)
    supply = np.array([output[partner == s].sum() for s in (10, 11, 12, 13)])
    assert supply / supply.sum() == pytest.approx(sellable / sellable.sum(), abs=1e-3)
    assert (_assign(output, np.array([], dtype=int), np.array([]), rng) == -1).all()


def test_agent_table_grows_and_keeps_exited_rows():
    table = AgentTable({"x": float}, capacity=2)
    rows = table.add(40, x=np.arange(40.0))
    table.deactivate(rows[:10])
    assert table.n_active == 30 and table["x"][5] == 5.0
    assert table.active_rows()[0] == 10
