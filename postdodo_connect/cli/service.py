"""`postdodo serve` (API workers + one engine process), `postdodo engine` and `postdodo worker` (scaled mode)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..config import Settings
from ..redact import redact_url

if TYPE_CHECKING:
    from ..storage import Database

# The server modules (API, engine, storage) are imported inside each command: they need the [server] extra,
# and `postdodo posts ...` must not pay for loading them.

log = logging.getLogger("postdodo")
DEMO_PLATFORMS = ("instagram", "bluesky", "mastodon", "x")


def register(commands: Any) -> None:
    """Add serve, engine and worker."""
    serve = commands.add_parser(
        "serve", help="run the API (gunicorn workers) and one engine process: the embedded default",
        description="The API on gunicorn worker processes plus one supervised engine process.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help="HTTP worker processes (default: one per CPU, 2 to 8)")
    serve.add_argument("--threads", type=_positive, default=4, metavar="N",
                       help="requests each worker takes at once; one runs, the others wait up to 50 ms for it (default 4)")
    serve.add_argument("--backlog", type=_positive, default=512, metavar="N",
                       help="connections waiting to be accepted before new ones are refused (default 512)")
    serve.add_argument("--keep-alive", type=float, default=5.0, metavar="SECONDS",
                       help="how long an idle client connection stays open (default 5)")
    serve.add_argument("--graceful-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="on SIGTERM/SIGINT, time for requests and publish attempts to finish (default 30)")
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo workspace on an empty database")
    serve.add_argument("--no-engine", action="store_true", help="API only (when `postdodo engine` runs elsewhere)")
    serve.set_defaults(func=cmd_serve)
    engine = commands.add_parser("engine", help="run the scheduler and reaper only (scaled mode; safe to run several)")
    engine.add_argument("--graceful-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="on SIGTERM/SIGINT, time for running attempts to finish before their leases are handed back")
    engine.add_argument("--supervised", type=int, default=None, help=argparse.SUPPRESS)  # fd: run by `postdodo serve`
    engine.set_defaults(func=cmd_engine)
    worker = commands.add_parser("worker", help="run an RQ worker on the postdodo queues (scaled mode)")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.add_argument("--fork", action="store_true",
                        help="run each job in a forked child (isolation; rebuilds the runtime and loses its caches per job)")
    worker.add_argument("--simple", action="store_true", help=argparse.SUPPRESS)  # the default now: no fork
    worker.set_defaults(func=cmd_worker)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def create_demo(db: Database) -> str | None:
    """A sandbox workspace with a few accounts, on an empty database only; returns its key."""
    from ..storage import accounts as accounts_store
    from ..storage import keys as keys_store

    with db.write() as conn:
        if keys_store.count_workspaces(conn):
            return None
        workspace = keys_store.create_workspace(conn, "demo", test=True)
        for platform in DEMO_PLATFORMS:
            accounts_store.create_account(conn, workspace["id"], platform=platform, handle=f"demo_{platform}",
                                          display_name=f"Demo {platform}", mode="sandbox")
        _, key = keys_store.create_key(conn, workspace)
    return key


class StartUp(NamedTuple):
    """What start-up made that `postdodo serve` prints once."""

    demo_key: str | None
    #: the dashboard's first-run token, on a database without users
    setup_token: str | None


def first_run_token(db: Database) -> str | None:
    """A one-time sign-in token for the dashboard's first user, while nobody has signed up yet."""
    from ..storage import users

    with db.write() as conn:
        if users.count_users(conn):
            return None
        return users.create_signin_token(conn, "setup")


def start_up(settings: Settings, *, demo: bool) -> StartUp:
    """What runs once before any server process: the database made ready, the secret key, the demo workspace.

    Also the dashboard's first-run token. Runs in the parent, before it forks: no connection is kept.
    """
    from ..storage import keyring
    from ..storage.migrate import open_database

    # SQLite: the one service owns its file, so it migrates; PostgreSQL: `postdodo migrate` does, once
    db = open_database(settings.database_url, migrate_sqlite=True)
    try:
        keyring.secure_start(settings, db)  # a wrong key stops here; a new key file is made once, not raced
        key = create_demo(db) if demo else None
        return StartUp(key, first_run_token(db))
    finally:
        db.dispose()


