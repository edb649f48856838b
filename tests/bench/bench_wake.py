"""Create → `publishing` latency of a publish-now post under `postdodo serve`, with and without wake-ups.

The API runs in gunicorn workers and the engine in its own process, so a publish-now post is claimed either
because the API woke the engine (engine/wake.py) or at the engine's next tick. Measured in both modes, each
against the same run with POSTDODO_WAKE=0 (tick-bound, POSTDODO_TICK_SECONDS=0.5) as the baseline:

- embedded: SQLite, no Redis (Unix datagram socket)
- scaled:   PostgreSQL (POSTDODO_TEST_DATABASE_URL) + Redis (POSTDODO_TEST_REDIS_URL) (pub/sub)

Posts go one at a time, each right after the previous one was claimed, so without wake-ups each waits for
nearly a whole tick: the baseline is the tick-bound worst case, not its average (half a tick).

Run: ``python tests/bench/bench_wake.py [--posts 100] [--mode embedded|scaled|both]``. Goal: p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select  # noqa: E402

from postdodo_connect.storage import Database  # noqa: E402
from postdodo_connect.storage.schema import targets  # noqa: E402
from tests.support.factory import fresh_database  # noqa: E402
from tests.support.server import start_server  # noqa: E402

PG_URL = os.environ.get("POSTDODO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("POSTDODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def measure(mode: str, wake: bool, posts: int) -> list[float]:
    """Seconds from sending each create to seeing its target claimed, one post at a time."""
    workdir = Path(tempfile.mkdtemp())
    env = {"POSTDODO_RATE_LIMIT": "1000000/minute", "POSTDODO_TICK_SECONDS": "0.5", "POSTDODO_WAKE": str(int(wake))}
    if mode == "scaled":
        fresh_database(PG_URL).dispose()  # empty tables: serve creates the demo workspace and prints its key
        env |= {"POSTDODO_DATABASE_URL": PG_URL, "POSTDODO_REDIS_URL": REDIS_URL}
    server = start_server(workdir, extra_env=env)
    db = Database(server.env["POSTDODO_DATABASE_URL"])
    try:
        session = server.session()
        account = next(a["id"] for a in session.get(f"{server.url}/v1/accounts").json()["data"]
                       if a["platform"] == "bluesky")
        latencies = []
        for i in range(posts + 5):  # the first few warm up connections and caches
            started = time.perf_counter()
            post = session.post(f"{server.url}/v1/posts", json={"caption": f"wake {i}", "account_ids": [account]})
            post_id = post.json()["id"]
            while True:
                with db.read() as conn:
                    status = conn.execute(select(targets.c.status).where(targets.c.post_id == post_id)).scalar_one()
                if status != "scheduled":
                    break
                time.sleep(0.001)
            if i >= 5:
                latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        server.stop()
        db.dispose()
        if mode == "scaled":
            _drop_queued_jobs()


def _drop_queued_jobs() -> None:
    """No RQ worker runs here: remove the jobs the engine enqueued."""
    from redis import Redis
    from rq import Queue

    from postdodo_connect.engine.dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE

    redis = Redis.from_url(REDIS_URL)
    for name in (PUBLISH_QUEUE, WEBHOOK_QUEUE):
        Queue(name, connection=redis).delete(delete_jobs=True)


def p(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--mode", choices=("embedded", "scaled", "both"), default="both")
    args = parser.parse_args()
    for mode in ("embedded", "scaled") if args.mode == "both" else (args.mode,):
        woken = measure(mode, True, args.posts)
        ticked = measure(mode, False, args.posts)
        print(f"{mode:8}  wake-up: p50 {p(woken, .5):6.1f} ms  p99 {p(woken, .99):6.1f} ms   "
              f"tick-bound baseline: p50 {p(ticked, .5):6.1f} ms  p99 {p(ticked, .99):6.1f} ms   "
              f"p99 ratio {p(woken, .99) / p(ticked, .99):.2f}x (goal: p99 <= 100 ms)")


if __name__ == "__main__":
    main()
