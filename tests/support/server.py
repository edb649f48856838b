"""Run `postdodo serve` as a subprocess on a free port, as a user would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


#: every server started in this test process: tests/conftest.py stops what a failed test left running
STARTED: list[Server] = []


@dataclass
class Server:
    """A running `postdodo serve` subprocess."""

    process: subprocess.Popen[str]
    url: str
    key: str | None
    workdir: Path
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def session(self, key: str | None = None) -> requests.Session:
        """A requests session with the bearer key set."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key or self.key}"
        return session

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGTERM; with `kill`, SIGKILL to each of its processes, the engine too) and wait."""
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def start_server(workdir: Path, *, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                 timeout: float = 30.0) -> Server:
    """Start `postdodo serve` in `workdir` and wait until it listens; reads the demo key it prints."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env.update({"POSTDODO_DATABASE_URL": f"sqlite:///{workdir / 'postdodo.db'}", "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "postdodo_connect", "serve", "--port", str(port), *args],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: `stop(kill=True)` reaches the workers and the engine
    )
    output: list[str] = []
    key = None
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("postdodo serve exited early:\n" + "".join(output))
        output.append(line)
        if found := re.search(r"(pd_test_[A-Za-z0-9]+)", line):
            key = found.group(1)
        if "listening on" in line:
            break
    else:
        process.kill()
        raise AssertionError("postdodo serve did not start:\n" + "".join(output))
    server = Server(process, f"http://127.0.0.1:{port}", key, workdir, env, output)
    STARTED.append(server)
    wait_until(lambda: _healthy(server.url), what="healthz")
    _drain(server)
    return server


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _drain(server: Server) -> None:
    """Keep reading the server's output in the background so its pipe never fills up."""
    import threading

    def pump() -> None:
        assert server.process.stdout is not None
        try:
            for line in server.process.stdout:
                server.output.append(line)
        except ValueError:
            pass  # closed on stop

    threading.Thread(target=pump, daemon=True).start()
