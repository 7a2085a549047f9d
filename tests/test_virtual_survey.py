"""The virtual survey: measurement functions, discretisation, planted correlations, the task."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from omegaconf import OmegaConf

from ccframe.agents import ES, TS
from ccframe.model import CoevolutionModel
from ccframe.params import ConfigError
from ccframe.runner import compose, settings_from
from ccframe.survey import report, signals
from ccframe.survey.instrument import FieldingError, Questionnaire, QuestionnaireParams
from ccframe.survey.snapshot import Snapshot
from ccframe.survey.world import draw_contexts, field_survey, task_settings


def hand_made(**cluster) -> Snapshot:
    """Three suppliers and two servers: supplier 0 and 1 trade through server 0 (TS), supplier 2 has none."""
    suppliers = {
        "scale_class": np.array([1, 3, 3]), "scale": np.array([8.0, 1.0, 1.0]),
        "funds": np.array([100.0, -5.0, 10.0]), "mode": np.array([TS, TS, ES]),
        "partner": np.array([0, 0, -1]), "partner_pos": np.array([0, 0, -1]),
        "reproduction_time": np.array([15.0, 30.0, 30.0]), "output": np.array([80.0, 10.0, 10.0]),
        "sold": np.array([40.0, 10.0, 0.0]), "revenue": np.array([400.0, 100.0, 0.0]),
        "cost": np.array([300.0, 120.0, 50.0]), "profit": np.array([100.0, -20.0, -50.0]),
    }
    servers = {
        "kind": np.array([TS, ES]), "vision": np.array([9.0, 25.0]), "escape": np.array([False, True]),
        "transport_time": np.array([30.0, 10.0]), "transaction_time": np.array([35.0, 10.5]),
        "capacity": np.array([100.0, 300.0]), "demand": np.array([50.0, 70.0]), "supply": np.array([90.0, 0.0]),
        "sold": np.array([50.0, 0.0]), "revenue": np.array([600.0, 0.0]), "profit": np.array([60.0, -1.0]),
        "cif": np.array([8000.0, 10000.0]),
    }
    values = {"alpha": 0.4, "beta": 0.1, "gamma": 0.2, "r_fixed": 0.08, "r_fixed0": 0.1, "t_co": 3.0,
              "price": 5000.0, "marginal_cost": 4000.0, "ctrans": 4000.0, "iexp": 0.2,
              "reproduction_time0": 30.0, "payment_factor": 0.99, **cluster}
    return Snapshot(suppliers=suppliers, servers=servers, cluster=values)


def params(**changes) -> QuestionnaireParams:
    base = QuestionnaireParams(wave_year=-1, noise=0.6, answers=[0.05, 0.10, 0.25, 0.35, 0.25],
                               supplier_share=0.6, scale_mix=[0.2, 0.4, 0.4], es_share=0.75,
                               items={"C1": {"signal": "n_suppliers"}})
    return dataclasses.replace(base, **changes)


# -- measurement functions on hand-made states -----------------------------------------------------
def test_a_supplier_sees_its_partner_servers_value_and_a_server_its_clients_mean():
    snap = hand_made()
    by_supplier, by_server = signals.SIGNALS["transaction_time"](snap)
    assert by_supplier.tolist() == [35.0, 35.0, pytest.approx(22.75)]  # no partner: the servers' mean
    assert by_server.tolist() == [35.0, 10.5]
    by_supplier, by_server = signals.SIGNALS["production"](snap)
    assert by_supplier.tolist() == [80.0, 10.0, 10.0]
    assert by_server.tolist() == [45.0, pytest.approx(100 / 3)]  # clients' mean; no client: all suppliers'


@pytest.mark.parametrize(("name", "supplier_value"), [
    ("n_suppliers", 3.0),                       # C26
    ("output_value", 100 * 5000.0),             # C27: output x price
    ("cbec_entities", 2.0),                     # C28: one ES server + one ES supplier
    ("cbec_sales_share", 0.0),                  # the ES supplier sold nothing
    ("n_es_servers", 1.0),
    ("supervised_share", 0.5),                  # one of two servers escapes
    ("supervised_share_es", 0.0),
    ("competition", 0.8),                       # c / P
    ("customs_time", 3.0),
    ("cbec_payment_value", 0.99),               # C23
    ("supervision", 0.4), ("infrastructure", 0.1), ("efficiency", 0.2),
])
def test_cluster_signals_are_the_same_for_every_respondent(name, supplier_value):
    by_supplier, by_server = signals.SIGNALS[name](hand_made())
    assert by_supplier == pytest.approx(np.full(3, supplier_value))
    assert by_server == pytest.approx(np.full(2, supplier_value))


def test_own_signals_read_the_respondents_state():
    snap = hand_made()
    assert signals.SIGNALS["sell_through"](snap)[0].tolist() == [0.5, 1.0, 0.0]        # C7
    assert signals.SIGNALS["reproduction_speedup"](snap)[0].tolist() == [2.0, 1.0, 1.0]  # C4
    assert signals.SIGNALS["freight_share"](snap)[1].tolist() == [0.5, 0.4]             # C18
    entropy = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3))
    assert signals.SIGNALS["scale_diversity"](snap)[0][0] == pytest.approx(entropy)


def test_perceived_values_apply_the_items_transform_and_direction():
    instrument = Questionnaire(params(items={"C17": {"signal": "transaction_time", "transform": "log", "direction": -1},
                                             "C26": {"signal": "n_suppliers"}}))
    sample = pl.DataFrame({"cluster": [0, 0, 0], "agent": ["supplier", "supplier", "server"], "position": [0, 2, 1]})
    perceived = instrument.perceive([hand_made()], sample)
    assert perceived["C17"] == pytest.approx(-np.log([35.0, 22.75, 10.5]))
    assert perceived["C26"].tolist() == [3.0, 3.0, 3.0]


# -- noise and the five-point scale ------------------------------------------------------------------
def test_answers_are_five_point_in_the_configured_shares_and_follow_the_signal():
    instrument = Questionnaire(params(items={"C1": {"signal": "n_suppliers"}, "C2": {"signal": "n_suppliers"}}))
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(20000)
    answers = instrument.answer({"C1": signal, "C2": np.full(20000, 7.0)}, rng)
    shares = np.bincount(answers["C1"], minlength=6)[1:] / 20000
    assert shares == pytest.approx([0.05, 0.10, 0.25, 0.35, 0.25], abs=0.01)
    reliability = np.corrcoef(answers["C1"], signal)[0, 1]
    assert 0.75 < reliability < 0.85            # noise 0.6 and five categories
    assert abs(np.corrcoef(answers["C2"], signal)[0, 1]) < 0.03   # a constant signal is pure noise
    exact = Questionnaire(params(noise=0.0)).answer({"C1": signal}, rng)["C1"]
    assert np.all(np.diff(exact[np.argsort(signal)]) >= 0)        # no noise: answers rank like the signal


def test_respondents_come_in_the_papers_mix():
    snap = hand_made()
    snaps = [dataclasses.replace(snap) for _ in range(400)]
    instrument = Questionnaire(params(supplier_share=0.5, scale_mix=[1.0, 0.0, 0.0], es_share=1.0))
    sample = instrument.sample(snaps, 800, np.random.default_rng(1))
    assert sample.height == 800
    suppliers = sample.filter(pl.col("agent") == "supplier")
    assert suppliers.height == 400 and set(suppliers["position"]) == {0}   # only the S1 supplier
    assert set(sample.filter(pl.col("agent") == "server")["position"]) == {1}  # only the ES server


def test_a_cluster_with_too_few_agents_is_surveyed_whole_and_the_rest_come_from_the_others():
    full = hand_made()  # three suppliers
    shrunk = dataclasses.replace(full, suppliers={k: v[:1] for k, v in full.suppliers.items()})  # one left
    instrument = Questionnaire(params(supplier_share=1.0, scale_mix=[0.2, 0.4, 0.4]))
    sample = instrument.sample([shrunk, full, full, full], 8, np.random.default_rng(0))
    assert sample.group_by("cluster").len().sort("cluster")["len"].to_list() == [1, 3, 2, 2]
    with pytest.raises(FieldingError, match="suppliers: 11 respondents wanted, only 10 agents"):
        instrument.sample([shrunk, full, full, full], 11, np.random.default_rng(0))


# -- a planted correlation comes back ----------------------------------------------------------------
def test_the_pipeline_recovers_a_planted_latent_correlation():
    """Two simulated traits correlated 0.5 across agents, measured by three noisy five-point items each."""
    from ccframe.sem.fit import fit
    from ccframe.sem.spec import spec_from_dict

    planted = 0.5
    rng = np.random.default_rng(7)
    snaps = []
    for _ in range(100):
        snap = hand_made()
        traits = rng.multivariate_normal([0, 0], [[1, planted], [planted, 1]], size=40)
        many = {k: np.resize(v, 40) for k, v in snap.suppliers.items()}
        many["f"], many["g"] = traits[:, 0], traits[:, 1]
        snaps.append(dataclasses.replace(snap, suppliers=many))

    class Planted(Questionnaire):
        signals = {**signals.SIGNALS, "f": lambda s: (s.suppliers["f"], s.seen_by_servers(s.suppliers["f"])),
                   "g": lambda s: (s.suppliers["g"], s.seen_by_servers(s.suppliers["g"]))}

    items = {f"C{k}": {"signal": "f" if k <= 3 else "g"} for k in range(1, 7)}
    instrument = Planted(params(items=items, supplier_share=1.0, scale_mix=[1 / 3] * 3, noise=0.5))
    answers = instrument.respond(snaps, 2000, rng)
    spec = spec_from_dict({"name": "planted", "items": {k: k for k in items},
                           "latents": {"F": {"items": ["C1", "C2", "C3"]}, "G": {"items": ["C4", "C5", "C6"]}},
                           "covariances": [{"between": ["F", "G"], "label": "H1"}]})
    result = fit(spec, answers)
    assert result.std("F", "~~", "G") == pytest.approx(planted, abs=0.06)
    paths = report.composite_paths(spec, answers, 0.05)
    assert 0.3 < paths["std"][0] < planted  # composites are attenuated by item noise, but see it


# -- the report: the SEM layer's checks and tables ------------------------------------------------------
def test_the_report_judges_with_the_sem_checks_and_an_inadmissible_fit_supports_nothing():
    from ccframe.sem.checks import admissible, violations
    from ccframe.sem.fit import fit
    from ccframe.sem.population import simulate
    from ccframe.sem.report import STRUCTURAL_TITLE, structural_table

    result = fit("wang2022_revised", simulate(n=481, seed=3576))
    side = report.side_by_side(result, 0.05, "published_wang2022")
    assert side.admissible == admissible(violations(result))      # the checks task=sem runs
    paths = side.tables[STRUCTURAL_TITLE]
    expected = (paths["std"] > 0) & (paths["p"] < 0.05)
    assert paths["supported"].to_list() == (expected & side.admissible).to_list()
    judged = structural_table(result, {}, 0.05, admissible=False, positive_only=True)
    assert not judged["supported"].any() and set(judged["verdict"]) == {"not judged"}
    assert report.side_by_side(result, 0.05, "").tables[STRUCTURAL_TITLE]["paper_std"].null_count() == 16


def test_a_hypothesis_needs_a_positive_path_only_where_the_rule_asks_for_one():
    from ccframe.sem.report import supported

    assert supported(-0.3, 0.001, 0.05, positive=False)               # "related": either sign
    assert not supported(-0.3, 0.001, 0.05, positive=True)            # the virtual survey's rule
    assert not supported(0.3, 0.2, 0.05, positive=True) and not supported(0.3, float("nan"), 0.05, positive=True)


# -- the plugin, its config and the task -------------------------------------------------------------
def test_attaching_the_questionnaire_changes_nothing_in_the_model():
    plain = settings_from(compose(["years=4"]))
    surveyed = settings_from(compose(["years=4", "+survey=wang2022"]))
    a, b = CoevolutionModel(plain, 3), CoevolutionModel(surveyed, 3)
    assert a.run() == b.run()
    snap = b.mechanism("survey").snapshot
    assert snap.year == 4 and snap.n_suppliers == a.suppliers.n_active


@pytest.mark.parametrize(("override", "message"), [
    ("survey.items.C17.signal=speed", r"^survey\.items\.C17\.signal: no such signal 'speed'; available: "),
    ("survey.items.C17.direction=2", r"^survey\.items\.C17\.direction: must be 1 or -1, got 2$"),
    ("survey.answers=[0.5,0.5]", r"^survey\.answers: expected 5 non-negative shares summing to 1"),
    ("survey.wave_year=30", r"^survey\.wave_year: must be -1 or at most years \(10\), got 30$"),
    ("+survey.items.C17.noise=-1", r"^survey\.items\.C17\.noise: must be in \[0, inf\), got -1"),
    ("+survey.items.C17.colour=red", r"^survey\.items\.C17\.colour: unknown key; allowed keys are direction, noise, "),
    ("survey.items.C17.transform=sqrt", r"^survey\.items\.C17\.transform: must be one of identity, log, signed_log"),
    ("~survey.items.C17.signal", r"^survey\.items\.C17\.signal: missing; "),
])
def test_a_bad_item_mapping_is_one_line_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        settings_from(compose(["+survey=wang2022", override]))


def test_contexts_are_drawn_in_their_ranges_with_a_correlated_policy_stance():
    config = OmegaConf.to_container(compose(["task=virtual_survey", "task.clusters=400"]), resolve=True)
    task = task_settings(config)
    draws = pl.DataFrame(draw_contexts(config, task, np.random.default_rng(0)))
    for key, (low, high) in task.contexts.items():
        assert draws[key].min() >= low and draws[key].max() <= high
    assert draws["suppliers.s3.count"].dtype == pl.Int64
    assert 0.45 < np.corrcoef(draws["alpha"], draws["gamma"])[0, 1] < 0.7
    assert abs(np.corrcoef(draws["alpha"], draws["ctrans"])[0, 1]) < 0.15
    config["task"]["contexts"]["alpha"] = [0.0, 2.0]
    with pytest.raises(ConfigError, match=r"^task\.contexts: cluster \d+'s drawn context is invalid: alpha: must"):
        field_survey(config, fit_sem=False)
    config["task"]["contexts"]["market.speed"] = [0, 1]
    with pytest.raises(ConfigError, match=r"^task\.contexts\.market\.speed: no config key 'market\.speed' to vary$"):
        task_settings(config)


def test_a_cluster_that_dies_out_is_recorded_and_nobody_from_it_answers(monkeypatch):
    config = OmegaConf.to_container(compose(["task=virtual_survey", "task.clusters=3", "task.n=30", "years=2"]),
                                    resolve=True)
    run, calls = CoevolutionModel.run, []

    def first_dies_out(model, years=None):
        calls.append(model)
        if len(calls) == 1:
            model.remove_suppliers(model.suppliers.active_rows())
        return run(model, years)

    monkeypatch.setattr(CoevolutionModel, "run", first_dies_out)
    world = field_survey(config, fit_sem=False)
    assert world.contexts["collapsed"].to_list() == [0, None, None]
    assert world.answers.height == 30 and set(world.answers["cluster"]) == {1, 2}


def test_the_task_runs_end_to_end_prints_the_side_by_side_tables_and_logs_to_mlflow(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run([sys.executable, "-m", "ccframe", "task=virtual_survey", "task.clusters=8", "task.n=200",
                          "years=3", f"tracking.uri={uri}", f"hydra.run.dir={tmp_path}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)  # MLflow's ./mlruns there
    assert out.returncode == 0, out.stderr
    for table in ("Violation of estimation checks", "Table 6", "Table 7", "Table 9"):
        assert table in out.stdout
    assert "cluster 8/8 simulated" in out.stderr
    assert "(the paper: 16 of 16)" in out.stdout
    paths = pl.read_parquet(tmp_path / "table_7_structural_paths_and_hypotheses.parquet")
    assert paths["hypothesis"].to_list() == [f"H{k}" for k in range(1, 17)]
    assert paths["paper_std"].to_list()[15] == 0.472
    assert paths["path"][0] == "A1 <- B1"                        # from the spec, not a copy of it
    checks = pl.read_parquet(tmp_path / "violation_of_estimation_checks_section_4_2_before_the_fit.parquet")
    admissible = bool(checks["ok"].all())
    assert ("solution admissible" in out.stdout) == admissible
    assert admissible or not paths["supported"].any()            # an inadmissible fit supports nothing
    fit = pl.read_parquet(tmp_path / "table_6_fit_indices_against_the_reference_standards.parquet")
    assert dict(fit.select("index", "paper").iter_rows())["cfi"] == 0.948
    loadings = pl.read_parquet(tmp_path / "table_9_measurement_model.parquet")
    assert loadings.filter(pl.col("path") == "C27 <- A1")["paper_std"].to_list() == [0.856]
    assert pl.read_parquet(tmp_path / "answers.parquet").height == 200
    assert "cross-check on composite scores" in out.stdout
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("virtual_survey").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["task.n"] == "200"
    assert run.data.metrics["n_supported"] == paths["supported"].sum()
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "table_7_structural_paths_and_hypotheses.parquet" in artifacts
    assert "path_diagram.png" in artifacts and (tmp_path / "path_diagram.png").is_file()
