"""Validation everywhere: random overrides at the CLI entry end in a valid run or one clean error line."""

import math
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ccframe.runner import compose
from ccframe.tracking import flatten

LEAF_KEYS = sorted(flatten(compose([]))) + ["scenario.name", "tracking.enabled"]
#: Keys the run test pins (years, replicates, tracking) or that make a valid run long or large (agents, grid).
PINNED_OR_COSTLY = ("years", "replicates", "tracking.enabled", "count", "grid_size", "hotspots", "vision0")

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    finite.map(lambda x: x * 1e300),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 2**63, 2**64, "1e400", "-1e400"]),
).map(lambda v: v if isinstance(v, str) else ("nan" if isinstance(v, float) and math.isnan(v) else repr(v)))
texts = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["", "true", "false", "null", "[1,2]", "[]", "{a:1}", "abc", "'quoted'", "1,2", "${oc.env:HOME}",
                     "${oc.env:CCFRAME_UNSET_VARIABLE}", "${eval:1+1}", "${ctrans}", "${nope}",
                     "__import__('os').system('touch pwned')", "!!python/object/apply:os.system ['touch x']",
                     "lambda: 1", "1+1", "exec('1')", "${oc.decode:'[1,2]'}"]),
)
values = st.one_of(numbers, texts)
misspelt = st.sampled_from(LEAF_KEYS).flatmap(
    lambda key: st.integers(0, len(key) - 1).map(lambda i: key[:i] + key[i + 1:] if key[i] != "." else key + "x"))
keys = st.one_of(
    st.sampled_from(LEAF_KEYS),
    misspelt,
    st.sampled_from(["personalisation.rate", "fund.fixd", "nope", "market.nope.deeper", "hydra.nope", "fund"]),
    st.text(alphabet=string.ascii_letters + "._-~+", min_size=1, max_size=10),
)
prefixes = st.sampled_from(["", "", "", "", "+", "++", "~"])
overrides = st.builds(lambda p, k, v: f"{p}{k}={v}", prefixes, keys, values)


def assert_valid_or_one_clean_line(status, out, err):
    if status == 0:
        return
    lines = err.strip().splitlines()
    assert status in (1, 2), (status, err)
    assert len(lines) == 1 and lines[0].startswith("ccframe: error: "), err
    assert "Traceback" not in err


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(override=overrides)
@example(override="~fund=[]")  # a config group is deleted by name: Hydra raises a bare ValueError on a list
def test_a_thousand_random_overrides_are_accepted_or_refused_in_one_line(override, cli_entry):
    status, out, err = cli_entry("check", override)
    assert_valid_or_one_clean_line(status, out, err)
    if status == 0:
        assert out.strip() == "ccframe: ok: 1 job valid"
    else:
        assert status == 2 and out == ""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(override=overrides.filter(lambda o: not any(word in o for word in PINNED_OR_COSTLY)))
@example(override="-=0")  # looks like a flag: Hydra's argparse would print its usage
@example(override="task.name=0")  # a task that does not exist: check must refuse it too
def test_random_overrides_on_a_real_run_end_in_a_result_or_one_clean_line(override, tmp_path, cli_entry):
    checked = cli_entry("check", override)[0]
    status, out, err = cli_entry(override, "years=1", "replicates=1", "tracking.enabled=false",
                                 f"hydra.run.dir={tmp_path}/run", "hydra.output_subdir=null")
    assert_valid_or_one_clean_line(status, out, err)
    if checked == 0:
        assert status in (0, 1), err  # ran: a result, or a model error (exit 1) in one line
    else:
        assert status == 2, err  # what check refuses, the run refuses, before running
        assert "replicate 1/1 done" not in err


def test_check_refuses_a_task_that_does_not_exist_as_the_run_does(cli_entry):
    status, out, err = cli_entry("check", "task.name=nope")
    assert status == 2 and out == ""
    assert err.strip() == "ccframe: error: task: no such task 'nope'; available: sem, simulate, virtual_survey"


def test_a_bad_value_in_the_last_job_of_a_sweep_stops_it_before_the_first_job(tmp_path, cli_entry):
    status, out, err = cli_entry("-m", "ctrans=3000,-5", "years=1", "replicates=1", "tracking.enabled=false",
                                 f"hydra.sweep.dir={tmp_path}/sweep")
    assert status == 2 and err.strip() == "ccframe: error: job 1 (ctrans=-5): ctrans: must be in (0, inf), got -5.0"
    assert not (tmp_path / "sweep").exists()  # no job ran, no parent run was made


@pytest.mark.parametrize(("override", "message"), [
    ("fund.fixd=1", "fund.fixd: unknown key ('fund.fixd' is not in the config; a parameter of a mechanism that "
                    "is not selected?); keys under fund: impl, revenue_share,"),
    ("personalisation.rate=0.2", "personalisation.rate: "),  # wording depends on whether its plugin is installed
    ("ctrans=[1,2", "malformed override: no viable alternative at input '[1,2'"),
    ("market=[1]", "market: a config group, choose an option by name (available: default), got [1]"),
    ("ctrans=${oc.env:CCFRAME_UNSET_VARIABLE}", "ctrans: KeyError raised while resolving interpolation: "
                                                "\"Environment variable 'CCFRAME_UNSET_VARIABLE' not found\""),
    ("suppliers.s1.count=100000000000", "suppliers.s1.count: must be in [0, 1e+07], got 100000000000"),
])
def test_hydra_errors_become_one_line_naming_the_key_and_what_is_allowed(override, message, tmp_path, cli_entry):
    status, out, err = cli_entry(override, "years=1", "replicates=1", "tracking.enabled=false",
                                 f"hydra.run.dir={tmp_path}", "hydra.output_subdir=null")
    assert status == 2, err
    assert err.startswith(f"ccframe: error: {message}") and err.count("\n") == 1, err
