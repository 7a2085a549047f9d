"""Config composition and validation: every scenario composes, bad values get one clear line."""

from pathlib import Path

import pytest

from ccframe.params import ConfigError
from ccframe.runner import compose, settings_from
from ccframe.testing import small_run

SCENARIOS = sorted(p.stem for p in (Path(__file__).parents[1] / "conf" / "scenario").glob("*.yaml"))


def test_the_four_seed_scenarios_are_configured():
    assert SCENARIOS == ["commodity", "fund", "information", "technology"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_composes_and_runs(scenario):
    result = small_run([f"+scenario={scenario}"])
    assert result.settings.scenario.name == scenario
    for metric in result.settings.scenario.metrics:
        assert len(result.means(metric)) == 5  # base year + 4


def test_top_level_knobs_reach_the_settings(settings_for):
    s = settings_for("+scenario=fund", "ctrans=3000", "iexp=0.3", "alpha=0.2", "beta=0.1",
                     "gamma=0.3", "years=7", "replicates=4", "seed=9")
    assert (s.ctrans, s.iexp, s.alpha, s.beta, s.gamma, s.years, s.replicates, s.seed) == (
        3000.0, 0.3, 0.2, 0.1, 0.3, 7, 4, 9)


def test_mechanism_slots_are_filled_by_the_configured_implementations(settings_for):
    s = settings_for()
    assert {slot: m.info.name for slot, m in s.mechanisms.items()} == {
        "commodity": "cournot", "fund": "cif", "information": "vision",
        "technology": "learning", "export_choice": "logit", "lifecycle": "profit"}


@pytest.mark.parametrize(("override", "message"), [
    ("ctrans=-5", "ctrans: must be in (0, inf), got -5"),
    ("beta=0.7", "beta: must be in [0, 0.5), got 0.7"),
    ("beta=0.5", "beta: must be in [0, 0.5), got 0.5"),
    ("gamma=-0.1", "gamma: must be in [0, 0.5), got -0.1"),
    ("alpha=1.5", "alpha: must be in [0, 1], got 1.5"),
    ("iexp=1.2", "iexp: must be in [0, 1), got 1.2"),
    ("replicates=0", "replicates: must be in [1, 100000], got 0"),
    ("years=2.5", "years: expected an integer, got 2.5"),
    ("ctrans=abc", "ctrans: expected a number, got 'abc'"),
    ("alpha=nan", "alpha: expected a finite number, got nan"),
    ("market.b=0", "market.b: must be in (0, inf), got 0"),
    ("suppliers.s1.count=-1", "suppliers.s1.count: must be in [0, 1e+07], got -1"),
    ("fund.revenue_share=2", "fund.revenue_share: must be in [0, 1], got 2"),
    ("fund.impl=nope", "fund.impl: no such mechanism 'nope'; available: cif"),
    ("+fund.typo=1", "fund.typo: not a parameter of fund.impl=cif (its parameters: discount_rate"),
    ("+suppliers.typo=1", "suppliers.typo: unknown key; allowed keys are"),
    ("iexp=0.9", "iexp: context.r_fixed0 + context.r_insu + iexp must be < 1"),
    ("fund.revenue_share=0.1", "fund.revenue_share: must be >= iexp (0.2): the supplier's share R_re = "),
    ("fund.revenue_share=0.7 context.r_fixed0=0.6",
     "fund.revenue_share: revenue_share - iexp + context.r_fixed0 + context.r_insu must be < 1, got 1.12"),
    ("suppliers.s3.scale=20", "suppliers: scales must satisfy s1 >= s2 >= s3"),
    ("market.a=10", "market.a: must exceed the base-year cluster marginal cost"),
])
def test_bad_values_are_rejected_with_one_line_naming_key_range_and_value(override, message):
    with pytest.raises(ConfigError) as info:
        settings_from(compose(override.split()))  # a case may set several keys
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_a_missing_key_is_named():
    with pytest.raises(ConfigError, match=r"^market\.a: missing; a, intercept"):
        settings_from(compose(["~market.a"]))
