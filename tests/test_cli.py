"""The command line, run as a user runs it: a subprocess in a fresh directory."""

import os
import subprocess
import sys

import pytest


def ccframe(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    return subprocess.run([sys.executable, "-m", "ccframe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_usage_line_runs_and_prints_the_scenario_summary(tmp_path):
    run = ccframe("+scenario=fund", "ctrans=3000", "replicates=3", "years=4", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "unit_revenue_ratio" in run.stdout and "revenue_es" in run.stdout
    assert len([line for line in run.stdout.splitlines() if line.startswith("│ ")]) == 6  # header + 5 years
    assert "replicate 3/3 done" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("override", "key"), [
    ("ctrans=-5", "ctrans"), ("beta=0.7", "beta"), ("iexp=1.2", "iexp"),
    ("replicates=0", "replicates"), ("fund.impl=nope", "fund.impl"),
])
def test_a_bad_value_is_one_line_and_a_nonzero_exit(tmp_path, override, key):
    run = ccframe(override, cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ccframe: error: {key}"), run.stderr
    assert run.stdout == ""


def test_cfg_job_prints_the_composed_config_without_running(tmp_path):
    run = ccframe("--cfg", "job", "+scenario=technology", "gamma=0.3", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "gamma: 0.3" in run.stdout and "name: technology" in run.stdout
    assert "replicate" not in run.stderr


def test_multirun_runs_one_job_per_combination(tmp_path):
    run = ccframe("-m", "ctrans=3000,4000", "replicates=2", "years=2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("replicate 2/2 done") == 2


def test_a_run_whose_clusters_die_out_finishes_and_says_so(tmp_path):
    run = ccframe("replicates=2", "tracking.enabled=false", "market.coverage=0.5",
                  cwd=tmp_path)  # servers that see half the base output: clusters die by year 3
    assert run.returncode == 0, run.stderr[-2000:]
    assert "2 of 2 replicates died out (no supplier or server left, from year" in run.stdout
