"""The postdodo-receiver command: check, worker, requeue-failed, serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from redis import Redis

from receiver.cli import build_parser, main
from tests.receiver.helpers import (
    SECRET,
    RedisServer,
    deliver,
    free_port,
    make_event,
    queue_length,
    recorded,
    signed,
    wait_for,
)
from tests.support.metrics import sample

ROOT = Path(__file__).resolve().parents[2]
ROUTES = "post.published=tests.receiver.jobs:record"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, rconn: Redis) -> dict[str, str]:
    """POSTDODO_RECEIVER_* pointing at the private Redis."""
    values = {
        "POSTDODO_RECEIVER_SECRETS": SECRET,
        "POSTDODO_RECEIVER_REDIS_URL": redis_server.url,
        "POSTDODO_RECEIVER_ROUTES": ROUTES,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_parser_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers) == ("127.0.0.1", 8081, 2)
    args = build_parser().parse_args(["worker"])
    assert args.with_scheduler is True and args.simple is False


def test_check_ok(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "secrets: 1 valid" in out and "redis: ok" in out and "tests.receiver.jobs:record" in out


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("POSTDODO_RECEIVER_REDIS_URL", "redis://:hunter2@127.0.0.1:{port}/0", "redis: unreachable"),
        ("POSTDODO_RECEIVER_ROUTES", "post.failed=nope_module_xyz:job", "configuration error: route post.failed"),
        ("POSTDODO_RECEIVER_SECRETS", "", "configuration error: no webhook secret"),
    ],
)
def test_check_failures(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                        name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value.format(port=free_port()))
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "hunter2" not in err


def test_worker_runs_the_routed_queue(env: dict[str, str], make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(routes=ROUTES).test_client()
    event = make_event("evt_cli_worker")
    assert deliver(client, event).status_code == 202
    assert main(["worker", "--simple", "--burst"]) == 0  # with the scheduler, as by default
    assert recorded(rconn) == [event]


def test_requeue_failed(env: dict[str, str], make_app: Callable[..., Flask], rconn: Redis,
                        capsys: pytest.CaptureFixture[str]) -> None:
    client = make_app(routes="post.published=tests.receiver.jobs:flaky").test_client()
    rconn.set("test:fail", "1")
    assert deliver(client, make_event("evt_cli_1")).status_code == 202
    assert deliver(client, make_event("evt_cli_2")).status_code == 202
    assert main(["worker", "--simple", "--burst", "--no-with-scheduler"]) == 0
    assert queue_length(rconn) == 0
    rconn.delete("test:fail")
    assert main(["requeue-failed"]) == 0
    assert "requeued 2 failed job(s)" in capsys.readouterr().out
    assert queue_length(rconn) == 2


def test_serve_under_gunicorn(redis_server: RedisServer, rconn: Redis, tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, POSTDODO_RECEIVER_SECRETS=SECRET, POSTDODO_RECEIVER_REDIS_URL=redis_server.url,
               POSTDODO_RECEIVER_ROUTES=ROUTES, PYTHONPATH=str(ROOT))
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "receiver.cli", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=1).status_code == 200, 20, "postdodo-receiver serve")
        for n in range(6):  # a new connection each: either of the 2 workers may take it
            body = json.dumps(make_event(f"evt_served{n}")).encode()
            response = requests.post(f"{base}/webhooks/postdodo", data=body, headers=signed(body, f"evt_served{n}"),
                                     timeout=5)
            assert response.status_code == 202
        assert queue_length(rconn) == 6
        text = requests.get(f"{base}/metrics", timeout=5).text  # every worker's counts, summed
        assert sample(text, "postdodo_receiver_events_total", event="post.published", status="202") == 6
        # gunicorn refuses these before the app sees them: still the JSON error body, never an HTML page
        for headers in ({f"X-Filler-{n}": "x" for n in range(150)}, {"X-Big": "x" * 9000}):
            refused = requests.post(f"{base}/webhooks/postdodo", data=b"{}", headers=headers, timeout=5)
            assert refused.status_code == 431
            assert refused.headers["Content-Type"] == "application/json"
            assert refused.json()["error"]["code"] == "request_header_fields_too_large"
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    assert "gunicorn" in (tmp_path / "serve.log").read_text().lower()
