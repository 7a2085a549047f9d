"""Resumable sweeps: a killed multirun, run again with the same overrides, redoes only what did not finish."""

import os
import signal
import subprocess
import sys
import time

import polars as pl

JOBS = 5
SWEEP = ["-m", f"seed={','.join(map(str, range(JOBS)))}", "years=4", "replicates=3", "tracking.enabled=false"]


def env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}


def sweep(cwd, *extra):
    run = subprocess.run([sys.executable, "-m", "ccframe", *SWEEP, *extra], cwd=cwd, env=env(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run


def finished(cwd):
    return list((cwd / ".ccframe" / "finished").glob("*.json"))


def test_a_killed_sweep_resumes_without_redoing_finished_jobs(tmp_path):
    first = subprocess.Popen([sys.executable, "-m", "ccframe", *SWEEP, "hydra.sweep.dir=first"], cwd=tmp_path,
                             env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(finished(tmp_path)) < 2:
        assert first.poll() is None and time.monotonic() < deadline, "the sweep ended before it was killed"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    done_before = len(finished(tmp_path))
    assert 2 <= done_before < JOBS

    second = sweep(tmp_path, "hydra.sweep.dir=second")
    assert second.stderr.count("skipped, its results copied") == done_before
    assert second.stderr.count("replicate 3/3 done") == JOBS - done_before  # only the rest ran
    assert len(finished(tmp_path)) == JOBS
    for job in range(JOBS):  # every job has its results in the resumed sweep's folder
        assert (tmp_path / "second" / str(job) / "summary.parquet").exists()
    for job in range(JOBS):  # what the killed sweep kept is what the resumed sweep reports
        kept = tmp_path / "first" / str(job) / "summary.parquet"
        if kept.exists():
            assert pl.read_parquet(kept).equals(pl.read_parquet(tmp_path / "second" / str(job) / "summary.parquet"))

    third = sweep(tmp_path, "hydra.sweep.dir=third")
    assert third.stderr.count("skipped, its results copied") == JOBS
    assert "replicate 1/3 done" not in third.stderr  # nothing ran


def test_a_changed_value_or_resume_false_runs_the_job_again(tmp_path):
    sweep(tmp_path, "hydra.sweep.dir=a")
    changed = sweep(tmp_path, "hydra.sweep.dir=b", "alpha=0.6")
    assert "skipped" not in changed.stderr  # a different resolved config is a different job
    forced = sweep(tmp_path, "hydra.sweep.dir=c", "resume=false")
    assert "skipped" not in forced.stderr and forced.stderr.count("replicate 3/3 done") == JOBS
