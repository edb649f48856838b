"""Helpers of the receiver tests: a private redis-server, signed deliveries, a burst RQ worker."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer
from werkzeug.test import TestResponse

from postdodo_connect import signing

SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
OTHER_SECRET = "whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGiow=="
PATH = "/webhooks/postdodo"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], deadline_s: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + deadline_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # not ready yet
            last = exc
        time.sleep(0.01)
    raise AssertionError(f"{what} not reached within {deadline_s} s (last error: {last!r})")


class RedisServer:
    """A redis-server child process on a fixed port that tests can stop and start again."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of this server, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        """A plain client for assertions."""
        return Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen([*args, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL)
        client = self.client()
        wait_for(client.ping, 10, f"redis-server on port {self.port}")
        client.close()

    def stop(self) -> None:
        """Stop the server and wait until the process is gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def make_event(event_id: str = "evt_1", event_type: str = "post.published", **data: Any) -> dict[str, Any]:
    """An event envelope as the sender emits it."""
    payload = {"post_id": "post_1", "account_id": "acct_1", "platform": "bluesky", "status": "confirmed",
               "permalink": "https://bsky.app/profile/demo/post/1"}
    payload.update(data)
    return {"id": event_id, "event": event_type, "created_at": "2026-11-28T10:00:00Z", "data": payload}


def signed(body: bytes, event_id: str = "evt_1", *, secrets: list[str] | None = None,
           timestamp: int | None = None) -> dict[str, str]:
    """Delivery headers signing ``body`` now (or at ``timestamp``)."""
    when = int(time.time()) if timestamp is None else timestamp
    return signing.delivery_headers(secrets or [SECRET], event_id, when, body)


def deliver(client: FlaskClient, event: dict[str, Any] | None = None, *, path: str = PATH,
            **sign_options: Any) -> TestResponse:
    """POST one signed event the way the sender does."""
    event = event or make_event()
    body = json.dumps(event).encode()
    headers = signed(body, event["id"], **sign_options)
    return client.post(path, data=body, headers=headers, content_type="application/json")


def run_worker(connection: Redis, *queue_names: str) -> None:
    """Drain the queues with an in-process burst SimpleWorker (returns when they are empty)."""
    names = queue_names or ("postdodo-events",)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer) for name in names]
    SimpleWorker(queues, connection=connection, serializer=JSONSerializer).work(burst=True)


def job_keys(connection: Redis) -> list[bytes]:
    """Every RQ job hash in Redis."""
    return list(connection.scan_iter("rq:job:*"))


def queue_length(connection: Redis, name: str = "postdodo-events") -> int:
    """Number of job ids waiting in an RQ queue."""
    return int(connection.llen(f"rq:queue:{name}"))


def recorded(connection: Redis, key: str = "test:record") -> list[dict[str, Any]]:
    """Events the test jobs wrote to Redis."""
    return [json.loads(item) for item in connection.lrange(key, 0, -1)]
