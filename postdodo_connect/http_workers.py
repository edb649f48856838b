"""gunicorn workers whose own error answers (request line or headers too large, malformed HTTP) are JSON.

gunicorn refuses a request it cannot parse before any app sees it, with an HTML page. These workers keep its
decisions (which status, when) and only change the body into the API's error shape:

    gunicorn -k postdodo_connect.http_workers.ThreadWorker ...   (the API; `postdodo serve` uses it)
    gunicorn -k postdodo_connect.http_workers.SyncWorker ...     (the receiver)
"""

from __future__ import annotations

import json
import socket
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker

__all__ = ["SyncWorker", "ThreadWorker", "write_json_error"]

# status -> (code, message). Fixed texts: gunicorn's own would echo parts of the request line or a header.
_ERRORS = {
    400: ("invalid_request", "the HTTP request is malformed"),
    403: ("forbidden", "the request is forbidden"),
    414: ("uri_too_long", "the request line is too long: send a shorter URL"),
    417: ("expectation_failed", "the Expect header cannot be met"),
    431: ("request_header_fields_too_large", "too many request headers, or one too large"),
    500: ("internal_error", "internal error"),
    501: ("not_implemented", "this transfer coding is not supported"),
}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error` with the JSON error body instead of an HTML page."""
    code, message = _ERRORS.get(status_int, ("invalid_request", reason))
    body = json.dumps({"error": {"code": code, "message": message, "request_id": None}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def _use_json_errors() -> None:
    # gunicorn's Worker.handle_error calls `util.write_error` by name; this runs in the forked worker only
    util.write_error = write_json_error


class ThreadWorker(_ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gthread worker, JSON error bodies."""

    def init_process(self, *args: Any, **kwargs: Any) -> None:
        """Switch to JSON error bodies, then run as gthread does."""
        _use_json_errors()
        super().init_process(*args, **kwargs)


class SyncWorker(_SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, JSON error bodies."""

    def init_process(self, *args: Any, **kwargs: Any) -> None:
        """Switch to JSON error bodies, then run as the sync worker does."""
        _use_json_errors()
        super().init_process(*args, **kwargs)
