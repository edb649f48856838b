"""Start-up cost of the client commands against the floor of the client's own dependencies.

Run: ``python tests/bench/bench_cli.py [--runs N]``. Not collected by pytest.
Each case runs N times as a fresh interpreter; the figure is CPU time (user + system of the child), which a
busy 2-core box disturbs less than wall time. Cases: the floor (``import requests, pydantic``, what any
client of this API pays), ``postdodo posts --help``, ``postdodo accounts list`` against a stdlib HTTP stub
answering an empty list (the whole command path, one request), and the server modules every command loaded
before the lean install (``import postdodo_connect.api, postdodo_connect.engine``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "floor: import requests, pydantic": ["-c", "import requests, pydantic"],
    "postdodo posts --help": ["-m", "postdodo_connect", "posts", "--help"],
    "postdodo accounts list": ["-m", "postdodo_connect", "accounts", "list", "--api-key", "pd_test_x",
                               "--base-url", "{url}"],
    "server modules (before: every command)": ["-c", "import postdodo_connect.api, postdodo_connect.engine"],
}


class EmptyList(BaseHTTPRequestHandler):
    """Answers every GET with an empty list page."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.dumps({"data": [], "has_more": False, "next_cursor": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        pass


def cpu_seconds() -> float:
    """User + system time of the finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    """Median CPU and median wall seconds of ``runs`` fresh interpreters running ``argv``."""
    env = dict(os.environ)
    cpu, wall = [], []
    for _ in range(runs):
        before, started = cpu_seconds(), time.perf_counter()
        subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        wall.append(time.perf_counter() - started)
        cpu.append(cpu_seconds() - before)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", "import postdodo_connect.api, postdodo_connect.engine"], cwd=ROOT,
                   check=True)  # byte code written before the clock starts
    stub = ThreadingHTTPServer(("127.0.0.1", 0), EmptyList)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{stub.server_address[1]}"
    results = {name: measure([a.replace("{url}", url) for a in argv], args.runs) for name, argv in CASES.items()}
    stub.shutdown()
    floor = results["floor: import requests, pydantic"][0]
    print(f"{'case':<42} {'cpu ms':>8} {'wall ms':>8} {'cpu / floor':>12}")
    for name, (cpu, wall) in results.items():
        print(f"{name:<42} {cpu * 1000:>8.0f} {wall * 1000:>8.0f} {cpu / floor:>11.2f}x")


if __name__ == "__main__":
    main()
