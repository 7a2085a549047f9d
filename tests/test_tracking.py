"""MLflow tracking: what a researcher finds in the store after a run or a sweep."""

import json
import os
import shutil
import subprocess
import sys

import polars as pl
import pytest

from ccframe import simulate
from ccframe.tracking import flatten, metric_series

mlflow = pytest.importorskip("mlflow")


def ccframe(*args, cwd, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "ccframe", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=600)


def store(path):
    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{path / 'mlflow.db'}")


@pytest.fixture(scope="module")
def fund_run(tmp_path_factory):
    """The README's main job, in an empty directory (fewer replicates to keep the suite fast)."""
    cwd = tmp_path_factory.mktemp("fund")
    run = ccframe("+scenario=fund", "ctrans=3000", "replicates=3", cwd=cwd)
    assert run.returncode == 0, run.stderr
    client = store(cwd)
    experiment = client.get_experiment_by_name("fund")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    return client, runs[0], cwd


def test_the_run_is_in_the_default_store_with_its_params(fund_run):
    _, run, cwd = fund_run
    assert (cwd / "mlflow.db").exists()
    assert run.data.params["ctrans"] == "3000"
    assert run.data.params["fund.impl"] == "cif"
    assert run.data.params["scenario.name"] == "fund"
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "+scenario=fund ctrans=3000 replicates=3"


def test_metrics_are_replicate_means_per_year_with_sd_and_ci(fund_run):
    client, run, cwd = fund_run
    history = client.get_metric_history(run.info.run_id, "unit_revenue_ratio")
    assert sorted(m.step for m in history) == list(range(11))
    low = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "unit_revenue_ratio_ci_low")}
    assert all(low[m.step] <= m.value for m in history)
    local = pl.read_parquet(next(cwd.glob("outputs/*/*/summary.parquet")))
    year5 = local.filter((pl.col("metric") == "unit_revenue_ratio") & (pl.col("year") == 5))["mean"][0]
    assert {m.step: m.value for m in history}[5] == pytest.approx(year5)


def test_artifacts_hold_config_parquet_and_figures(fund_run):
    client, run, _ = fund_run
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "summary.parquet", "replicates.parquet", "figures"} <= top
    assert [a.path for a in client.list_artifacts(run.info.run_id, "figures")] == ["figures/fund.png"]


def test_tags_name_scenario_version_and_every_mechanism_plugin(fund_run):
    _, run, _ = fund_run
    tags = run.data.tags
    assert tags["ccframe.scenario"] == "fund"
    assert tags["ccframe.overrides"] == "+scenario=fund ctrans=3000 replicates=3"
    assert tags["ccframe.mechanism.fund"] == "cif"
    assert tags["ccframe.plugin.fund"].startswith("ccframe.mechanisms.fund (ccframe ")
    assert "ccframe.version" in tags


