"""The experiments run end to end on a reduced study (their full versions run from experiments/)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from ccframe.reproduction import run_design

SENSITIVITY = Path(__file__).resolve().parents[1] / "experiments" / "sensitivity"


def test_the_sensitivity_study_ranks_every_parameter_and_logs_one_mlflow_run(tmp_path):
    study = (SENSITIVITY / "study.yaml").read_text()
    small = study.replace("samples: 10 ", "samples: 2 ").replace("replicates=5", "replicates=1, years=3")
    small = small.replace("year: 10}", "year: 3}")
    (tmp_path / "small.yaml").write_text(small)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    run = subprocess.run([sys.executable, str(SENSITIVITY / "run.py"), "--study", "small.yaml", "--out", "out",
                          "--jobs", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    indices = pl.read_parquet(tmp_path / "out" / "indices.parquet")
    assert indices.height == (4 + 1) * 8  # every (output, parameter), the breakdown indicator included
    assert (indices["mu_star"].fill_nan(0) >= 0).all() and indices["trajectories"].max() == 2
    assert (tmp_path / "out" / "indices.png").stat().st_size > 0
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    [logged] = client.search_runs([client.get_experiment_by_name("sensitivity").experiment_id])
    assert logged.data.params["method"] == "morris"
    assert "mu_star.output_index.y3.ctrans" in logged.data.metrics


def test_the_knockout_experiment_tabulates_every_hypothesis_under_every_variant(tmp_path):
    here = Path(__file__).resolve().parents[1] / "experiments" / "virtual_survey"
    run = subprocess.run([sys.executable, str(here / "run.py"), "--replicates", "2", "--jobs", "2",
                          "--out", str(tmp_path / "out"), "task.clusters=6", "task.n=90", "years=3"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    variants = list(yaml.safe_load((here / "knockouts.yaml").read_text()))
    summary = pl.read_parquet(tmp_path / "out" / "summary.parquet")
    assert summary.height == 16 * len(variants) and set(summary["replicates"]) == {2}
    table = (tmp_path / "out" / "summary.md").read_text().split("## Mean standardised estimate")[1]
    rows = [line for line in table.splitlines() if line.startswith("| H") and not line.startswith("| H |")]
    assert [row.split("|")[1].strip() for row in rows] == [f"H{k}" for k in range(1, 17)]
    assert all(row.count("|") == len(variants) + 4 for row in rows)
    assert {p.name for p in (tmp_path / "out" / "figures").iterdir()} == {"support_rates.png", "estimates.png"}
    again = subprocess.run([sys.executable, str(here / "run.py"), "--tables-only", "--out", str(tmp_path / "out"),
                            "task.clusters=6", "task.n=90", "years=3"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (tmp_path / "out" / "summary.md").read_text().split("## Mean standardised estimate")[1] == table


def test_a_variant_whose_surveys_could_not_be_fielded_counts_as_unsupported_and_shows_no_estimate():
    import importlib.util

    from omegaconf import OmegaConf

    from ccframe.runner import compose

    here = Path(__file__).resolve().parents[1] / "experiments" / "virtual_survey"
    loader = importlib.util.spec_from_file_location("knockout_run", here / "run.py")
    run = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(run)
    hypotheses = [f"H{k}" for k in range(1, 17)]
    alive = pl.DataFrame({"hypothesis": hypotheses * 2, "std": [0.3] * 16 + [0.2] * 16, "p": [0.01] * 32,
                          "supported": [True] * 32, "variant": "baseline", "replicate": [0] * 16 + [1] * 16,
                          "collapsed_share": 0.1})
    dead = pl.DataFrame({"hypothesis": hypotheses, "std": None, "p": None, "supported": False, "variant": "dead",
                         "replicate": 0, "collapsed_share": None},
                        schema_overrides={"std": pl.Float64, "p": pl.Float64, "collapsed_share": pl.Float64})
    summary = run.summarise(pl.concat([alive, dead], how="diagonal_relaxed"))
    gone = summary.filter(pl.col("variant") == "dead")
    assert gone["support_rate"].to_list() == [0.0] * 16 and gone["surveyed"].to_list() == [0] * 16
    assert gone["mean_std"].is_nan().all()
    deps = run.dependencies(summary, ["baseline", "dead"])
    assert deps["needs"].to_list() == ["dead"] * 16
    config = OmegaConf.to_container(compose(["task=virtual_survey"]), resolve=True)
    table = run.knockout_table(summary, deps, ["baseline", "dead"], config)
    assert "| H1 | A1←B1 | .239 | 0.25 (1.00)<br>[−0.39, 0.89] | **– (0.00)** |" in table.splitlines()


CALIBRATE = Path(__file__).resolve().parents[1] / "experiments" / "calibrate" / "calibrate.py"


def test_a_calibration_of_some_facts_scores_only_those_and_still_checks_all_eight(tmp_path):
    (tmp_path / "space.yaml").write_text("parameters:\n  market.growth: {low: 0.05, high: 0.1}\n")
    run = subprocess.run([sys.executable, str(CALIBRATE), "--trials", "2", "--replicates", "1",
                          "--check-replicates", "1", "--facts", "f5,F1", "--study", "subset",
                          "--space", str(tmp_path / "space.yaml"), "--storage", f"sqlite:///{tmp_path / 'optuna.db'}",
                          "--mlflow-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("calibration").experiment_id])
    [study] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert study.data.tags["facts"] == "F1,F5" and len(trials) == 2
    for trial in trials:  # the standard model only: no sweep was run, the six standard facts were checked
        metrics = trial.data.metrics
        assert {"loss_F3", "loss_F4"}.isdisjoint(metrics) and {"loss_F2", "loss_F8"} <= set(metrics)
        assert metrics["loss"] == pytest.approx(metrics["loss_F1"] + metrics["loss_F5"])
    checked = study.data.metrics  # the best trial's check runs the whole design
    assert {f"pass_F{k}" for k in range(1, 9)} <= set(checked)
    assert checked["loss"] == pytest.approx(checked["loss_F1"] + checked["loss_F5"])
    assert checked["loss_all"] == pytest.approx(sum(checked[f"loss_F{k}"] for k in range(1, 9)))
    other = subprocess.run([sys.executable, str(CALIBRATE), "--facts", "F1", "--study", "subset",
                            "--storage", f"sqlite:///{tmp_path / 'optuna.db'}"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert other.returncode != 0 and "scores facts F1,F5, not F1" in other.stderr  # a study keeps one objective


def test_a_calibration_over_seed_blocks_scores_the_mean_over_blocks(tmp_path):
    (tmp_path / "space.yaml").write_text("parameters:\n  market.growth: {low: 0.05, high: 0.1}\n")
    common = ["--space", str(tmp_path / "space.yaml"), "--storage", f"sqlite:///{tmp_path / 'optuna.db'}",
              "--mlflow-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--study", "blocks", "--facts", "F5,F7"]
    run = subprocess.run([sys.executable, str(CALIBRATE), "--trials", "1", "--replicates", "1", "--check-replicates",
                          "1", "--blocks", "2", "--seed", "7", *common], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    import optuna

    [trial] = optuna.load_study(study_name="blocks", storage=f"sqlite:///{tmp_path / 'optuna.db'}").trials
    one_block = [run_design([f"market.growth={trial.params['market.growth']!r}"], replicates=1, seed=seed,
                            ctrans=(), iexp=()) for seed in (7, 8)]
    losses = [sum(r.loss for r in design.facts if r.fact in ("F5", "F7")) for design in one_block]
    assert trial.value == pytest.approx(np.mean(losses))  # the mean over root seeds 7 and 8
    assert trial.user_attrs["F5"] == np.mean([r.passed for d in one_block for r in d.facts if r.fact == "F5"])
    again = subprocess.run([sys.executable, str(CALIBRATE), "--trials", "1", *common], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "scores blocks 2, not 1" in again.stderr  # a study keeps its blocks


def test_a_calibration_from_scratch_does_not_try_the_current_defaults_first(tmp_path):
    import optuna
    from omegaconf import OmegaConf

    from ccframe.runner import compose

    (tmp_path / "space.yaml").write_text("parameters:\n  market.growth: {low: 0.0, high: 0.15}\n")
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    common = ["--space", str(tmp_path / "space.yaml"), "--storage", storage, "--facts", "F5",
              "--mlflow-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--trials", "1", "--replicates", "1",
              "--check-replicates", "1"]
    for study, extra in (("defaults", []), ("scratch", ["--from-scratch"])):
        run = subprocess.run([sys.executable, str(CALIBRATE), "--study", study, *extra, *common], cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    default = OmegaConf.select(compose(), "market.growth")
    [first] = optuna.load_study(study_name="defaults", storage=storage).trials
    [sampled] = optuna.load_study(study_name="scratch", storage=storage).trials
    assert first.params["market.growth"] == pytest.approx(default)
    assert sampled.params["market.growth"] != pytest.approx(default) and "fixed_params" not in sampled.system_attrs
    both = subprocess.run([sys.executable, str(CALIBRATE), "--from-scratch", "--start", "alpha=0.3"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert both.returncode != 0 and "--from-scratch and --start" in both.stderr


def test_a_calibration_with_a_total_resumes_to_that_end_and_no_further(tmp_path):
    import optuna

    (tmp_path / "space.yaml").write_text("parameters:\n  market.growth: {low: 0.05, high: 0.1}\n")
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    common = ["--space", str(tmp_path / "space.yaml"), "--storage", storage, "--facts", "F5", "--study", "total",
              "--mlflow-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--replicates", "1", "--check-replicates", "1"]
    for total, expected in ((2, 2), (2, 2), (3, 3)):  # the second command finds its study done
        run = subprocess.run([sys.executable, str(CALIBRATE), "--total", str(total), *common], cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(optuna.load_study(study_name="total", storage=storage).trials) == expected
    both = subprocess.run([sys.executable, str(CALIBRATE), "--total", "2", "--trials", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert both.returncode != 0 and "not allowed with argument" in both.stderr


def test_a_calibration_refuses_an_unknown_fact(tmp_path):
    run = subprocess.run([sys.executable, str(CALIBRATE), "--facts", "F1,F9"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "--facts" in run.stderr and "F9" in run.stderr
    assert not (tmp_path / "mlflow.db").exists()


@pytest.fixture(scope="module")
def calibrate():
    """experiments/calibrate/calibrate.py as a module (a script, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("calibrate", CALIBRATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_warm_start_tries_the_earlier_best_with_the_keys_it_lacked_at_their_defaults(calibrate):
    import optuna
    from omegaconf import OmegaConf

    from ccframe.runner import compose

    earlier = optuna.create_study()
    growth = optuna.distributions.FloatDistribution(0, 1)
    earlier.add_trial(optuna.trial.create_trial(params={"market.growth": 0.07}, value=1.0,
                                                distributions={"market.growth": growth}))
    space = {"market.growth": {"low": 0.05, "high": 0.1}, "alpha": {"low": 0.0, "high": 0.9},
             "market.coverage": {"low": 0.8, "high": 1.5}}
    study = optuna.create_study()
    calibrate.warm_start(study, earlier, space)
    [queued] = study.trials
    defaults = compose()
    assert queued.system_attrs["fixed_params"] == {"market.growth": 0.07, "alpha": OmegaConf.select(defaults, "alpha"),
                                                   "market.coverage": 1.5}  # the default, clipped into range


def test_a_study_may_start_from_the_defaults_with_some_searched_keys_changed(calibrate):
    space = {"market.growth": {"low": 0.05, "high": 0.1}, "market.coverage": {"low": 0.8, "high": 1.5}}
    assert calibrate.starting_point(space, ["market.growth=0.07"]) == {"market.growth": 0.07, "market.coverage": 1.5}
    with pytest.raises(SystemExit, match="alpha is not a searched key"):
        calibrate.starting_point(space, ["alpha=0.3"])
    with pytest.raises(SystemExit, match="outside the space's range"):
        calibrate.starting_point(space, ["market.growth=0.2"])


def test_a_calibration_may_pick_the_trial_that_holds_most_facts_over_the_blocks(calibrate):
    import optuna

    study = optuna.create_study()
    growth = {"market.growth": optuna.distributions.FloatDistribution(0, 1)}
    for value, held in ((1.0, {"F1": 0.4, "F2": 0.0}), (5.0, {"F1": 0.4, "F2": 0.6}), (4.0, {"F1": 1.0, "F2": 0.0})):
        study.add_trial(optuna.trial.create_trial(params={"market.growth": 0.07}, distributions=growth, value=value,
                                                  user_attrs=held))
    assert calibrate.picked(study, "", ("F1", "F2")).number == 0  # the lowest loss
    assert calibrate.picked(study, "facts", ("F1", "F2")).number == 2  # 1.0 held, as trial 1, at a lower loss
    assert calibrate.picked(study, "facts", ("F2",)).number == 1  # only the scored facts count
    assert calibrate.picked(study, "1", ("F1",)).number == 1
    with pytest.raises(SystemExit, match="--pick 7"):
        calibrate.picked(study, "7", ("F1",))


def test_a_new_studys_provenance_goes_at_the_end_of_the_odds_calibration_section(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(CALIBRATE.parent))
    import conf_writer

    odd = tmp_path / "ODD.md"
    odd.write_text("### 3.7 Calibration\n\nearlier stages\n\n## Observation: the virtual survey\n\nitems\n")
    conf_writer.record_in_odd(odd, "#### Stage `s1`\n\nfirst", "s1")
    conf_writer.record_in_odd(odd, "#### Stage `s1`\n\nsecond", "s1")  # a rewrite replaces it in place
    text = odd.read_text()
    assert text.index("earlier stages") < text.index("second") < text.index("## Observation")
    assert "first" not in text and text.count("calibration:s1:begin") == 1


def test_as_written_is_the_value_conf_holds_once_written(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(CALIBRATE.parent))
    import conf_writer
    from omegaconf import OmegaConf

    (tmp_path / "market").mkdir()
    (tmp_path / "config.yaml").write_text("defaults:\n  - market: default\n  - _self_\nalpha: 0.3  # eq. 8\n")
    (tmp_path / "market" / "default.yaml").write_text("growth: 0.05  # a year\n")
    sampled = {"alpha": 0.34445213987, "market.growth": 1234567.891}
    conf_writer.write(tmp_path, sampled, "test", "s1")
    held = {"alpha": OmegaConf.load(tmp_path / "config.yaml").alpha,
            "market.growth": OmegaConf.load(tmp_path / "market" / "default.yaml").growth}
    assert held == {key: conf_writer.as_written(value) for key, value in sampled.items()} == {
        "alpha": 0.344452, "market.growth": 1234570.0}
