"""Failure isolation: numerical trouble is a clear model error, and one failing job does not stop a sweep."""

import os
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass

import numpy as np
import pytest

from ccframe import hookimpl
from ccframe.errors import ModelError
from ccframe.mechanism import Mechanism
from ccframe.modes import ES
from ccframe.params import bounded
from ccframe.testing import small_run


@dataclass(frozen=True)
class CorruptParams:
    year: int = bounded(0, 100, doc="the year the state is corrupted")


def corrupting(corrupt):
    """A plugin module with a mechanism that applies ``corrupt(model)`` after settlement in its year."""

    class Corrupt(Mechanism):
        slot, name, Params = "corrupt", "state", CorruptParams

        @hookimpl
        def ccframe_settle_funds(self, model, year):
            if year == self.params.year:
                corrupt(model)

    module = types.ModuleType("corrupting_plugin")
    module.ccframe_register_mechanisms = hookimpl(lambda register: register(Corrupt))
    return module


def set_price(model):
    model.market.price = -1.0


def nan_supplier_funds(model):
    model.suppliers["funds"][model.suppliers.active_rows()[0]] = np.nan


def infinite_es_cif(model):
    rows = model.servers.active_rows()
    model.servers["cif"][rows[model.servers["kind"][rows] == ES]] = np.inf


@pytest.mark.parametrize(("corrupt", "message"), [
    (set_price, r"^year 2: supplier: market price P = -1 is not positive"),
    (nan_supplier_funds, r"^year 2: supplier: funds is NaN or infinite in 1 agents"),
    (infinite_es_cif, r"^year 2: ES server: CIF price inf is not positive"),
])
def test_numerical_trouble_is_a_model_error_naming_year_and_agent_type(ccframe_plugin, corrupt, message):
    ccframe_plugin(corrupting(corrupt))
    with pytest.raises(ModelError, match=message):
        small_run(["+corrupt.impl=state", "+corrupt.year=2"])


@pytest.mark.parametrize(("r_fixed", "message"), [
    (0.9, r"^year 1: ES/TS server: CIF denominator 1 - R_fixed - R_insu - I_exp = "),
    # eq. (4) still has a price, but paying R_re = 0.487 of it and the rates leaves nothing for the freight
    (0.5, r"^year 1: ES server: 1 - R_fixed - R_insu - R_re = -0.007 is not positive"),
])
def test_a_cif_denominator_at_or_below_zero_is_a_model_error_naming_the_servers(ccframe_plugin, r_fixed, message):
    class Collapse(Mechanism):  # a context rule that drives R_fixed up instead of down (eq. 9)
        slot, name = "collapse", "rfixed"

        @hookimpl
        def ccframe_update_context(self, model, year):
            model.context.r_fixed = r_fixed

    module = types.ModuleType("collapse_plugin")
    module.ccframe_register_mechanisms = hookimpl(lambda register: register(Collapse))
    ccframe_plugin(module)
    with pytest.raises(ModelError, match=message):
        small_run(["+collapse.impl=rfixed", "fund.revenue_share=0.687"])  # R_re = 0.487, not the calibrated one


PLUGIN = '''
from dataclasses import dataclass
from ccframe import hookimpl
from ccframe.mechanism import Mechanism
from ccframe.params import bounded

@dataclass(frozen=True)
class Params:
    year: int = bounded(0, 100, doc="the year the price turns negative")

class Corrupt(Mechanism):
    slot, name, Params = "corrupt", "price", Params

    @hookimpl
    def ccframe_settle_funds(self, model, year):
        if year == self.params.year:
            model.market.price = -1.0

@hookimpl
def ccframe_register_mechanisms(register):
    register(Corrupt)
'''


def test_a_numerical_failure_fails_its_own_job_and_the_sweep_goes_on(tmp_path):
    from mlflow import MlflowClient

    (tmp_path / "corrupt_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "corrupt_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: corrupt-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ccframe]\ncorrupt = corrupt_plugin\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    run = subprocess.run([sys.executable, "-m", "ccframe", "-m", "+corrupt.impl=price", "+corrupt.year=2,50,1",
                          "years=3", "replicates=2", "tracking.figures=false"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stderr
    assert "ccframe: error: year 2: supplier: market price P = -1 is not positive" in run.stderr
    assert "ccframe: error: 2 of 3 jobs failed" in run.stderr
    assert not list(tmp_path.glob("multirun/*/*/1/job_failed.txt"))  # job 1 (year 50) did not fail
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("standard").experiment_id])
    children = {r.data.params["corrupt.year"]: r for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert {year: r.info.status for year, r in children.items()} == {"2": "FAILED", "50": "FINISHED", "1": "FAILED"}
    assert children["1"].data.tags["ccframe.error"].startswith("year 1: supplier: market price")
    assert children["50"].data.metrics["output_index"] > 0


def everyone_exits(model):
    model.remove_suppliers(model.suppliers.active_rows())


def demand_vanishes(model):
    model.demand.scale(1e-6)  # next year a_t falls below the marginal cost: nobody can produce


@pytest.mark.parametrize("ending", [everyone_exits, demand_vanishes])
def test_a_cluster_that_dies_out_is_an_outcome_not_a_failure(ccframe_plugin, ending):
    ccframe_plugin(corrupting(ending))
    result = small_run(["+corrupt.impl=state", "+corrupt.year=2", "replicates=2"])
    years, dead = result.settings.years, 2 if ending is everyone_exits else 3  # after settlement / next production
    assert result.means("collapsed") == [0.0] * dead + [1.0] * (years + 1 - dead)
    output = result.metric("output_index")
    assert output["n"].to_list() == [2] * dead + [0] * (years + 1 - dead)
    assert all(np.isnan(output["mean"].to_list()[dead:]))
    assert output["sd"].is_nan().to_list()[dead:] == [True] * (years + 1 - dead)
    assert "collapsed" not in result.plugin_metrics()
