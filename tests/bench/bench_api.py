"""API throughput under gunicorn (2 sync workers) against two baselines measured in the same run.

Run: ``python tests/bench/bench_api.py [--seconds 3] [--rounds 5]``.
Baselines: the same work written by hand in plain Flask + stdlib sqlite3 (tests/bench/handwritten_app.py, same
SQLite file, same gunicorn settings; goal: create and GET each >= 0.8x), the same again with the per-request work
the API contract adds (tests/bench/handwritten_full_app.py: rate limit and its headers, request id, metrics,
per-target caption check and content, event number, webhook fan-out), and a bare Flask JSON endpoint
(tests/bench/bare_app.py). The four apps run side by side and the load visits them in turn, a few seconds
each, round after round: on a shared 2-core box the load from elsewhere drifts, and each round's ratios
compare measurements taken within seconds of each other. The summary is the median of the rounds.

Each measurement also records the CPU time it cost, the app's gunicorn processes plus wrk (from /proc and
the children's rusage): `cpu ratio` is the hand-written app's CPU per request over ours. It does not move
with load from elsewhere on the box, and where the box is ours alone and the load CPU-bound, it is what the
throughput ratio converges to.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import gunicorn, load, post_fixture  # noqa: E402

APPS = {"bare": "tests.bench.bare_app:app", "hand": "tests.bench.handwritten_app:app",
        "full": "tests.bench.handwritten_full_app:app", "ours": "postdodo_connect.api:create_app()"}


def _server_cpu(url: str) -> float:
    """CPU seconds used so far by the gunicorn master and workers bound to this URL's port."""
    bind = f"127.0.0.1:{url.rsplit(':', 1)[1]}".encode()
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if bind not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except OSError:
            continue  # gone meanwhile
    return total


def measure(url: str, path: str, **kwargs: object) -> tuple[float, float]:
    """(requests/s, CPU µs per request of server plus load generator) for one load run."""
    seconds = int(kwargs["seconds"])  # type: ignore[call-overload]
    server, children = _server_cpu(url), resource.getrusage(resource.RUSAGE_CHILDREN)
    rate = load(url + path, **kwargs)  # type: ignore[arg-type]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = _server_cpu(url) - server + (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return rate, cpu / (rate * seconds) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    fixture = post_fixture()
    key, post_id, body, env = fixture.key, fixture.post_id, fixture.body, fixture.env
    auth = {"Authorization": f"Bearer {key}"}
    routes = {"bare": ("/bare", "/bare", {}), "hand": ("/v1/posts", f"/v1/posts/{post_id}", auth),
              "full": ("/v1/posts", f"/v1/posts/{post_id}", auth), "ours": ("/v1/posts", f"/v1/posts/{post_id}", auth)}
    ratios: dict[str, list[float]] = {name: [] for name in ("create/hand", "get/hand", "create/bare", "get/bare",
                                                            "cpu create/hand", "cpu get/hand", "create/full",
                                                            "get/full", "cpu create/full", "cpu get/full")}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(gunicorn(app, env)) for name, app in APPS.items()}
        for name, url in urls.items():  # warm-up: imports, connections, compiled statements
            load(url + routes[name][1], headers=routes[name][2], seconds=1)
        for n in range(1, args.rounds + 1):
            create, get = {}, {}
            for name, url in urls.items():
                create_path, _, headers = routes[name]
                create[name] = measure(url, create_path, method="POST", body=body, headers=headers, seconds=args.seconds)
            for name, url in urls.items():
                _, get_path, headers = routes[name]
                get[name] = measure(url, get_path, headers=headers, seconds=args.seconds)
            round_ratios = {"create/hand": create["ours"][0] / create["hand"][0], "get/hand": get["ours"][0] / get["hand"][0],
                            "create/bare": create["ours"][0] / create["bare"][0], "get/bare": get["ours"][0] / get["bare"][0],
                            "cpu create/hand": create["hand"][1] / create["ours"][1],
                            "cpu get/hand": get["hand"][1] / get["ours"][1],
                            "create/full": create["ours"][0] / create["full"][0],
                            "get/full": get["ours"][0] / get["full"][0],
                            "cpu create/full": create["full"][1] / create["ours"][1],
                            "cpu get/full": get["full"][1] / get["ours"][1]}
            for name, value in round_ratios.items():
                ratios[name].append(value)
            print(f"round {n}: req/s (CPU µs/req)  create: ours {create['ours'][0]:5.0f} ({create['ours'][1]:4.0f})  "
                  f"hand-written {create['hand'][0]:5.0f} ({create['hand'][1]:4.0f})  "
                  f"with the contract's work {create['full'][0]:5.0f} ({create['full'][1]:4.0f})  "
                  f"bare POST {create['bare'][0]:5.0f}\n         GET: ours {get['ours'][0]:5.0f} ({get['ours'][1]:4.0f})  "
                  f"hand-written {get['hand'][0]:5.0f} ({get['hand'][1]:4.0f})  with the contract's work "
                  f"{get['full'][0]:5.0f} ({get['full'][1]:4.0f})  bare GET {get['bare'][0]:5.0f}\n         ratios: "
                  + "  ".join(f"{k} {v:.2f}x" for k, v in round_ratios.items()), flush=True)
    median = {name: statistics.median(values) for name, values in ratios.items()}
    print(f"median of {args.rounds} rounds: create / hand-written {median['create/hand']:.2f}x, "
          f"GET / hand-written {median['get/hand']:.2f}x (goal >= 0.8x each); "
          f"create / bare POST {median['create/bare']:.2f}x, GET / bare GET {median['get/bare']:.2f}x; "
          f"CPU per request, hand-written / ours: create {median['cpu create/hand']:.2f}x, GET {median['cpu get/hand']:.2f}x\n"
          f"against the hand-written app doing the contract's per-request work too (handwritten_full_app.py): "
          f"create {median['create/full']:.2f}x, GET {median['get/full']:.2f}x; CPU per request: "
          f"create {median['cpu create/full']:.2f}x, GET {median['cpu get/full']:.2f}x")


if __name__ == "__main__":
    main()
