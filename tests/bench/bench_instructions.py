"""Instructions per API request (callgrind), ours against the hand-written baselines: a ratio that repeats.

On a shared machine the throughput ratios of tests/bench/bench_api.py move by up to ±15 % from round to
round. An instruction count does not: the same code on the same data executes the same instructions, whatever
else the machine is doing. The count covers the app's own work only, not what every app pays alike
(gunicorn, the kernel's network stack, the load generator), so its ratios sit below the throughput ratios. It
is the measure to check a change to the request path with, before confirming it with bench_api.

Run: ``python tests/bench/bench_instructions.py [--requests 100]`` (needs valgrind: apt-get install valgrind).
Each app runs in its own `valgrind --tool=callgrind` process on the same SQLite file. The requests go
through the app's WSGI callable inside `functools.reduce`, the one function callgrind counts, after 200
uncounted ones (imports, connections, compiled statements).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_api import APPS  # noqa: E402
from tests.bench.harness import ROOT, post_fixture  # noqa: E402

NAMES = ("hand", "full", "ours")  # the two hand-written baselines, then the app itself
WARM_UP = 200


def _load_app(name: str) -> Any:
    module, _, expr = APPS[name].partition(":")
    return eval(expr, vars(importlib.import_module(module)))  # noqa: S307  # our own "module:expression" table


def child(name: str, kind: str, requests: int, fixture: dict[str, Any]) -> None:
    """Inside valgrind: warm up, then drive the counted requests through the app's WSGI callable."""
    app = _load_app(name)
    body = json.dumps(fixture["body"]).encode()
    get = kind == "get"
    path = f"/v1/posts/{fixture['post_id']}" if get else "/v1/posts"

    def one(done: int, _: int) -> int:
        environ = {"REQUEST_METHOD": "GET" if get else "POST", "PATH_INFO": path, "SCRIPT_NAME": "",
                   "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
                   "HTTP_AUTHORIZATION": f"Bearer {fixture['key']}", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(b"" if get else body), "wsgi.errors": sys.stderr,
                   "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
                   "wsgi.version": (1, 0)}
        if not get:
            environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
        status: list[str] = []
        b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
        if status[0][:3] not in ("200", "201"):
            raise SystemExit(f"{name} answered {status[0]} to {environ['REQUEST_METHOD']} {path}")
        return done + 1

    for n in range(WARM_UP):  # a plain loop: callgrind counts only inside functools.reduce
        one(0, n)
    functools.reduce(one, range(requests), 0)


def count(name: str, kind: str, requests: int, env: dict[str, str]) -> float:
    """Instructions per request of one app and kind, from a callgrind run."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--collect-atstart=no",
         "--toggle-collect=functools_reduce", sys.executable, __file__, "--child", name, kind,
         "--requests", str(requests)], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    collected = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    if collected is None:
        raise SystemExit(f"no count from callgrind for {name} {kind}:\n{out.stderr[-2000:]}")
    return int(collected.group(1)) / requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--child", nargs=2, metavar=("APP", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.requests, json.loads(os.environ["BENCH_FIXTURE"]))
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    fixture = post_fixture()
    env = fixture.env | {"BENCH_FIXTURE": json.dumps({"key": fixture.key, "post_id": fixture.post_id,
                                                      "body": fixture.body})}
    runs = [(name, kind) for kind in ("get", "create") for name in NAMES]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(runs, pool.map(lambda run: count(run[0], run[1], args.requests, env), runs), strict=True))
    for kind in ("get", "create"):
        hand, full, ours = (counts[(name, kind)] for name in NAMES)
        print(f"{kind:6}  instructions per request: ours {ours / 1e3:7.0f}k  hand-written {hand / 1e3:7.0f}k  "
              f"hand-written + the contract's work {full / 1e3:7.0f}k   ratios: hand / ours {hand / ours:.2f}x, "
              f"(hand + contract) / ours {full / ours:.2f}x")


if __name__ == "__main__":
    main()