def warn_if_redis_down(settings: Settings) -> None:
    """The servers' half of the Redis rule: one line at start, then run degraded (docs/deployment.md, health)."""
    from ..redisprobe import unreachable

    if settings.redis_url and (reason := unreachable(settings.redis_url)):
        print(f"warning: {reason}; running degraded until it is back: posts wait in the database, rate limits "
              "count per process, /healthz reports redis", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """gunicorn workers for HTTP and one engine process (scheduler, reaper, publish and delivery threads)."""
    settings = Settings.from_env()
    started = start_up(settings, demo=not args.no_demo)
    key = started.demo_key
    warn_if_redis_down(settings)

    def announce(port: int) -> None:
        url = f"http://{args.host}:{port}"
        if started.setup_token:
            # like Jupyter's token URL: the first person to open it chooses the dashboard's first password
            print(f"dashboard first sign-in (one-time link, valid 24 h): {url}/setup?token={started.setup_token}",
                  flush=True)
        if key:
            print(f"demo sandbox workspace created; its API key (shown once): {key}", flush=True)
            print(f'  try: curl {url}/v1/accounts -H "Authorization: Bearer {key}"', flush=True)
        # the last line of start-up: scripts and tests wait for it
        print(f"PostDodo listening on {url} (database {redact_url(settings.database_url)})", flush=True)

    if os.name != "posix":  # gunicorn needs fork(): one process, threads for HTTP, the engine beside them
        return _serve_in_process(args, settings, announce)
    from ..metrics import prepare_multiprocess_dir
    from .server import Application, Options, default_workers

    prepare_multiprocess_dir()  # before the fork: workers and the engine count into one directory
    Application(Options(
        host=args.host, port=args.port, workers=args.workers or default_workers(), threads=args.threads,
        backlog=args.backlog, keepalive=args.keep_alive, graceful_timeout=args.graceful_timeout,
        engine=not args.no_engine, announce=announce,
    )).run()
    return 0


def _serve_in_process(args: argparse.Namespace, settings: Settings, announce: Callable[[int], None]) -> int:
    from werkzeug.serving import make_server

    from ..api import Service, create_app
    from ..engine import Runtime

    runtime = Runtime(settings)
    if not args.no_engine:
        runtime.start()
    service = Service(settings=runtime.settings, db=runtime.db, vault=runtime.vault, clock=runtime.clock,
                      kick=runtime.kick)
    server = make_server(args.host, args.port, create_app(service=service), threaded=True)
    announce(server.port)
    _stop_on_signals(server.shutdown)
    try:
        server.serve_forever()
    finally:
        runtime.stop(args.graceful_timeout)
    return 0


def cmd_engine(args: argparse.Namespace) -> int:
    """Scheduler and reaper without HTTP; work goes to RQ when POSTDODO_REDIS_URL is set."""
    from ..engine import Runtime

    settings = Settings.from_env()
    if args.supervised is None:  # under `postdodo serve`, which has said it already
        warn_if_redis_down(settings)
    runtime = Runtime(settings)
    runtime.start()
    done = threading.Event()
    _stop_on_signals(done.set)
    if args.supervised is not None:
        os.write(args.supervised, b"e")  # tell `postdodo serve` the engine is running
        os.close(args.supervised)
        threading.Thread(target=_stop_at_eof, args=(done,), name="postdodo-parent", daemon=True).start()
    else:
        print(f"PostDodo engine running ({'RQ' if runtime.settings.redis_url else 'threads'})", flush=True)
    # Wait in short slices: a signal the kernel hands to another thread only sets a flag, and a main thread
    # blocked in an untimed lock wait would never look at it (Ctrl-C then hung `postdodo serve` for good).
    while not done.wait(0.25):
        pass
    still_running = runtime.stop(args.graceful_timeout)
    log.info("engine stopped")
    if still_running:
        # attempts still running were handed back; their threads must not hold the exit until they end
        logging.shutdown()
        os._exit(0)
    return 0


def _stop_at_eof(done: threading.Event) -> None:
    """Stop when the parent `postdodo serve` is gone (its end of our stdin closed), even after a kill -9."""
    # the raw descriptor: a daemon thread blocked in the buffered reader would hold its lock at interpreter exit
    while os.read(sys.stdin.fileno(), 4096):
        pass
    log.warning("postdodo serve is gone: stopping the engine")
    done.set()


def cmd_worker(args: argparse.Namespace) -> int:
    """An RQ worker on postdodo-publish and postdodo-webhooks: one runtime for the process's jobs (docs/deployment.md)."""
    from redis import Redis
    from rq import Worker
    from rq.serializers import JSONSerializer
    from rq.worker import SimpleWorker

    from ..engine.dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE
    from ..engine.runtime import process_runtime
    from ..errors import QueueUnavailable
    from ..metrics import multiprocess
    from ..redisprobe import unreachable
    from ..storage import keyring

    # a database that is behind or a wrong secret key stops the worker now, not each job
    settings = keyring.check(Settings.from_env())
    if not settings.redis_url:
        print("error: set POSTDODO_REDIS_URL for `postdodo worker`", file=sys.stderr)
        return 2
    if reason := unreachable(settings.redis_url):
        # a worker has nothing to do without Redis: stop plainly and let the supervisor start it again
        raise QueueUnavailable(f"{reason}: `postdodo worker` needs it")
    if args.fork and multiprocess():
        # every forked job is a new pid, hence a new metrics file that outlives it: scrapes slow down for ever
        log.warning("PROMETHEUS_MULTIPROC_DIR is set: run `postdodo worker` without --fork so jobs' metrics "
                    "stay in this process's files instead of one new file per job")
    # No fork (the default): jobs run in this process's main thread, so RQ's SIGALRM job timeout still
    # applies, and they share one runtime: connection pools, adapters and their caches (a Bluesky login).
    # Forking, the runtime is built in each job's child instead: never before the fork, as its threads
    # and connections would not survive it.
    runtime = None if args.fork else process_runtime()
    worker = (Worker if args.fork else SimpleWorker)([PUBLISH_QUEUE, WEBHOOK_QUEUE],
                                                     connection=Redis.from_url(settings.redis_url),
                                                     serializer=JSONSerializer)
    try:
        worker.work(burst=args.burst, with_scheduler=False)
    finally:
        if runtime is not None:
            runtime.leases.stop()  # a clean exit holds nothing: no successor need wait for its beat to stop
    return 0


def _stop_on_signals(stop: Any) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=stop, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
