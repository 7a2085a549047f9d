"""The plugin packages in plugins/, installed the way a user installs them.

Each package is built and installed with pip into its own folder, which is put on the
path of a ``python -m ccframe`` subprocess: installed, its override works; absent, the
same command fails in one line naming what is available. Then each package's own tests
run against it.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parents[1] / "plugins"
PACKAGES = sorted(p for p in PLUGINS.iterdir() if (p / "pyproject.toml").exists())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder holding every plugin package, pip-installed (their ccframe dependency is ours)."""
    target = tmp_path_factory.mktemp("site")
    for package in PACKAGES:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        str(package)], check=True, capture_output=True, timeout=600)
    return target


def run(args, cwd, site=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    if site:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


USAGE = ["-m", "ccframe", "+scenario=fund", "+mechanism=demand_personalisation", "personalisation.rate=0.2",
         "replicates=2", "years=3"]


def test_the_packages_are_the_two_example_plugins():
    assert [p.name for p in PACKAGES] == ["ccframe-demand-personalisation", "ccframe-escrow-fund"]


def test_installed_the_override_runs_and_its_metrics_reach_summary_and_mlflow(site, tmp_path):
    result = run(USAGE, tmp_path, site)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "year" in line)
    assert "es_server_revenue_share" in header and "customised_share" in header  # in the console summary
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlrun = client.search_runs([client.get_experiment_by_name("fund").experiment_id])[0]
    assert mlrun.data.params["personalisation.rate"] == "0.2"
    assert mlrun.data.tags["ccframe.plugin.personalisation"].startswith(
        "demand_personalisation (ccframe-demand-personalisation 0.1.0)")
    assert len(client.get_metric_history(mlrun.info.run_id, "es_server_revenue_share")) == 4


def test_uninstalled_the_same_command_names_what_is_available(tmp_path):
    if importlib.util.find_spec("ccframe_demand_personalisation"):
        pytest.skip("the plugin is installed in this environment itself")
    result = run(USAGE, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no mechanism 'demand_personalisation'" in lines[0]
    assert "available mechanisms: commodity: cournot" in lines[0]


def test_plugins_command_lists_slots_implementations_packages_and_the_active_one(site, tmp_path):
    result = run(["-m", "ccframe", "plugins", "fund=escrow"], tmp_path, site)
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.split()[:2]): line for line in result.stdout.splitlines()[2:]}
    assert rows[("fund", "escrow")].split()[3:] == ["ccframe-escrow-fund", "0.1.0", "*"]
    assert rows[("fund", "cif")].split()[3:] == ["ccframe", rows[("fund", "cif")].split()[4]]
    assert rows[("personalisation", "niches")].split()[3] == "ccframe-demand-personalisation"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_plugin_passes_its_own_tests(site, package, tmp_path):
    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")], tmp_path, site)
    assert result.returncode == 0, result.stdout[-3000:]


def test_help_lists_the_config_options_installed_plugins_add(site, tmp_path):
    result = run(["-m", "ccframe", "--help"], tmp_path, site)
    assert result.returncode == 0, result.stderr
    assert "mechanism: demand_personalisation" in result.stdout
    assert "fund: cif, escrow" in result.stdout
