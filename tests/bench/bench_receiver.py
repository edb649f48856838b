"""Receiver throughput against a bare Flask endpoint, and time-to-503 with Redis down.

Run: ``python tests/bench/bench_receiver.py [--requests N] [--threads T]``. Not collected by pytest.
Both apps run under gunicorn with 2 sync workers on free ports. The load generator fires distinct signed
deliveries, prepared before the clock starts, from several threads. ``--client raw`` (default) writes
prebuilt HTTP/1.1 requests on plain sockets, because on a 2-core box a requests.Session client saturates
the CPU before the server does and both apps then measure the client (``--client requests`` shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flask import Flask, jsonify, request  # noqa: E402

from postdodo_connect import signing  # noqa: E402

bare_app = Flask("bare")


@bare_app.post("/webhooks/postdodo")
def bare_endpoint() -> object:
    """The baseline: read the body, answer small JSON."""
    request.get_data()
    return jsonify({"status": "ok"}), 202


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll ``check`` until true or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S112 - not up yet
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not come up in {deadline_s} s")


def start_redis(port: int, workdir: str) -> subprocess.Popen[bytes]:
    """A private redis-server without persistence."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    wait_until(lambda: bool(client.ping()), 10, "redis-server")
    return proc


def start_gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """gunicorn, 2 sync workers, on ``port``."""
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
           "--pythonpath", f"{ROOT},{ROOT / 'tests' / 'bench'}", "--log-level", "warning", target]
    proc = subprocess.Popen(cmd, env=env)
    wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 600, 20, target)
    return proc


def deliveries(secret: str, count: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    """Distinct signed ~400-byte post.published deliveries."""
    now = int(time.time())
    out = []
    for i in range(count):
        event_id = f"evt_{prefix}_{i:07d}"
        body = json.dumps({
            "id": event_id, "event": "post.published", "created_at": "2026-11-28T10:00:00Z",
            "data": {"post_id": f"post_{i:07d}", "account_id": "acct_01HZX", "platform": "bluesky",
                     "status": "confirmed", "permalink": f"https://bsky.app/profile/demo/post/{i:07d}",
                     "caption": "x" * 120},
        }).encode()
        out.append((body, signing.delivery_headers([secret], event_id, now, body)))
    return out


def raw_request(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """One prebuilt HTTP/1.1 POST (gunicorn's sync workers close every connection anyway)."""
    lines = ["POST /webhooks/postdodo HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def raw_post(port: int, payload: bytes) -> int:
    """Send a prebuilt request on a fresh connection and return the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return int(b"".join(chunks)[9:12])


def fire(url: str, work: list[tuple[bytes, dict[str, str]]], threads: int, budget_s: float,
         client: str = "raw") -> dict[str, float]:
    """Send every delivery from ``threads`` threads; return rate, latency percentiles and statuses."""
    port = int(url.split(":")[2].split("/")[0])
    prebuilt = [raw_request(port, body, headers) for body, headers in work] if client == "raw" else []
    lock = threading.Lock()
    position = [0]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.monotonic() + budget_s

    def run() -> None:
        session = requests.Session()
        mine: list[float] = []
        seen: dict[int, int] = {}
        while time.monotonic() < stop_at:
            with lock:
                index = position[0]
                position[0] += 1
            if index >= len(work):
                break
            started = time.perf_counter()
            if client == "raw":
                status = raw_post(port, prebuilt[index])
            else:
                body, headers = work[index]
                status = session.post(url, data=body, headers=headers, timeout=10).status_code
            mine.append(time.perf_counter() - started)
            seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in seen.items():
                statuses[code] = statuses.get(code, 0) + n

    pool = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max_ms": 1000 * latencies[-1],
        "statuses": statuses,  # type: ignore[dict-item]
    }


def reference_app() -> Flask:
    """The receiver using rq's own enqueue_call(unique=True) (two Redis round trips), for comparison."""
    from receiver import create_app

    app = create_app()
    app.extensions["postdodo_receiver"].queue.single_round_trip = False
    return app


def _line(name: str, result: dict[str, float]) -> str:
    """One printed result."""
    return (f"{name:<22}: {result['rps']:6.0f} req/s  p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms"
            f"  {result['statuses']}")


def main() -> int:
    """Run interleaved rounds (bare, receiver, rq-reference), then the Redis-down phase; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="deliveries per phase")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--budget", type=float, default=5.0, help="seconds per phase at most")
    parser.add_argument("--client", choices=("raw", "requests"), default="raw")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        print("redis-server not found", file=sys.stderr)
        return 2
    secret = signing.generate_secret()
    workdir = tempfile.mkdtemp(prefix="bench-receiver-")
    redis_port = free_port()
    ports = {"bare flask": free_port(), "receiver": free_port(), "receiver (rq enqueue)": free_port()}
    targets = {"bare flask": "bench_receiver:bare_app", "receiver": "receiver:create_app()",
               "receiver (rq enqueue)": "bench_receiver:reference_app()"}
    env = dict(os.environ, POSTDODO_RECEIVER_SECRETS=secret,
               POSTDODO_RECEIVER_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis_proc = start_redis(redis_port, workdir)
        procs.append(redis_proc)
        for name, port in ports.items():
            procs.append(start_gunicorn(targets[name], port, env))
        url = {name: f"http://127.0.0.1:{port}/webhooks/postdodo" for name, port in ports.items()}
        for name in ports:  # warm-up: imports, first connections, Lua script load
            fire(url[name], deliveries(secret, 200, f"warm{name}"), args.threads, args.budget, args.client)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
        for round_no in range(args.rounds):  # interleaved, so background load hits every app alike
            for name in ports:
                work = deliveries(secret, args.requests, f"{round_no}{name}")
                results[name].append(fire(url[name], work, args.threads, args.budget, args.client))
        counter = redis.Redis(port=redis_port)
        queued = counter.llen("rq:queue:postdodo-events")
        expected = sum(r["statuses"].get(202, 0) for n in ports if n != "bare flask" for r in results[n])  # type: ignore[attr-defined]

        redis_proc.terminate()
        redis_proc.wait(10)
        down = fire(url["receiver"], deliveries(secret, 500, "down"), args.threads, args.budget, args.client)

        median = {name: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2] for name, runs in results.items()}
        for name in ports:
            print(_line(name, median[name]) + f"  rounds: {[round(r['rps']) for r in results[name]]}")
        print(f"jobs queued: {queued} (expected {expected + 400})")
        bare = median["bare flask"]["rps"]
        print(f"ratio receiver/bare: {median['receiver']['rps'] / bare:.2f}x (goal >= 0.6x); "
              f"with rq's enqueue_call: {median['receiver (rq enqueue)']['rps'] / bare:.2f}x")
        print(f"redis down: p99 time-to-503 {down['p99_ms']:.1f} ms, max {down['max_ms']:.1f} ms  {down['statuses']}")
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
