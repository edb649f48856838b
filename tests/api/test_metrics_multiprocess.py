"""The API under gunicorn with two workers: /metrics sums both processes, and a dead worker's counts stay."""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.factory import SECRET, fresh_database
from tests.support.metrics import sample
from tests.support.server import free_port, wait_until

pytestmark = pytest.mark.slow


def worker_pids(metrics_dir: Path) -> set[int]:
    """The processes that have written a counter into the shared directory."""
    return {int(m.group(1)) for path in glob.glob(str(metrics_dir / "counter_*.db"))
            if (m := re.search(r"_(\d+)\.db$", path))}


@pytest.fixture
def gunicorn_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`gunicorn -w 2` on the API with the project's gunicorn settings; yields its URL and metrics directory."""
    db_url = f"sqlite:///{tmp_path / 'api.db'}"
    fresh_database(db_url).dispose()  # the schema exists before the workers start
    metrics_dir = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTDODO_", "PROMETHEUS_"))}
    env |= {"POSTDODO_DATABASE_URL": db_url, "POSTDODO_SECRET_KEY": SECRET, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:postdodo_connect.gunicorn_conf", "-w", "2",
         "-b", f"127.0.0.1:{port}", "postdodo_connect.api:create_app()"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), timeout=30, what="gunicorn")
        yield url, metrics_dir
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/v1/openapi.json", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_two_workers_counts_are_summed_and_survive_a_dead_worker(gunicorn_api: tuple[str, Path]) -> None:
    url, metrics_dir = gunicorn_api
    sent = 0

    def one_more() -> bool:
        nonlocal sent
        # a new connection each time: either worker may accept it
        assert requests.get(f"{url}/healthz", timeout=5, headers={"Connection": "close"}).status_code == 200
        sent += 1
        return len(worker_pids(metrics_dir)) >= 2

    wait_until(one_more, timeout=30, what="both workers to serve a request")
    text = requests.get(f"{url}/metrics", timeout=5).text
    assert sample(text, "postdodo_http_requests_total", route="/healthz", status="200") == sent

    victim = min(worker_pids(metrics_dir))
    os.kill(victim, signal.SIGKILL)  # gunicorn starts a replacement; what the dead worker counted is kept
    wait_until(lambda: _answers(url), timeout=30, what="gunicorn after losing a worker")
    text = requests.get(f"{url}/metrics", timeout=5).text
    assert sample(text, "postdodo_http_requests_total", route="/healthz", status="200") == sent
