"""`postdodo serve` (API + engine in one process), `postdodo engine` and `postdodo worker` (scaled mode)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

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
    serve = commands.add_parser("serve", help="run the API and the engine in one process (the embedded default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo workspace on an empty database")
    serve.add_argument("--no-engine", action="store_true", help="API only (when `postdodo engine` runs elsewhere)")
    serve.set_defaults(func=cmd_serve)
    engine = commands.add_parser("engine", help="run the scheduler and reaper only (scaled mode; safe to run several)")
    engine.set_defaults(func=cmd_engine)
    worker = commands.add_parser("worker", help="run an RQ worker on the postdodo queues (scaled mode)")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.add_argument("--simple", action="store_true", help="no fork per job (faster, less isolated)")
    worker.set_defaults(func=cmd_worker)


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


def cmd_serve(args: argparse.Namespace) -> int:
    """API, scheduler, reaper and worker threads in one process."""
    from werkzeug.serving import make_server

    from ..api import Service, create_app
    from ..engine import Runtime
    from ..storage.migrate import open_database

    settings = Settings.from_env()
    # SQLite: the one process owns its file, so it migrates; PostgreSQL: `postdodo migrate` does, once
    runtime = Runtime(settings, open_database(settings.database_url, migrate_sqlite=True))
    key = None if args.no_demo else create_demo(runtime.db)
    if not args.no_engine:
        runtime.start()
    service = Service(settings=runtime.settings, db=runtime.db, vault=runtime.vault, clock=runtime.clock,
                      kick=runtime.kick)
    app = create_app(service=service)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # our access log already has one line per request
    server = make_server(args.host, args.port, app, threaded=True)
    url = f"http://{args.host}:{server.port}"
    if key:
        print(f"demo sandbox workspace created; its API key (shown once): {key}", flush=True)
        print(f'  try: curl {url}/v1/accounts -H "Authorization: Bearer {key}"', flush=True)
    # the last line of start-up: scripts and tests wait for it
    print(f"PostDodo listening on {url} (database {redact_url(runtime.settings.database_url)})", flush=True)
    _stop_on_signals(server.shutdown)
    try:
        server.serve_forever()
    finally:
        runtime.stop()
    return 0


def cmd_engine(args: argparse.Namespace) -> int:
    """Scheduler and reaper without HTTP; work goes to RQ when POSTDODO_REDIS_URL is set."""
    from ..engine import Runtime

    runtime = Runtime(Settings.from_env())
    scheduler = runtime.start()
    done = threading.Event()
    _stop_on_signals(done.set)
    print(f"PostDodo engine running ({'RQ' if runtime.settings.redis_url else 'threads'})", flush=True)
    done.wait()
    scheduler.stop()
    runtime.stop()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """An RQ worker on postdodo-publish and postdodo-webhooks."""
    from redis import Redis
    from rq import Worker
    from rq.serializers import JSONSerializer
    from rq.worker import SimpleWorker

    from ..engine.dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE
    from ..metrics import multiprocess
    from ..storage import keyring

    # a database that is behind or a wrong secret key stops the worker now, not each job
    settings = keyring.check(Settings.from_env())
    if not settings.redis_url:
        print("error: set POSTDODO_REDIS_URL for `postdodo worker`")
        return 2
    cls = SimpleWorker if args.simple else Worker
    if multiprocess() and not args.simple:
        # every forked job is a new pid, hence a new metrics file that outlives it: scrapes slow down for ever
        log.warning("PROMETHEUS_MULTIPROC_DIR is set: run `postdodo worker --simple` so jobs' metrics "
                    "stay in this process's files instead of one new file per job")
    worker = cls([PUBLISH_QUEUE, WEBHOOK_QUEUE], connection=Redis.from_url(settings.redis_url),
                 serializer=JSONSerializer)
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


def _stop_on_signals(stop: Any) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=stop, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
