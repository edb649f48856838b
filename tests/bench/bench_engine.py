"""Engine benchmarks, embedded (threads) and scaled (RQ) modes, each as a ratio to its ideal in the same run.

Run: ``python tests/bench/bench_engine.py [--targets 1000] [--workers 8]``. Needs Redis (POSTDODO_TEST_REDIS_URL).

1. throughput: N targets at 100 ms sandbox latency with W workers, ÷ the ideal W / 0.1 s.   goal ≥ 0.8×
2. lag: N posts due in the same second: p99 of (publishing started − scheduled_at).          goal ≤ 1 s
   "Started" is the claim that moves the target to `publishing` and hands it to a worker; the time the
   post reached the (sandbox) platform is printed beside it, since RQ workers may start well after.
3. tick: one scheduler tick with 100,000 future posts ÷ one tick with 100.                     goal ≤ 2×
4. processing: N targets whose media the platform processes for 60 s, 100 ms per platform call (an upload,
   then a status check and the create), W workers: the whole run ÷ (60 s + the time W workers need for the
   calls alone, measured in the same run as N targets making one call of 3 × 100 ms).          goal ≤ 1.25×
   Real time, real worker threads: processing is a rescheduled check, so no worker waits the 60 s.
   ``--only processing`` runs just this case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from redis import Redis  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from postdodo_connect.config import Settings  # noqa: E402
from postdodo_connect.engine import Runtime  # noqa: E402
from postdodo_connect.engine.dispatch import PUBLISH_QUEUE  # noqa: E402
from postdodo_connect.engine.scheduler import Scheduler  # noqa: E402
from postdodo_connect.storage import Database, new_id  # noqa: E402
from postdodo_connect.storage import accounts as accounts_store  # noqa: E402
from postdodo_connect.storage import keys as keys_store  # noqa: E402
from postdodo_connect.storage.schema import posts, sandbox_posts, targets  # noqa: E402
from tests.support.factory import SECRET, fresh_database  # noqa: E402

REDIS = os.environ.get("POSTDODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/8"


def seed(db: Database, n: int, due: datetime, latency_ms: float, n_accounts: int = 4, *,
         processing_s: float = 0.0) -> None:
    """`n` one-target posts due at `due`, spread over a few sandbox accounts (bulk insert)."""
    media = [{"type": "image", "url": "https://cdn.example.com/bench.jpg"}] if processing_s else []
    with db.write() as conn:
        ws = keys_store.create_workspace(conn, "bench", test=True)
        faults = {"latency_ms": latency_ms, "processing_seconds": processing_s}
        accts = [accounts_store.create_account(conn, ws["id"], platform=p, handle=f"b{i}", mode="sandbox",
                                               settings={"faults": faults})
                 for i, p in enumerate(("bluesky", "mastodon", "x", "threads")[:n_accounts])]
        now = datetime.now(UTC)
        post_rows, target_rows = [], []
        for i in range(n):
            pid, acct = new_id("post"), accts[i % len(accts)]
            post_rows.append({"id": pid, "workspace_id": ws["id"], "status": "scheduled", "caption": f"bench {i}",
                              "media": media, "scheduled_at": due, "created_at": now, "updated_at": now})
            target_rows.append({"id": new_id("tgt"), "post_id": pid, "position": 0, "workspace_id": ws["id"],
                                "account_id": acct["id"], "platform": acct["platform"], "status": "scheduled",
                                "attempts": 0, "next_attempt_at": due, "updated_at": now})
        for start in range(0, n, 5000):
            conn.execute(insert(posts), post_rows[start:start + 5000])
            conn.execute(insert(targets), target_rows[start:start + 5000])


def remaining(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(targets)
                                .where(targets.c.status != "confirmed")).scalar_one())


def wait_done(db: Database, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while remaining(db):
        if time.monotonic() > deadline:
            raise SystemExit("targets did not finish in time")
        time.sleep(0.05)


class Recording:
    """Wraps a dispatcher and records when each target's publish was handed out."""

    def __init__(self, inner: object) -> None:
        self.inner, self.started = inner, []

    def free_slots(self, kind: str) -> int:
        return self.inner.free_slots(kind)  # type: ignore[attr-defined]

    def submit(self, kind: str, jobs: list[tuple[str, int]]) -> None:
        if kind == "publish":
            self.started.extend([time.time()] * len(jobs))
        self.inner.submit(kind, jobs)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.inner.close()  # type: ignore[attr-defined]


