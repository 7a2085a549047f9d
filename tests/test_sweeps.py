"""Sweeps: bit-identical results whatever the launcher, and parallel workers that share the cores."""

import os
import subprocess
import sys

import polars as pl
import pytest

SWEEP = ["-m", "ctrans=3000,4000", "replicates=3", "years=3", "tracking.enabled=false",
         "hydra.sweep.dir=sweep"]


def sweep(cwd, *launcher):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    run = subprocess.run([sys.executable, "-m", "ccframe", *SWEEP, *launcher], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return [pl.read_parquet(cwd / "sweep" / str(job) / "summary.parquet") for job in (0, 1)]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return sweep(tmp_path_factory.mktemp("serial"))


def test_joblib_gives_bit_identical_summaries(serial, tmp_path):
    parallel = sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    for one, other in zip(serial, parallel, strict=True):
        assert one.equals(other)


def test_ray_on_a_local_instance_gives_bit_identical_summaries(serial, tmp_path):
    distributed = sweep(tmp_path, "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
                        "+hydra.launcher.ray.init.include_dashboard=false")
    for one, other in zip(serial, distributed, strict=True):
        assert one.equals(other)


def test_the_jobs_of_a_sweep_differ(serial):
    assert not serial[0].equals(serial[1])


@pytest.mark.parametrize(("args", "workers"), [
    (["-m", "seed=1,2"], None),  # Hydra's basic launcher runs one job at a time
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=1,2"], 2),
    (["-m", "hydra/launcher=joblib"], os.cpu_count()),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=-2"], max(1, os.cpu_count() - 1)),
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], None),  # not a multirun
])
def test_a_parallel_sweep_knows_how_many_workers_share_the_cores(args, workers):
    from ccframe.argv import parallel_workers

    assert parallel_workers(args) == workers


def test_each_parallel_worker_gets_its_share_of_cores_for_polars_unless_the_user_chose(monkeypatch):
    from ccframe.cli import share_cores

    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    share_cores(os.cpu_count())
    assert os.environ["POLARS_MAX_THREADS"] == "1"
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    share_cores(2)
    assert os.environ["POLARS_MAX_THREADS"] == "3"
