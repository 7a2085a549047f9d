"""Nothing lost: a tracking store that goes away mid-sweep, the outbox, and sync uploading exactly once."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ccframe import outbox, tracking

mlflow = pytest.importorskip("mlflow")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "MLFLOW_"))}
    env.update(extra)
    return env


class Server:
    """A real ``mlflow server`` on 127.0.0.1 that the test can kill and bring back."""

    def __init__(self, root, port):
        self.root, self.port, self.process = root, port, None
        self.uri = f"http://127.0.0.1:{port}"

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--backend-store-uri", f"sqlite:///{self.root / 'server.db'}",
             "--artifacts-destination", str(self.root / "artifacts"), "--workers", "1"],
            cwd=self.root, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.uri}/health", timeout=2)
                return
            except OSError:
                assert self.process.poll() is None, "mlflow server exited"
                time.sleep(0.5)
        raise AssertionError("mlflow server did not start in 120 s")

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the server and its workers, no goodbye
            self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path, free_port())
    srv.start()
    yield srv
    srv.kill()


def ccframe(*args, cwd, **popen):
    return subprocess.Popen([sys.executable, "-m", "ccframe", *args], cwd=cwd, env=clean_env(), text=True,
                            **popen)


def test_a_server_killed_mid_sweep_loses_nothing_and_sync_uploads_each_run_once(tmp_path, server):
    work = tmp_path / "work"
    work.mkdir()
    jobs = 5
    sweep = ccframe("-m", f"seed={','.join(map(str, range(jobs)))}", "years=2", "replicates=2",
                    "tracking.figures=false", f"tracking.uri={server.uri}", "tracking.experiment=outage",
                    "hydra.sweep.dir=sweep", cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while len(list(work.glob("sweep/*/.uploaded"))) < 2:  # two jobs are in the store: pull the plug
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended before the outage"
        time.sleep(0.2)
    server.kill()
    out, err = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, err
    assert "tracking store unreachable" in err and "python -m ccframe sync" in err
    assert len(list(work.glob("sweep/*/summary.parquet"))) == jobs  # every job finished its results
    waiting = outbox.pending(work)
    assert 1 <= len(waiting) <= jobs - 1

    server.start()
    sync = subprocess.run([sys.executable, "-m", "ccframe", "sync"], cwd=work, env=clean_env(),
                          capture_output=True, text=True, timeout=600)
    assert sync.returncode == 0, sync.stderr
    assert outbox.pending(work) == []
    again = subprocess.run([sys.executable, "-m", "ccframe", "sync"], cwd=work, env=clean_env(),
                           capture_output=True, text=True, timeout=600)
    assert "outbox is empty" in again.stdout

    client = mlflow.MlflowClient(tracking_uri=server.uri)
    runs = client.search_runs([client.get_experiment_by_name("outage").experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    keys = [json.loads((work / "sweep" / str(j) / "run.json").read_text())["run_key"] for j in range(jobs)]
    assert sorted(r.data.tags[tracking.RUN_KEY_TAG] for r in children) == sorted(keys)  # each once
    assert {r.info.status for r in children} == {"FINISHED"}
    assert sorted(r.data.params["seed"] for r in children) == [str(s) for s in range(jobs)]
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parent) == 1 and parent[0].info.status == "FINISHED"
    for run in children:
        assert len(client.get_metric_history(run.info.run_id, "output_index")) == 3  # years 0-2
        assert "summary.parquet" in {a.path for a in client.list_artifacts(run.info.run_id)}


def sqlite_run(tmp_path, *extra):
    cwd = tmp_path / "work"
    cwd.mkdir(exist_ok=True)
    run = subprocess.run([sys.executable, "-m", "ccframe", "years=1", "replicates=1", "tracking.figures=false",
                          *extra], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=600)
    return cwd, run


def test_a_locked_sqlite_store_keeps_the_run_in_the_outbox_until_sync(tmp_path):
    import sqlite3

    db = tmp_path / "locked.db"
    uri = f"sqlite:///{db}"
    mlflow.MlflowClient(tracking_uri=uri).search_experiments()  # create the store's tables
    lock = sqlite3.connect(db, timeout=0)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the database: nobody else may read or write
    try:
        cwd, run = sqlite_run(tmp_path, f"tracking.uri={uri}")
    finally:
        lock.rollback()
        lock.close()
    assert run.returncode == 0, run.stderr
    assert "tracking store unreachable" in run.stderr
    assert len(outbox.pending(cwd)) == 1
    sync = subprocess.run([sys.executable, "-m", "ccframe", "sync"], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=600)
    assert sync.returncode == 0, sync.stderr
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert len(client.search_runs([client.get_experiment_by_name("standard").experiment_id])) == 1


def test_an_upload_cut_short_is_replaced_not_duplicated(tmp_path):
    cwd, run = sqlite_run(tmp_path, "tracking.uri=http://127.0.0.1:9")  # nothing listens on port 9
    assert run.returncode == 0, run.stderr
    (folder,) = outbox.pending(cwd)
    manifest = json.loads((folder / "run.json").read_text())
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    manifest["tracking_uri"] = uri
    (folder / "run.json").write_text(json.dumps(manifest))
    tracker = tracking.Tracker(uri)  # a first upload that died after creating its run
    half = tracker.start(manifest["experiment"], manifest["run_name"],
                         {tracking.RUN_KEY_TAG: manifest["run_key"]})
    assert outbox.sync(cwd, report=lambda line: None) == (1, 0)
    runs = tracker.client.search_runs([tracker.experiment_id(manifest["experiment"])])
    assert len(runs) == 1 and runs[0].info.run_id != half and runs[0].info.status == "FINISHED"
    assert tracking.upload(folder) == runs[0].info.run_id  # a second upload finds it and adds nothing
    (folder / tracking.UPLOADED_FILE).unlink()
    assert tracking.upload(folder) == runs[0].info.run_id  # even without the local marker
    assert len(tracker.client.search_runs([tracker.experiment_id(manifest["experiment"])])) == 1