def run_mode(mode: str, n: int, workers: int, latency_ms: float,
             workdir: Path, processing_s: float = 0.0) -> tuple[float, list[float], list[float]]:
    """Seconds to confirm `n` due targets; each target's dispatch lag and platform lag (s) after its due time."""
    db_url = f"sqlite:///{workdir / f'{mode}-{latency_ms}-{processing_s}.db'}"
    settings = Settings.from_env({}, database_url=db_url, secret_key=SECRET, workers=workers, tick_seconds=0.05,
                                 redis_url=REDIS if mode == "rq" else None)
    db = fresh_database(db_url)
    due = datetime.now(UTC) + timedelta(seconds=2)
    seed(db, n, due, latency_ms, processing_s=processing_s)
    runtime = Runtime(settings, db)
    dispatcher = Recording(runtime.make_dispatcher())
    procs: list[subprocess.Popen[bytes]] = []
    if mode == "rq":
        Redis.from_url(REDIS).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
        env |= {"POSTDODO_DATABASE_URL": db_url, "POSTDODO_REDIS_URL": REDIS, "POSTDODO_SECRET_KEY": SECRET}
        procs = [subprocess.Popen([sys.executable, "-m", "postdodo_connect", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        # the engine claims only for live workers: start the clock once they are all listening
        deadline = time.monotonic() + 120
        while Redis.from_url(REDIS).scard(f"rq:workers:{PUBLISH_QUEUE}") < workers:
            if time.monotonic() > deadline:
                raise SystemExit("the RQ workers did not start")
            time.sleep(0.05)
        due = max(due, datetime.now(UTC) + timedelta(seconds=0.5))
        with db.write() as conn:
            conn.execute(update(targets).values(next_attempt_at=due))
    scheduler = Scheduler(db, dispatcher, runtime.clock, lease_seconds=300, tick_seconds=0.05, batch=200)
    runtime.scheduler = scheduler
    thread = threading.Thread(target=scheduler.run, daemon=True)
    while datetime.now(UTC) < due:
        time.sleep(0.005)
    started = time.perf_counter()
    thread.start()
    wait_done(db)
    elapsed = time.perf_counter() - started
    scheduler.stop()
    thread.join()
    dispatcher.close()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    with db.read() as conn:  # when each post reached the (sandbox) platform, stamped by whichever process published
        reached = [row.created_at.timestamp() - due.timestamp() for row in conn.execute(select(sandbox_posts.c.created_at))]
    return elapsed, [t - due.timestamp() for t in dispatcher.started], reached


def tick_cost(db_url: str, future: int) -> float:
    """Median seconds of one scheduler tick with `future` posts not yet due."""
    db = fresh_database(db_url)
    seed(db, future, datetime.now(UTC) + timedelta(days=30), 0)
    runtime = Runtime(Settings.from_env({}, database_url=db_url, secret_key=SECRET), db)
    scheduler = Scheduler(db, runtime.make_dispatcher(), runtime.clock, lease_seconds=300, tick_seconds=1, batch=200)
    samples = []
    for _ in range(50):
        t = time.perf_counter()
        scheduler.tick()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def processing(n: int, workers: int, workdir: Path, processing_s: float = 60.0, latency_ms: float = 100.0) -> None:
    """Case 4: media that processes on the platform must not hold workers (see the module docstring)."""
    calls_alone, _, _ = run_mode("embedded", n, workers, 3 * latency_ms, workdir)  # the same 3 calls, no waiting
    elapsed, _, _ = run_mode("embedded", n, workers, latency_ms, workdir, processing_s=processing_s)
    ideal = processing_s + calls_alone
    print(f"[embedded] processing: {n} targets, media processing {processing_s:.0f} s, {latency_ms:.0f} ms per call, "
          f"{workers} workers: {elapsed:.1f} s; calls alone {calls_alone:.1f} s; ideal {ideal:.1f} s; "
          f"ratio {elapsed / ideal:.2f}x (goal <= 1.25x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--only", choices=("processing",), help="run one case")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    if args.only == "processing":
        processing(args.targets, args.workers, workdir)
        return
    ideal = args.workers / 0.1
    for mode in ("embedded", "rq"):
        elapsed, _, _ = run_mode(mode, args.targets, args.workers, 100, workdir)
        rate = args.targets / elapsed
        print(f"[{mode}] throughput {rate:6.1f} targets/s at 100 ms latency, {args.workers} workers; "
              f"ideal {ideal:.0f}/s; ratio {rate / ideal:.2f}x (goal >= 0.8x)")
        _, lags, reached = run_mode(mode, args.targets, args.workers, 0, workdir)
        print(f"[{mode}] {args.targets} posts due at once: dispatch lag p50 {statistics.median(lags):.3f}s "
              f"p99 {p99(lags):.3f}s (goal p99 <= 1s); post on the platform p50 {statistics.median(reached):.3f}s "
              f"p99 {p99(reached):.3f}s")
    small = tick_cost(f"sqlite:///{workdir / 'tick-small.db'}", 100)
    large = tick_cost(f"sqlite:///{workdir / 'tick-large.db'}", 100_000)
    print(f"[sqlite] tick with 100 future posts {small * 1e3:.2f} ms, with 100,000 {large * 1e3:.2f} ms; "
          f"ratio {large / small:.2f}x (goal <= 2x)")
    processing(args.targets, args.workers, workdir)


if __name__ == "__main__":
    main()
