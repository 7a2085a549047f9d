"""The MLflow UI shows a ccframe run: a real server on loopback, driven in headless Chromium.

Needs Debian's chromium (``.ci/run`` installs it) and Playwright's Python package (the
test extra); outside CI the test is skipped when they are missing. The screenshot is
kept in ``test-artifacts/`` (or ``$CCFRAME_TEST_ARTIFACTS``).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ccframe import simulate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CCFRAME_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.environ.get("CI"):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mlflow_ui(tmp_path):
    """An MLflow UI on a free loopback port over a store holding one ccframe run."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    simulate(["+scenario=fund", "ctrans=3000", "replicates=2", "years=4", f"tracking.uri={uri}"])
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
                               "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the MLflow UI did not start within 120 s")
                time.sleep(0.5)
        yield base, uri
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_mlflow_ui_shows_the_run_its_ctrans_and_a_metric_chart(mlflow_ui):
    from mlflow import MlflowClient
    from playwright.sync_api import sync_playwright

    base, uri = mlflow_ui
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("fund")
    run = client.search_runs([experiment.experiment_id])[0]
    page_url = f"{base}/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(page_url)
            page.get_by_text(run.info.run_name).first.wait_for(timeout=60_000)
            cell = page.get_by_text("ctrans", exact=True).first
            cell.wait_for(timeout=60_000)
            row = cell.evaluate("e => (e.closest('tr, [role=row]') || e.parentElement.parentElement).innerText")
            assert row.split() == ["ctrans", "3000"]
            cell.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "mlflow-run-params.png")

            page.goto(f"{page_url}/model-metrics")
            page.get_by_placeholder("Search metric charts").fill("unit_revenue_ratio")
            page.get_by_text("unit_revenue_ratio", exact=True).first.wait_for(timeout=60_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            assert page.locator(".js-plotly-plot").count() > 0
            page.screenshot(path=ARTIFACTS / "mlflow-run-metrics.png")
        finally:
            browser.close()
    assert (ARTIFACTS / "mlflow-run-metrics.png").stat().st_size > 10_000
