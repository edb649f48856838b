"""`postdodo serve` throughput as a ratio of `gunicorn -w 2 'postdodo_connect.api:create_app()'`, same run.

Same database, same app, same load (tests/bench/harness.py: wrk, or its Python loader); serve runs as a user
runs it (default workers and threads, the engine process beside them). The bench alternates the two servers
for `--rounds` rounds and compares the sums. It also reports the server's CPU time per request (every process
of each server, serve's engine included, from /proc): unlike throughput, that ratio does not move with load
from elsewhere on a shared box.

Run: ``python tests/bench/bench_serve.py [--seconds 5] [--rounds 2]``. Goal: create post and GET post ≥ 0.8×.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import gunicorn, load, post_fixture  # noqa: E402
from tests.support.server import start_server  # noqa: E402


@contextmanager
def serve(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """`postdodo serve` on a free port with its defaults; yields the base URL."""
    server = start_server(workdir, extra_env=env, args=("--no-demo",))
    try:
        yield server.url
    finally:
        server.stop()


def _tree_cpu(port: int) -> float:
    """CPU seconds used so far by the server started with this port and every process under it."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, cpu seconds)
    roots = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        if str(port).encode() in args or f"127.0.0.1:{port}".encode() in args:
            roots.append(int(pid))
    tree, grew = set(roots), True
    while grew:
        more = {pid for pid, (parent, _) in stats.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(stats[pid][1] for pid in tree)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    fixture = post_fixture()
    key, post_id, body, env, workdir = fixture.key, fixture.post_id, fixture.body, fixture.env, fixture.workdir
    auth = {"Authorization": f"Bearer {key}"}
    totals = {"gunicorn": [0.0, 0.0], "serve": [0.0, 0.0]}
    cpu = {"gunicorn": [0.0, 0.0], "serve": [0.0, 0.0]}  # server CPU seconds and requests, create + GET

    def run(name: str, url: str) -> None:
        port = int(url.rsplit(":", 1)[1])
        load(url + f"/v1/posts/{post_id}", headers=auth, seconds=1)  # warm-up
        before = _tree_cpu(port)
        create = load(url + "/v1/posts", method="POST", body=body, headers=auth, seconds=args.seconds)
        get = load(url + f"/v1/posts/{post_id}", headers=auth, seconds=args.seconds)
        cpu[name][0] += _tree_cpu(port) - before
        cpu[name][1] += (create + get) * args.seconds
        totals[name][0] += create
        totals[name][1] += get
        print(f"  {name:8}  create {create:7.0f} req/s   get {get:7.0f} req/s", flush=True)

    for _ in range(args.rounds):
        with gunicorn("postdodo_connect.api:create_app()", env, workers=2) as url:
            run("gunicorn", url)
        # like the gunicorn run (no logging configured, so no access log): serve's line per request would
        # otherwise be measured too, and it is read by this process through a pipe
        quiet = {k: v for k, v in env.items() if k.startswith("POSTDODO_")} | {"POSTDODO_LOG_LEVEL": "WARNING"}
        with serve(quiet, workdir) as url:
            run("serve", url)
    (g_create, g_get), (s_create, s_get) = totals["gunicorn"], totals["serve"]
    print(f"create post: serve ÷ gunicorn -w 2 = {s_create / g_create:.2f}x (goal >= 0.8x)")
    print(f"GET post:    serve ÷ gunicorn -w 2 = {s_get / g_get:.2f}x (goal >= 0.8x)")
    per_request = {name: seconds / requests * 1e6 for name, (seconds, requests) in cpu.items()}
    print(f"server CPU per request (create + GET): gunicorn {per_request['gunicorn']:.0f} µs, serve "
          f"{per_request['serve']:.0f} µs (engine included): gunicorn ÷ serve = "
          f"{per_request['gunicorn'] / per_request['serve']:.2f}x")


if __name__ == "__main__":
    main()
