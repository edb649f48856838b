"""`postdodo demo`: the 60-second tour. The service and a receiver run in this process; a post goes to the
demo sandbox accounts; each confirmed target and each post.published delivery is printed as it happens."""

from __future__ import annotations

import argparse
import logging
import os
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..client import Client
from ..config import Settings
from ..redact import redact_url

DEMO_MEDIA = "https://picsum.photos/id/237/1080/1080"  # the sandbox never downloads it
RECEIVER_PATH = "/webhooks/postdodo"
_EVENTS: queue.Queue[dict[str, Any]] = queue.Queue()


def register(commands: Any) -> None:
    """Add `demo`."""
    parser = commands.add_parser("demo", help="the 60-second tour: service + receiver in-process, one post, events")
    parser.add_argument("--port", type=int, default=0, help="API port (default: any free port)")
    parser.add_argument("--dir", type=Path, help="where the demo database goes (default: a temporary directory)")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    parser.set_defaults(func=cmd_demo)


def on_published(event: dict[str, Any]) -> None:
    """The receiver's job for post.published in the demo (runs inline or on the in-process RQ worker)."""
    _EVENTS.put(event)


def say(text: str) -> None:
    """One line of the tour."""
    print(text, flush=True)


class _Later:
    """A WSGI app to be filled in later: the receiver needs its secret, which exists only after it listens."""

    app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            start_response("503 Service Unavailable", [("Retry-After", "1"), ("Content-Type", "text/plain")])
            return [b"starting"]
        return self.app(environ, start_response)


def _serve(app: Any, port: int) -> Any:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"demo-http-{server.port}", daemon=True).start()
    return server


def _redis_url() -> str | None:
    """A reachable Redis for the receiver, or None (then the receiver runs its jobs inline)."""
    url = os.environ.get("POSTDODO_RECEIVER_REDIS_URL") or os.environ.get("POSTDODO_REDIS_URL") \
        or "redis://127.0.0.1:6379/0"
    try:
        from redis import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5)
        try:
            return url if client.ping() else None
        finally:
            client.close()
    except (ImportError, RedisError, ValueError):
        return None