def test_a_multirun_is_one_parent_run_with_a_child_per_job(tmp_path):
    run = ccframe("-m", "+scenario=fund", "ctrans=3000,4000", "replicates=2", "years=3", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    client = store(tmp_path)
    runs = client.search_runs([client.get_experiment_by_name("fund").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert sorted(c.data.params["ctrans"] for c in children) == ["3000", "4000"]
    assert parents[0].info.status == "FINISHED"
    figures = [a.path for a in client.list_artifacts(parents[0].info.run_id, "figures")]
    assert figures == ["figures/comparison.png"]


def test_simulate_logs_unless_told_not_to(tmp_path):
    uri = f"sqlite:///{tmp_path / 'api.db'}"
    simulate(["replicates=2", "years=2", f"tracking.uri={uri}", "tracking.experiment=api"])
    simulate(["replicates=2", "years=2", f"tracking.uri={uri}", "tracking.experiment=api",
              "tracking.enabled=false"])
    client = mlflow.MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("api").experiment_id])
    assert len(runs) == 1
    assert "summary.parquet" in {a.path for a in client.list_artifacts(runs[0].info.run_id)}


def test_an_unreachable_store_costs_a_warning_not_the_results(tmp_path):
    run = ccframe("replicates=2", "years=2", "tracking.uri=http://127.0.0.1:9", cwd=tmp_path,
                  env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"})
    assert run.returncode == 0, run.stderr
    assert "ccframe: warning: tracking store unreachable" in run.stderr and "python -m ccframe sync" in run.stderr
    assert list(tmp_path.glob("outputs/*/*/summary.parquet"))


def test_flatten_gives_dotted_keys_and_string_values():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"}) == {"a.b": "1", "a.c": "[1, 2]", "d": "x"}


def test_metric_series_has_mean_and_companions_per_year():
    summary = pl.DataFrame({"year": [0, 1], "metric": ["m", "m"], "mean": [1.0, 2.0],
                            "sd": [0.1, None], "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5], "n": [3, 3]})
    series = metric_series(summary)
    assert ("m", 2.0, 1) in series and ("m_ci_high", 2.5, 1) in series
    assert any(k == "m_sd" and s == 1 and v != v for k, v, s in series)  # a missing sd is NaN


def test_the_run_folder_is_a_complete_record_uploaded_only_once(fund_run):
    from ccframe.tracking import upload

    client, run, cwd = fund_run
    folder = next(cwd.glob("outputs/*/*/run.json")).parent
    assert upload(folder) == run.info.run_id
    experiment = client.get_experiment_by_name("fund")
    assert len(client.search_runs([experiment.experiment_id])) == 1
    (folder / ".uploaded").unlink()
    again = upload(folder)  # a fresh upload from the folder alone reproduces the run
    copy = client.get_run(again)
    assert copy.data.params == run.data.params
    assert [m.value for m in client.get_metric_history(again, "output_index")] == \
        [m.value for m in client.get_metric_history(run.info.run_id, "output_index")]


@pytest.mark.parametrize(("args", "early"), [
    (["+scenario=fund", "ctrans=3000"], True),
    (["task=simulate", "tracking.uri=sqlite:///x.db"], True),
    (["+scenario=fund", "tracking.enabled=false"], False),
    (["tracking.enabled=False"], False),
    (["-m", "ctrans=3000,4000"], False),  # each job of a sweep starts its own worker
    (["--cfg", "job"], False),
    (["task=sem"], False),
    (["plugins"], False),
    (["check", "ctrans=3000"], False),
])
def test_mlflow_loads_early_only_for_one_logged_simulation(args, early):
    from ccframe.argv import single_tracked_simulation

    assert single_tracked_simulation(args) is early


def test_an_early_worker_no_job_takes_is_stopped():
    from ccframe import uploader

    uploader.start_early(["ctrans=3000"])
    worker = uploader._worker
    assert worker is not None
    uploader.stop_worker()
    assert not worker.alive() and uploader._worker is None


def test_one_worker_uploads_the_jobs_of_a_process_one_after_another(fund_run, tmp_path):
    from ccframe import uploader
    from ccframe.outputs import SUMMARY_FILE
    from ccframe.tracking import MANIFEST_FILE

    client, run, cwd = fund_run
    [folder] = [p.parent for p in cwd.glob(f"outputs/*/*/{SUMMARY_FILE}")]
    uri = f"sqlite:///{tmp_path / 'again.db'}"
    first = uploader.uploader_for(uri)
    copies = []
    for name in ("a", "b"):
        copy = tmp_path / name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".uploaded"))
        manifest = json.loads((copy / MANIFEST_FILE).read_text())
        (copy / MANIFEST_FILE).write_text(json.dumps({**manifest, "tracking_uri": uri, "run_key": name}))
        copies.append(uploader.uploader_for(uri).upload(copy))
    assert uploader.uploader_for(uri) is first and len(set(copies)) == 2
    uploader.stop_worker()
    assert len(mlflow.MlflowClient(tracking_uri=uri).search_runs(
        [mlflow.MlflowClient(tracking_uri=uri).get_experiment_by_name("fund").experiment_id])) == 2
