"""``python -m ccframe task=sem``, run as a user runs it: the report, the MLflow run, one-line errors."""

import os
import subprocess
import sys

import polars as pl
import pytest

from ccframe.sem.population import load_population
from ccframe.sem.report import load_published


def ccframe(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    return subprocess.run([sys.executable, "-m", "ccframe", "task=sem", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("sem")
    run = ccframe("hydra.run.dir=out", cwd=cwd)
    return run, cwd


def test_default_run_prints_every_table_beside_the_paper(default_run):
    run, _ = default_run
    assert run.returncode == 0, run.stderr
    out = run.stdout
    order = ["Table 1: items", "Table 2: hypotheses", "Pre-analysis", "Table 3",
             "Table 4", "Table 5", "Cronbach", "Violation of estimation checks",
             "Model revision", "Table 6", "Table 7", "Table 8", "Table 9", "Modification indices"]
    positions = [out.index(name) for name in order]
    assert positions == sorted(positions)
    assert "simulated from population_wang2022 (n = 481, seed 3576)" in out
    assert "paper_std" in out and "0.239" in out  # H1's published value beside ours
    assert "revise: step 0" in run.stderr and "Traceback" not in run.stderr


def test_default_run_is_logged_to_mlflow(default_run):
    from mlflow import MlflowClient

    run, cwd = default_run
    client = MlflowClient(tracking_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sem")
    (logged,) = client.search_runs([experiment.experiment_id])
    assert logged.info.status == "FINISHED"
    assert logged.data.params["task.spec"] == "wang2022_revised"
    assert logged.data.metrics["df"] == 272 and 0 < logged.data.metrics["rmsea"] < 0.1
    assert logged.data.tags["ccframe.sem.admissible"] == "True"
    files = {f.path for f in client.list_artifacts(logged.info.run_id, "sem")}
    assert {"sem/report.txt", "sem/estimates.parquet", "sem/fit_indices.json", "sem/tables",
            "sem/path_diagram.png"} <= files
    assert (cwd / "out" / "sem" / "path_diagram.png").stat().st_size > 50_000
    estimates = pl.read_parquet(cwd / "out" / "sem" / "estimates.parquet")
    assert estimates.filter(pl.col("label").is_not_null()).height == 16


def test_a_users_csv_with_its_own_delimiter(tmp_path):
    from ccframe.sem.population import simulate

    simulate(n=300, seed=1).write_csv(tmp_path / "survey.csv", separator=";")
    run = ccframe("task.data=survey.csv", "task.delimiter=semicolon", "task.revise.enabled=false",
                  "task.preanalysis=false", "task.modification_indices=0", "tracking.enabled=false", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "data: survey.csv; N = 300" in run.stdout and "Table 7" in run.stdout


@pytest.mark.parametrize(("args", "start"), [
    (["task.spec=nope"], "ccframe: error: sem spec 'nope' not found"),
    (["task.data=absent.csv"], "ccframe: error: data absent.csv: no such file"),
    (["task.data=bad.csv"], "ccframe: error: data bad.csv: column C5 line 3: 'x' is not a number"),
    (["task.bootstrap.draws=1"], "ccframe: error: task.bootstrap.draws: expected 0 (off) or at least 2"),
    (["task.missing=impute"], "ccframe: error: task.missing: expected one of ['error', 'listwise']"),
    (["+task.extra=1"], "ccframe: error: task.extra: unknown key"),
])
def test_bad_spec_data_or_value_is_one_line(tmp_path, args, start):
    from ccframe.sem.population import simulate

    frame = simulate(n=50, seed=1).with_columns(pl.col("C5").cast(pl.Utf8))
    frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("x")).otherwise(pl.col("C5")).alias("C5")) \
        .write_csv(tmp_path / "bad.csv")
    run = ccframe(*args, cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), run.stderr
    assert not (tmp_path / "mlflow.db").exists()  # nothing logged, not even half a run


def test_an_inadmissible_solution_is_not_reported_as_a_fit():
    from ccframe.sem.checks import violations
    from ccframe.sem.fit import fit
    from ccframe.sem.population import simulate
    from ccframe.sem.report import build_report

    result = fit("wang2022_revised", simulate(n=481, seed=3576))
    checks = violations(result, near_one=0.5)  # every loading above 0.5 now counts as "near 1"
    report = build_report(result, checks, {"rmsea": ("<", 0.1)})
    assert not report.admissible
    assert not any(name.startswith("Table 6") or name.startswith("Table 7") for name in report.tables)
    assert "NOT ADMISSIBLE" in report.text()


def test_published_values_agree_with_the_population_model():
    """The report's reference column and the population's parameters are the same Tables 7 and 9."""
    published = load_published("published_wang2022")
    pop = load_population()
    for item, values in published["measurement"].items():
        assert pop.loadings[pop.column(item)] == values[0]
    spec = pop.spec
    for rel in spec.regressions:
        gamma = pop.gamma[pop.endogenous.index(rel.lhs), pop.exogenous.index(rel.rhs)]
        assert published["structural"][rel.label][0] == gamma
    for rel in spec.covariances:
        if rel.lhs in pop.exogenous:
            phi = pop.phi[pop.exogenous.index(rel.lhs), pop.exogenous.index(rel.rhs)]
            assert published["structural"][rel.label][0] == phi
    assert published["structural"]["H16"][0] == pop.disturbance_corr[0, 1]
