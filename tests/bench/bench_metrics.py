"""What the /metrics request hook costs per API request, in-memory and in multiprocess mode.

Run: ``python tests/bench/bench_metrics.py [--rounds R] [--per-round N]``. Not collected by pytest.
Each mode runs in its own interpreter (prometheus_client picks its mode at import). In each, the same
in-process app answers GET /v1/posts/<id> through its WSGI callable, in short alternating rounds with the metrics
hooks installed and removed; printed: the best round of each, the median of the paired ratios (without ÷
with: 1.0 means free), and the hooks timed alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def measure(rounds: int, per_round: int) -> dict[str, float]:
    """In this interpreter: per-request seconds with and without the hooks, and of the hooks alone."""
    from flask import Response
    from werkzeug.test import EnvironBuilder

    from tests.support.factory import make_api

    folder = tempfile.mkdtemp(prefix="bench-metrics-")
    api = make_api(f"sqlite:///{folder}/bench.db", rate_limit="100000000/minute")
    key = api.new_key()
    account = api.sandbox_account(key, "bluesky")
    post = api.call("POST", "/v1/posts", key, json={"caption": "bench", "account_ids": [account["id"]],
                                                    "scheduled_at": "2030-01-01T00:00:00Z"}).get_json()
    environ = EnvironBuilder(path=f"/v1/posts/{post['id']}", headers={"Authorization": f"Bearer {key}"}).get_environ()
    app = api.app
    after = app.after_request_funcs[None]
    count = next(f for f in after if f.__name__ == "_count")
    timed_app = app.wsgi_app
    started = {"postdodo.started": time.perf_counter()}

    def request_once() -> None:
        body = app.wsgi_app(dict(environ), lambda status, headers, exc=None: None)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    def timed(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            request_once()
        return (time.perf_counter() - t0) / n

    timed(200)  # warm: connections, prepared statements, label children
    best = {"with": float("inf"), "without": float("inf")}
    ratios = []
    for _ in range(rounds):  # short alternating rounds: a busy box slows both sides of a pair alike
        with_hooks = timed(per_round)
        app.wsgi_app = timed_app.__wrapped__  # type: ignore[attr-defined]
        after.remove(count)
        without = timed(per_round)
        app.wsgi_app = timed_app  # type: ignore[method-assign]
        after.append(count)
        best = {"with": min(best["with"], with_hooks), "without": min(best["without"], without)}
        ratios.append(without / with_hooks)

    response = Response("{}", status=200)
    hooks_only = float("inf")
    # pushing the context matches the route, as a request does
    with app.test_request_context(f"/v1/posts/{post['id']}", environ_base=started):
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(per_round):
                started["postdodo.started"] = time.perf_counter()  # what the WSGI wrapper does
                count(response)
            hooks_only = min(hooks_only, (time.perf_counter() - t0) / per_round)
    return {"with": best["with"], "without": best["without"], "hooks": hooks_only,
            "ratio": statistics.median(ratios)}


def main() -> None:
    """Run both modes in fresh interpreters and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.rounds, args.per_round)))
        return
    results: dict[str, dict[str, float]] = {}
    for mode in ("in-memory", "multiprocess"):
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        if mode == "multiprocess":
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-prom-")
        out = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds),
                              "--per-round", str(args.per_round)], env=env, capture_output=True, text=True, check=True)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    show: Callable[[float], str] = lambda s: f"{s * 1e6:7.1f} µs"  # noqa: E731
    print("GET /v1/posts/<id> in-process (best round), with the metrics hooks vs without them")
    for mode, r in results.items():
        print(f"  {mode:13} with {show(r['with'])}  without {show(r['without'])}  median paired ratio {r['ratio']:.3f}"
              f"  hooks alone {show(r['hooks'])} ({r['hooks'] / r['without'] * 100:.1f}% of a request)")


if __name__ == "__main__":
    main()
