"""A local Bluesky PDS stand-in over real HTTP, for tests whose adapter runs in another process (a worker, serve).

It answers the three XRPC calls the adapter makes when posting text, shaped like the real ones:
createSession, createRecord (under the caller's rkey) and getRecord (RecordNotFound when absent).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
HANDLE = "shop.bsky.social"


class BlueskyStub:
    """What the stub saw: logins, and the records created per rkey (two for one rkey is a double post)."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # seconds each createRecord takes, as a busy PDS would
        self.logins = 0
        self.created: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        nsid = path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            with self.lock:
                self.logins += 1
            return 200, {"did": DID, "handle": HANDLE, "email": "shop@example.com", "accessJwt": "access-jwt",
                         "refreshJwt": "refresh-jwt", "active": True}
        if nsid == "com.atproto.repo.createRecord":
            if self.latency:
                time.sleep(self.latency)
            rkey = body["rkey"]
            with self.lock:
                if self.created[rkey]:
                    return 500, {"error": "InternalServerError", "message": "Internal Server Error"}
                self.created[rkey] += 1
            return 200, {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}",
                         "commit": {"cid": "bafyreicommit", "rev": rkey}, "validationStatus": "valid"}
        if nsid == "com.atproto.repo.getRecord":
            rkey = query["rkey"][0]
            with self.lock:
                found = bool(self.created[rkey])
            if not found:
                return 400, {"error": "RecordNotFound", "message": f"Could not locate record: at://{DID}/app.bsky.feed.post/{rkey}"}
            return 200, {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}",
                         "value": {"$type": "app.bsky.feed.post", "text": "…"}}
        return 501, {"error": "MethodNotImplemented", "message": f"{method} {nsid}"}


@contextmanager
def bluesky_stub(latency: float = 0.0) -> Iterator[BlueskyStub]:
    """Serve a BlueskyStub on a free local port; `.url` is its service URL."""
    stub = BlueskyStub(latency)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else None
            status, answer = stub.handle(self.command, parts.path, parse_qs(parts.query), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="bluesky-stub", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
