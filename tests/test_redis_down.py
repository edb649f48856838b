"""One rule for a configured Redis that is down: servers say so in one line and run degraded, Redis-only commands
stop with one line; never a traceback, never the password (docs/deployment.md, docs/receiver.md)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from postdodo_connect.cli import main
from receiver.cli import main as receiver_main
from tests.receiver.helpers import SECRET
from tests.support.server import free_port, wait_until

SECRET_TEXT = "hunter2"


def dead_redis() -> str:
    """A Redis URL with a password where nothing listens."""
    return f"redis://:{SECRET_TEXT}@127.0.0.1:{free_port()}/0"


def shown(url: str) -> str:
    return url.replace(SECRET_TEXT, "***")


class Started:
    """A long-running command whose merged output is read in the background."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Read output until a line contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.output.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
            if text in self.output[-1]:
                return
        raise AssertionError(f"no line with {text!r}:\n" + "".join(self.output))

    def stop(self) -> str:
        """SIGTERM, wait, and everything it printed."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env.update({"POSTDODO_DATABASE_URL": f"sqlite:///{tmp_path / 'postdodo.db'}", "PYTHONUNBUFFERED": "1", **extra})
    return env


def assert_one_warning(output: str, url: str, what: str) -> None:
    warnings = [line for line in output.splitlines() if line.startswith("warning: Redis at")]
    assert warnings == [f"warning: Redis at {shown(url)} is unreachable " + warnings[0].split(" is unreachable ")[1]]
    assert what in warnings[0]
    assert SECRET_TEXT not in output and "Traceback" not in output


def test_serve_says_redis_is_down_once_and_serves_degraded(tmp_path: Path) -> None:
    url, port = dead_redis(), free_port()
    server = Started([sys.executable, "-m", "postdodo_connect", "serve", "--port", str(port), "--workers", "1"],
                     environment(tmp_path, POSTDODO_REDIS_URL=url), tmp_path)
    try:
        server.wait_for("listening on")
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 503 and health.json()["checks"]["redis"]["status"] == "error"
        assert health.json()["checks"]["database"]["status"] == "ok"
    finally:
        output = server.stop()
    assert_one_warning(output, url, "running degraded")


def test_engine_says_redis_is_down_and_keeps_running(tmp_path: Path) -> None:
    url = dead_redis()
    env = environment(tmp_path, POSTDODO_REDIS_URL=url)
    assert subprocess.run([sys.executable, "-m", "postdodo_connect", "migrate"], env=env, cwd=tmp_path,
                          capture_output=True, check=False).returncode == 0
    engine = Started([sys.executable, "-m", "postdodo_connect", "engine"], env, tmp_path)
    try:
        engine.wait_for("PostDodo engine running")
        assert engine.process.poll() is None
    finally:
        output = engine.stop()
    assert_one_warning(output, url, "running degraded")


def test_worker_stops_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = dead_redis()
    for name, value in environment(tmp_path, POSTDODO_REDIS_URL=url).items():
        monkeypatch.setenv(name, value)
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["worker", "--burst"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: Redis at {shown(url)} is unreachable (")
    assert err.endswith(": `postdodo worker` needs it\n") and err.count("\n") == 1 and SECRET_TEXT not in err


@pytest.fixture
def receiver_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The receiver configured with a dead Redis; returns its URL."""
    url = dead_redis()
    for name in [n for n in os.environ if n.startswith("POSTDODO_RECEIVER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("POSTDODO_RECEIVER_SECRETS", SECRET)
    monkeypatch.setenv("POSTDODO_RECEIVER_REDIS_URL", url)
    monkeypatch.setenv("POSTDODO_RECEIVER_ROUTES", "post.published=tests.receiver.jobs:record")
    return url


@pytest.mark.parametrize("command", ["worker", "requeue-failed"])
def test_receiver_redis_commands_stop_with_one_line(receiver_env: str, command: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "--burst"] if command == "worker" else [command]
    assert receiver_main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: Redis at {shown(receiver_env)} is unreachable (")
    assert err.endswith(f": `postdodo-receiver {command}` needs it\n") and SECRET_TEXT not in err


def test_receiver_serve_says_redis_is_down_and_answers_503(receiver_env: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = Started([sys.executable, "-m", "receiver.cli", "serve", "--port", str(port), "--workers", "1"], env,
                     Path.cwd())
    try:
        server.wait_for("warning: Redis at")
        wait_until(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 503, what="receiver healthz")
    finally:
        output = server.stop()
    assert_one_warning(output, receiver_env, "serving degraded")


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=1).status_code
    except requests.RequestException:
        return None