def purge(connection: Any, queue_name: str) -> None:
    """Delete a queue with every job it ever held (queued, running, finished, failed, deferred, scheduled)."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import (
        CanceledJobRegistry,
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )
    from rq.results import Result
    from rq.serializers import JSONSerializer

    rq_queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    job_ids = set(rq_queue.get_job_ids())
    for registry in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry, DeferredJobRegistry,
                     ScheduledJobRegistry, CanceledJobRegistry):
        job_ids.update(registry(queue_name, connection=connection, serializer=JSONSerializer).get_job_ids())
    for job_id in job_ids:
        connection.delete(Job.key_for(job_id), Job.dependents_key_for(job_id), Result.get_key(job_id))  # type: ignore[no-untyped-call]
    connection.srem(rq_queue.redis_queues_keys, rq_queue.key)
    # the registries' own keys (rq:finished:<queue>, ...): the queue name is random, so this matches only ours
    for key in connection.scan_iter(match=f"rq:*:{queue_name}*"):
        connection.delete(key)
    rq_queue.delete(delete_jobs=False)


def _start_worker(url: str, queue_name: str, stop: threading.Event) -> Callable[[], None]:
    """An RQ SimpleWorker on a thread (no signals, timer-based job timeouts); returns a cleanup function."""
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer
    from rq.timeouts import TimerDeathPenalty
    from rq.worker import SimpleWorker

    class ThreadWorker(SimpleWorker):
        death_penalty_class = TimerDeathPenalty  # SIGALRM works only on the main thread

        def _install_signal_handlers(self) -> None:
            pass  # signals belong to the main thread

    connection = Redis.from_url(url)
    rq_queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    worker = ThreadWorker([rq_queue], connection=connection, serializer=JSONSerializer)

    def loop() -> None:
        while not stop.is_set():
            worker.work(burst=True, logging_level="WARNING")
            stop.wait(0.05)

    thread = threading.Thread(target=loop, name="demo-rq-worker", daemon=True)
    thread.start()

    def cleanup() -> None:
        stop.set()
        thread.join(timeout=5)
        try:  # a demo leaves nothing behind in the user's Redis, finished or not
            purge(connection, queue_name)
        except Exception as exc:  # noqa: BLE001 - best effort: the demo's own result matters more
            print(f"warning: could not remove the demo queue {queue_name} from Redis ({type(exc).__name__})",
                  file=sys.stderr)
        connection.close()

    return cleanup


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the tour; exit 0 when every target is confirmed and every post.published event arrived."""
    started = time.monotonic()
    if args.dir is not None and (args.dir / "postdodo-demo.db").exists():
        print(f"error: {args.dir / 'postdodo-demo.db'} exists; run the demo on an empty directory", file=sys.stderr)
        return 1
    # imported here: only the demo runs the service and the receiver in this process ([server] brings both's needs)
    from receiver import create_app as create_receiver

    from ..api import Service, create_app
    from ..engine import Runtime
    from ..storage.migrate import open_database
    from .service import create_demo

    temporary = args.dir is None
    workdir = Path(tempfile.mkdtemp(prefix="postdodo-demo-")) if temporary else args.dir
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "postdodo-demo.db"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("postdodo").setLevel(logging.WARNING)
    logging.getLogger("receiver").setLevel(logging.ERROR)
    os.environ["POSTDODO_WEBHOOK_ALLOW_PRIVATE"] = "1"  # the receiver listens on 127.0.0.1
    settings = Settings.from_env(database_url=f"sqlite:///{database}", redis_url=None, webhook_allow_private=True,
                                 rate_limit="10000/minute")
    runtime = Runtime(settings, open_database(settings.database_url, migrate_sqlite=True))
    key = create_demo(runtime.db)
    assert key is not None  # a fresh database always gets the demo workspace
    runtime.start()
    service = Service(settings=runtime.settings, db=runtime.db, vault=runtime.vault, clock=runtime.clock,
                      kick=runtime.kick)
    api = _serve(create_app(service=service), args.port)
    holder = _Later()
    receiver_server = _serve(holder, 0)
    stop = threading.Event()
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    try:
        api_url = f"http://127.0.0.1:{api.port}"
        say(f"PostDodo API on {api_url} (sandbox workspace, database {database})")
        client = Client(key, base_url=api_url)
        hook_url = f"http://127.0.0.1:{receiver_server.port}{RECEIVER_PATH}"
        endpoint = client.webhooks.create(hook_url, events=["post.published"], description="postdodo demo receiver")
        config: dict[str, Any] = {"secrets": (endpoint.secret,), "path": RECEIVER_PATH, "queue": "inline"}
        redis_url = _redis_url()
        if redis_url:
            queue_name = f"postdodo-demo-{secrets.token_hex(4)}"
            config |= {"queue": "redis", "redis_url": redis_url,
                       "routes": f"post.published=postdodo_connect.cli.demo:on_published@{queue_name}"}
            cleanup = _start_worker(redis_url, queue_name, stop)
            mode = f"Redis {redact_url(redis_url)} + an in-process RQ worker on {queue_name}"
        else:
            config["routes"] = "post.published=postdodo_connect.cli.demo:on_published"
            mode = "inline jobs (no Redis reachable)"
        holder.app = create_receiver(config)
        say(f"receiver on {hook_url} ({mode}); registered as webhook {endpoint.id}")
        accounts = client.accounts.list()
        post = client.posts.create("Hello from the PostDodo demo!", [a.id for a in accounts], media=[DEMO_MEDIA])
        say(f"created {post.id} for {len(accounts)} sandbox accounts: "
            f"{', '.join(f'{a.platform} @{a.handle}' for a in accounts)}")
        ok = _follow(client, post.id, started + args.timeout)
    finally:
        # the receiver and the engine first: a delivery arriving during cleanup would leave a job behind
        receiver_server.shutdown()
        runtime.stop()
        api.shutdown()
        cleanup()
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    if ok:
        say("next: `postdodo serve` for a lasting local API, then docs/client.md (Python) and docs/cli.md (shell)")
    return 0 if ok else 1


def _follow(client: Client, post_id: str, deadline: float) -> bool:
    """Print targets as they are confirmed and events as the receiver gets them, until all are in."""
    shown: set[str] = set()
    events: list[dict[str, Any]] = []
    confirmed = failed = 0
    final = False
    while time.monotonic() < deadline:
        post = client.posts.get(post_id)
        for target in post.targets:
            if target.account_id in shown or target.status not in ("confirmed", "failed"):
                continue
            shown.add(target.account_id)
            if target.status == "confirmed":
                confirmed += 1
                say(f"  confirmed  {target.platform:<10} {target.permalink}")
            else:
                failed += 1
                reason = f"{target.error.code}: {target.error.message}" if target.error else "unknown"
                say(f"  failed     {target.platform:<10} {reason}")
        final = len(shown) == len(post.targets)
        if final and len(events) >= confirmed:
            break
        try:  # waits on the receiver's deliveries, bounded, instead of sleeping
            event = _EVENTS.get(timeout=0.2)
        except queue.Empty:
            continue
        events.append(event)
        data = event.get("data", {})
        say(f"  event      {event.get('event')} {event.get('id')} for {data.get('platform')} "
            f"arrived at the receiver ({data.get('permalink')})")
    say(f"done: {confirmed}/{len(shown) or '?'} targets confirmed, {failed} failed, "
        f"{len(events)} post.published events received" + ("" if final else " (timed out)"))
    return final and failed == 0 and len(events) >= confirmed > 0


__all__ = ["DEMO_MEDIA", "cmd_demo", "on_published", "purge", "register"]
