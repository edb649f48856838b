"""Fixtures of the library suite: a client on the live server, its accounts, a local webhook sink."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from postdodo_connect import Client
from tests.support.server import Server


@pytest.fixture(scope="module")
def client(live_server: Server) -> Iterator[Client]:
    """A client on the module's `postdodo serve` with its pd_test_ key."""
    with Client(live_server.key, base_url=live_server.url) as c:
        yield c


@pytest.fixture(scope="module")
def accounts(client: Client) -> dict[str, str]:
    """platform -> account id of the demo sandbox accounts."""
    return {a.platform: a.id for a in client.accounts.list()}


@dataclass
class Sink:
    """A local HTTP endpoint that records every request it gets."""

    url: str
    received: queue.Queue[tuple[dict[str, str], bytes]] = field(default_factory=queue.Queue)
    status: int = 200

    def next(self, timeout: float = 15.0) -> tuple[dict[str, str], bytes]:
        """The next delivery (waits on a queue with a deadline, no sleeping)."""
        return self.received.get(timeout=timeout)

    def next_event(self, event_type: str, timeout: float = 15.0) -> tuple[dict[str, str], dict[str, Any], bytes]:
        """The next delivery of ``event_type``, skipping others."""
        while True:
            headers, body = self.next(timeout)
            event = json.loads(body)
            if event.get("event") == event_type:
                return headers, event, body


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    """A webhook receiver on 127.0.0.1 (the live server allows private URLs)."""
    holder: list[Sink] = []

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        holder[0].received.put((dict(request.headers), request.get_data()))
        return Response("ok", status=holder[0].status)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    holder.append(Sink(f"http://127.0.0.1:{server.port}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
