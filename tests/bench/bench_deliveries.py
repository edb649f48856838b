"""Webhook deliveries: latency from a target's confirmation to the receiver's 2xx, and throughput vs the ideal.

Run: ``python tests/bench/bench_deliveries.py [--posts 500] [--workers 8] [--deliveries 1500]``.
Not collected by pytest. It starts ``postdodo serve`` (embedded: SQLite + in-process worker threads) as a
subprocess and two threaded receivers on 127.0.0.1:

1. latency: ``--posts`` publish-now posts, one sandbox account each. The confirmation time is the
   ``created_at`` of the post.published event (written in the confirming transaction); the receiver stamps
   arrival with ``time.time()`` before it answers 204. Goal: p99 <= 1 s. For scale, the same percentiles of a
   bare POST from this process to the same receiver are printed alongside.
2. throughput: ``--deliveries`` webhook.test events to one endpoint that answers 200 after 50 ms. The
   backlog drains at best at (delivery workers / 0.05 s); the figure is the measured drain rate over that.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.server import Server, start_server, wait_until  # noqa: E402

SLOW_ANSWER = 0.05  # seconds the throughput receiver takes per request


class Sink:
    """A threaded HTTP receiver that records when each event arrived."""

    def __init__(self, delay: float = 0.0, status: int = 204) -> None:
        self.arrivals: dict[str, tuple[float, dict[str, Any]]] = {}
        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if delay:
                    time.sleep(delay)
                arrived = time.time()
                event = json.loads(body) if body.startswith(b"{") else {}
                with sink.lock:
                    sink.count += 1
                    if "created_at" in event:  # a delivery, not the baseline probe
                        sink.arrivals.setdefault(event["id"], (arrived, event))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server_(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server_(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def summary(values_ms: list[float]) -> str:
    return (f"p50 {pct(values_ms, 50):7.1f} ms  p90 {pct(values_ms, 90):7.1f} ms  "
            f"p99 {pct(values_ms, 99):7.1f} ms  max {max(values_ms):7.1f} ms  (n={len(values_ms)})")


def baseline(url: str, n: int = 300) -> list[float]:
    """Round trips of a bare POST to the receiver from one keep-alive session."""
    session = requests.Session()
    body = json.dumps({"id": "evt_baseline", "event": "noop"}).encode()
    found = []
    for _ in range(n):
        started = time.perf_counter()
        session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5)
        found.append((time.perf_counter() - started) * 1000)
    return found


def parallel(calls: list[Any], threads: int) -> None:
    with ThreadPoolExecutor(threads) as pool:
        for result in pool.map(lambda call: call(), calls):
            result.raise_for_status()


def latency_run(server: Server, http: requests.Session, posts: int, threads: int) -> list[float]:
    """Publish `posts` sandbox posts; returns confirm-to-2xx latencies in ms."""
    sink = Sink()
    try:
        api = server.url
        created = http.post(f"{api}/v1/webhooks", json={"url": sink.url, "events": ["post.published"]})
        created.raise_for_status()
        accounts = [a["id"] for a in http.get(f"{api}/v1/accounts").json()["data"] if a["platform"] != "instagram"]
        for i in range(8 - len(accounts)):
            extra = http.post(f"{api}/v1/accounts", json={"platform": "bluesky", "mode": "sandbox",
                                                          "handle": f"bench{i}"})
            extra.raise_for_status()
            accounts.append(extra.json()["id"])
        print(f"  baseline (bare POST to the receiver): {summary(baseline(sink.url))}")
        calls = [lambda i=i: http.post(f"{api}/v1/posts", json={"caption": f"bench post {i}",
                                                                 "account_ids": [accounts[i % len(accounts)]]})
                 for i in range(posts)]
        started = time.perf_counter()
        parallel(calls, threads)
        print(f"  created {posts} posts in {time.perf_counter() - started:.1f} s")
        wait_until(lambda: len(sink.arrivals) >= posts, 300, what=f"{posts} post.published deliveries")
        print(f"  all {posts} post.published delivered {time.perf_counter() - started:.1f} s after the first post")
        return [(arrived - parse_time(event["created_at"])) * 1000 for arrived, event in sink.arrivals.values()]
    finally:
        sink.stop()


def throughput_run(server: Server, http: requests.Session, deliveries: int, threads: int,
                   workers: int) -> tuple[float, float]:
    """Queue `deliveries` test events to a 50 ms endpoint; returns (drain rate/s, ideal rate/s)."""
    sink = Sink(delay=SLOW_ANSWER, status=200)
    try:
        api = server.url
        endpoint = http.post(f"{api}/v1/webhooks", json={"url": sink.url, "events": ["account.disconnected"]})
        endpoint.raise_for_status()
        test_url = f"{api}/v1/webhooks/{endpoint.json()['id']}/test"
        started = time.perf_counter()
        parallel([lambda: http.post(test_url)] * deliveries, threads)
        queued_at, arrived_then = time.time(), sink.count
        print(f"  queued {deliveries} test events in {time.perf_counter() - started:.1f} s "
              f"({arrived_then} already delivered)")
        wait_until(lambda: sink.count >= deliveries, 600, what=f"{deliveries} deliveries")
        last = max(arrived for arrived, _ in sink.arrivals.values())
        rate = (deliveries - arrived_then) / max(last - queued_at, 1e-9)
        return rate, max(2, workers) / SLOW_ANSWER  # the delivery pool has max(2, POSTDODO_WORKERS) threads
    finally:
        sink.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--deliveries", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=8, help="POSTDODO_WORKERS of the server")
    parser.add_argument("--threads", type=int, default=4, help="client threads creating posts / test events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deliveries-") as tmp:
        server = start_server(Path(tmp), extra_env={
            "POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1", "POSTDODO_RATE_LIMIT": "10000000/minute",
            "POSTDODO_WORKERS": str(args.workers), "POSTDODO_LOG_LEVEL": "WARNING"})
        try:
            http = server.session()
            print(f"latency: {args.posts} publish-now sandbox posts, target confirmed -> receiver 2xx")
            latencies = latency_run(server, http, args.posts, args.threads)
            print(f"  confirm -> 2xx: {summary(latencies)}")
            p99 = pct(latencies, 99)
            print(f"  goal p99 <= 1000 ms: {'met' if p99 <= 1000 else 'MISSED'} ({p99:.0f} ms)")
            print(f"throughput: {args.deliveries} deliveries to one endpoint answering 200 after 50 ms")
            rate, ideal = throughput_run(server, http, args.deliveries, args.threads, args.workers)
            print(f"  drained {rate:.1f} deliveries/s; ideal {ideal:.0f}/s (workers / 0.05 s); "
                  f"ratio {rate / ideal:.2f}")
            print(json.dumps({"latency_ms": {"p50": round(pct(latencies, 50), 1), "p99": round(p99, 1),
                                             "max": round(max(latencies), 1), "mean":
                                             round(statistics.fmean(latencies), 1), "n": len(latencies)},
                              "throughput": {"per_s": round(rate, 1), "ideal_per_s": ideal,
                                             "ratio": round(rate / ideal, 3)}}))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
