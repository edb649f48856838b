"""The ``postdodo-receiver`` command: serve, worker, requeue-failed, check."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from postdodo_connect.clihelp import Parser
from postdodo_connect.errors import ConfigurationError, QueueUnavailable
from postdodo_connect.extras import install_hint
from postdodo_connect.redact import redact_url
from receiver.config import ENV_PREFIX, ReceiverSettings, load_settings
from receiver.routes import Route, parse_routes

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["build_parser", "main"]

logger = logging.getLogger("receiver.cli")


def _load(require_secrets: bool = True) -> tuple[ReceiverSettings, dict[str, Route]]:
    """Settings and routes from the environment (raises ConfigurationError)."""
    settings = load_settings(require_secrets=require_secrets)
    return settings, parse_routes(settings.routes)


def _queue_names(routes: dict[str, Route]) -> list[str]:
    """The routed queue names, each once."""
    return sorted({route.queue for route in routes.values()})


def _serve_gunicorn(app: Flask, host: str, port: int, workers: int) -> int:
    """Run the app under gunicorn through its embedding API."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        """Gunicorn serving an already-built app (config errors surfaced before forking)."""

        def __init__(self, application: Flask, options: dict[str, Any]) -> None:
            self.application = application
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return self.application

    from postdodo_connect.metrics import child_exit, prepare_multiprocess_dir

    prepare_multiprocess_dir()  # before the fork: every worker's metrics summed on /metrics
    options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "postdodo_connect.http_workers.SyncWorker", "timeout": 30,
               "child_exit": child_exit}
    _Server(app, options).run()
    return 0


def _need_redis(settings: ReceiverSettings, command: str) -> None:
    """Redis-only commands stop with one line when Redis is down (the rule in docs/receiver.md)."""
    from postdodo_connect.redisprobe import unreachable

    if reason := unreachable(settings.redis_url):
        raise QueueUnavailable(f"{reason}: `postdodo-receiver {command}` needs it")


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the receiver (gunicorn when installed, else Flask's development server)."""
    from postdodo_connect.redisprobe import unreachable
    from receiver.app import create_app

    app = create_app()
    settings = load_settings(require_secrets=False)
    if settings.queue != "inline" and (reason := unreachable(settings.redis_url)):
        print(f"warning: {reason}; serving degraded until it is back: deliveries get 503 and PostDodo retries "
              "them, /healthz reports redis", file=sys.stderr, flush=True)
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        logger.warning("gunicorn is not installed: using Flask's development server")
        app.run(host=args.host, port=args.port)
        return 0
    return _serve_gunicorn(app, args.host, args.port, args.workers)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an RQ worker on the routed queues with the JSON serializer."""
    from rq import Queue, SimpleWorker, Worker
    from rq.serializers import JSONSerializer

    from receiver.queue import worker_redis

    settings, routes = _load(require_secrets=False)
    _need_redis(settings, "worker")
    connection = worker_redis(settings.redis_url)
    names = args.queue or _queue_names(routes)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer) for name in names]
    worker_class = SimpleWorker if args.simple else Worker
    worker = worker_class(queues, connection=connection, serializer=JSONSerializer)
    worker.work(burst=args.burst, with_scheduler=args.with_scheduler, logging_level=args.log_level)
    return 0


def cmd_requeue_failed(args: argparse.Namespace) -> int:
    """Requeue every failed job of the routed queues."""
    from receiver.queue import requeue_failed, worker_redis

    settings, routes = _load(require_secrets=False)
    _need_redis(settings, "requeue-failed")
    count = requeue_failed(worker_redis(settings.redis_url), _queue_names(routes))
    print(f"requeued {count} failed job(s) on {', '.join(_queue_names(routes))}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate secrets and routes, and ping Redis; exit 1 with a reason if anything is wrong."""
    from redis.exceptions import RedisError

    from receiver.queue import fast_fail_redis

    settings, routes = _load()
    print(f"secrets: {len(settings.secrets)} valid")
    for route in routes.values():
        print(f"route: {route.event_type} -> {route.target} @ {route.queue}")
    if settings.queue == "inline":
        print("queue: inline (development only: nothing is durable)")
        return 0
    try:
        fast_fail_redis(settings.redis_url, connect_timeout=2, socket_timeout=2).ping()
    except RedisError as exc:
        print(f"redis: unreachable at {redact_url(settings.redis_url)}: {exc}", file=sys.stderr)
        return 1
    print(f"redis: ok at {redact_url(settings.redis_url)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``postdodo-receiver``."""
    parser = Parser(
        prog="postdodo-receiver",
        description=f"Verify PostDodo webhook deliveries and run them as RQ jobs (settings: {ENV_PREFIX}*).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the webhook endpoint")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8081, help="port to listen on")
    serve.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run an RQ worker on the routed queues")
    worker.add_argument(
        "--with-scheduler",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the scheduler, which interval retries need (default: on)",
    )
    worker.add_argument("--simple", action="store_true", help="SimpleWorker: no fork per job, for tiny jobs")
    worker.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    worker.add_argument("--queue", action="append", help="listen on this queue only (repeatable)")
    worker.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    worker.set_defaults(func=cmd_worker)
    requeue = sub.add_parser("requeue-failed", help="requeue every failed job on the routed queues")
    requeue.set_defaults(func=cmd_requeue_failed)
    check = sub.add_parser("check", help="validate the configuration and reach Redis")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 1
    except QueueUnavailable as exc:  # an expected outage: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:  # flask, rq or redis missing on the bare install: one line, no traceback
        hint = install_hint(exc, "`postdodo-receiver`", "receiver")
        if hint is None:
            raise
        print(hint, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
