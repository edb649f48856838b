"""Shared benchmark plumbing: gunicorn on a free port, wrk (or a Python fallback) for load."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostFixture:
    """The API benchmarks' SQLite database (a key, two sandbox accounts, one post) and the env to serve it."""

    workdir: Path
    key: str
    post_id: str
    body: dict[str, Any]  # the create-post body the benchmarks send
    env: dict[str, str]  # this process's environment with POSTDODO_* replaced by the fixture's


def post_fixture() -> PostFixture:
    """A fresh fixture in a new temporary directory."""
    from tests.support.factory import SECRET, make_api  # the server package: only the API benchmarks need it

    workdir = Path(tempfile.mkdtemp())
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    api = make_api(db_url)
    key = api.new_key("bench")
    accounts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon")]
    # scheduled far ahead: no engine work, so every server compared answers the same requests
    body = {"caption": "Benchmark post with a link https://example.com and an emoji 🎉", "account_ids": accounts,
            "scheduled_at": "2099-01-01T00:00:00Z"}
    post_id = api.call("POST", "/v1/posts", key, json=body).get_json()["id"]
    api.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {"POSTDODO_DATABASE_URL": db_url, "POSTDODO_SECRET_KEY": SECRET, "POSTDODO_RATE_LIMIT": "100000000/minute",
            "PYTHONPATH": str(ROOT)}
    return PostFixture(workdir, key, post_id, body, env)


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """Serve `app` (gunicorn syntax) with sync workers; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", app], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/healthz", timeout=0.5)
            break
        except requests.RequestException:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def load(url: str, *, method: str = "GET", body: dict | None = None, headers: dict[str, str] | None = None,
         seconds: int = 5, connections: int = 16) -> float:
    """Requests per second for one URL under wrk (threads x connections), or a Python loader without wrk."""
    headers = headers or {}
    if shutil.which("wrk"):
        script = f"wrk.method = {json.dumps(method)}\n"
        if body is not None:
            script += f"wrk.body = {json.dumps(json.dumps(body))}\n"
            headers = headers | {"Content-Type": "application/json"}
        for name, value in headers.items():
            script += f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(script)
        out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url],
                             capture_output=True, text=True, check=True).stdout
        os.unlink(f.name)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx:
            raise SystemExit(f"{non2xx.group(1)} failed requests against {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if not _warned:
        _warned.append(True)
        print("note: wrk is not installed (apt-get install wrk); the Python load generator takes most of the CPU,"
              " so the servers' ratios drift towards 1", file=sys.stderr, flush=True)
    return _python_load(url, method, body, headers, seconds, connections)


_warned: list[bool] = []  # the Python loader's note is printed once per run


def _python_load(url: str, method: str, body: dict | None, headers: dict[str, str], seconds: int, n: int) -> float:
    count = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker() -> None:
        session = requests.Session()
        done = 0
        while time.monotonic() < stop:
            response = session.request(method, url, json=body, headers=headers)
            response.raise_for_status()
            done += 1
        with lock:
            count[0] += done

    threads = [threading.Thread(target=worker) for _ in range(min(n, 8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / seconds
