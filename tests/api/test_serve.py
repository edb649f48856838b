"""`postdodo serve` as a user runs it: gunicorn workers, one engine, graceful SIGTERM, a supervised engine."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postdodo_connect.storage import Database
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support.server import Server, start_server, wait_until

FAST = {"POSTDODO_RATE_LIMIT": "100000/minute"}
pytestmark = pytest.mark.slow


def text_accounts(server: Server) -> list[str]:
    """The demo accounts that take a text-only post (Instagram needs media)."""
    data = server.session().get(f"{server.url}/v1/accounts").json()["data"]
    return [a["id"] for a in data if a["platform"] != "instagram"]


def database(server: Server) -> Database:
    return Database(server.env["POSTDODO_DATABASE_URL"])


def said(server: Server, pattern: str) -> list[str]:
    """Lines of the server's output matching `pattern`."""
    return [line for line in list(server.output) if re.search(pattern, line)]


def exit_code(server: Server) -> int:
    return server.process.wait(timeout=60)


@pytest.mark.parametrize("stop", ["SIGTERM to serve", "Ctrl-C (SIGINT to every process)"])
def test_a_request_in_flight_at_sigterm_gets_its_full_answer(tmp_path: Path, stop: str) -> None:
    server = start_server(tmp_path, extra_env=FAST, args=("--workers", "2"))
    body = json.dumps({"caption": "sent across a shutdown", "account_ids": text_accounts(server)[:1],
                       "scheduled_at": "2099-01-01T00:00:00Z"}).encode()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST /v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.key}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        # a worker sends 100 Continue when it hands the request to the app: from here on it is in flight
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        if stop.startswith("SIGTERM"):
            server.process.send_signal(signal.SIGTERM)
        else:  # what a terminal does: the whole foreground process group gets SIGINT
            os.killpg(server.process.pid, signal.SIGINT)
        # the parent signals the engine, then the workers: once the engine has stopped, the workers know too
        wait_until(lambda: said(server, "engine stopped"), timeout=60, what="the shutdown to be under way")
        sock.sendall(body)
        answer = _read_response(sock)
    assert answer["status"] == 201 and answer["json"]["id"].startswith("post_")
    assert exit_code(server) == 0
    server.stop()


def _read_response(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-answer"
        rest += chunk
    return {"status": int(head.split()[1]), "json": json.loads(rest[:length])}


def test_sigterm_hands_back_claimed_work_and_a_restart_resumes_at_once(tmp_path: Path) -> None:
    slow = FAST | {"POSTDODO_WORKERS": "1", "POSTDODO_SANDBOX_FAULTS": '{"latency_ms": 20000}'}
    server = start_server(tmp_path, extra_env=slow, args=("--graceful-timeout", "1"))
    session, accounts = server.session(), text_accounts(server)
    for i in range(3):
        assert session.post(f"{server.url}/v1/posts", json={"caption": f"drain {i}", "account_ids": accounts}).ok
    db = database(server)

    def leased() -> list[Any]:
        with db.read() as conn:
            return list(conn.execute(select(targets.c.id).where(targets.c.lease_until.is_not(None))).all())

    wait_until(lambda: len(leased()) == 2, what="one attempt running and one claimed behind it")
    server.process.send_signal(signal.SIGTERM)
    assert exit_code(server) == 0
    server.stop()
    now = datetime.now(UTC)
    with db.read() as conn:
        rows = conn.execute(select(targets.c.status, targets.c.lease_until)).all()
    assert not [r for r in rows if r.lease_until is not None and r.lease_until.replace(tzinfo=UTC) > now]
    assert "publishing" not in {r.status for r in rows}
    assert said(server, r"handed back 2 claimed rows \(1 not started, 1 still running")

    restarted = start_server(tmp_path, extra_env=FAST)  # the lease is 300 s: only a hand-back explains a quick finish
    try:
        def all_confirmed() -> bool:
            with db.read() as conn:
                return {r.status for r in conn.execute(select(targets.c.status))} == {"confirmed"}

        wait_until(all_confirmed, timeout=60, interval=0.1, what="every target confirmed after the restart")
    finally:
        restarted.stop()
    with db.read() as conn:
        per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    assert len(per_target) == 9 and set(per_target.values()) == {1}


def test_with_three_workers_the_engine_runs_once(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env=FAST, args=("--workers", "3"))
    try:
        session, accounts = server.session(), text_accounts(server)
        posts = [session.post(f"{server.url}/v1/posts", json={"caption": f"once {i}", "account_ids": accounts}).json()
                 for i in range(12)]
        db = database(server)

        def all_confirmed() -> bool:
            with db.read() as conn:
                statuses = [r.status for r in conn.execute(select(targets.c.status))]
            return len(statuses) == 36 and set(statuses) == {"confirmed"}

        wait_until(all_confirmed, timeout=60, interval=0.1, what="36 targets confirmed")
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        if children.exists():  # Linux: 3 HTTP workers and 1 engine under the serve process
            assert len(children.read_text().split()) == 4
    finally:
        server.stop()
    assert exit_code(server) == 0
    assert len(said(server, "engine started")) == 1 and len(said(server, "listening on")) == 1
    with db.read() as conn:
        per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    assert len(per_target) == 36 and set(per_target.values()) == {1}
    assert all(p["status"] == "publishing" for p in posts)


def test_a_killed_engine_is_started_again(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env=FAST)
    try:
        first = int(re.search(r"engine process (\d+) started", said(server, "engine process")[0]).group(1))  # type: ignore[union-attr]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: said(server, rf"engine process {first} exited with -9"), what="the parent to notice")
        wait_until(lambda: len(said(server, "engine started")) == 2, timeout=30, what="a new engine")
        session, accounts = server.session(), text_accounts(server)
        post = session.post(f"{server.url}/v1/posts", json={"caption": "after", "account_ids": accounts}).json()
        wait_until(lambda: session.get(f"{server.url}/v1/posts/{post['id']}").json()["status"] == "published",
                   timeout=30, what="the post published by the new engine")
    finally:
        server.stop()


@pytest.mark.parametrize("args", [("--workers", "0"), ("--threads", "-1"), ("--backlog", "many")])
def test_serve_refuses_bad_options_before_starting(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = subprocess.run([sys.executable, "-m", "postdodo_connect", "serve", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and args[0] in done.stderr
    assert not (tmp_path / "postdodo.db").exists()  # nothing started, nothing created


def test_no_engine_serves_the_api_alone(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env=FAST, args=("--no-engine", "--workers", "2"))
    try:
        session, accounts = server.session(), text_accounts(server)
        assert session.post(f"{server.url}/v1/posts", json={"caption": "later", "account_ids": accounts}).ok
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        if children.exists():
            assert len(children.read_text().split()) == 2  # the two HTTP workers, no engine
    finally:
        server.stop()
    assert exit_code(server) == 0
    assert not said(server, r"engine (started|process)") and len(said(server, "listening on")) == 1
