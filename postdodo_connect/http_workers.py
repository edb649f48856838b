"""gunicorn workers whose own error answers (request line or headers too large, malformed HTTP) are JSON.

gunicorn refuses a request it cannot parse before any app sees it, with an HTML page. These workers keep its
decisions (which status, when) and only change the body into the API's error shape:

    gunicorn -k postdodo_connect.http_workers.ThreadWorker ...   (the API; `postdodo serve` uses it)
    gunicorn -k postdodo_connect.http_workers.SyncWorker ...     (the receiver)
"""

from __future__ import annotations

import json
import select
import socket
import threading
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker

__all__ = ["KEEPALIVE_REQUESTS", "SyncWorker", "ThreadWorker", "write_json_error"]

KEEPALIVE_REQUESTS = 100  # per kept-alive connection, then it is closed (nginx's default before 1.19.10)
# a connection's requests answered in a row on one thread while others wait; 10 (Puma's) added no throughput
# once requests take turns (RUN_WAIT) and tripled the p90 latency of the waiting clients
INLINE_REQUESTS = 3
INLINE_WAIT_MS = 1  # how long a thread waits for a kept-alive connection's next request before handing it back
# seconds a request waits for the one running in its worker before it runs beside it: longer than a few
# queued API requests take under load (10 ms was not), short enough not to be noticed behind a slow one
RUN_WAIT = 0.05

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


def _readable(fd: Any, timeout_ms: int) -> bool:
    """Whether a socket or descriptor has something to read within `timeout_ms` (POSIX only, as gunicorn)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout_ms))


def _use_json_errors() -> None:
    # gunicorn's Worker.handle_error calls `util.write_error` by name; this runs in the forked worker only
    util.write_error = write_json_error


class ThreadWorker(_ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gthread worker, JSON error bodies, at most `KEEPALIVE_REQUESTS` requests per connection, and a
    kept-alive connection's next request answered on the thread that answered the last one when it comes at once.

    A kept-alive connection stays with the worker that accepted it. Clients that connect at once (a proxy's
    pool, a load test) can all land on one worker, and then the others stay idle for as long as the
    connections live: measured with `postdodo serve`, one of two workers serving 16 connections at a third of
    the pair's rate. Closing a connection after a number of requests (as nginx's `keepalive_requests` does)
    makes the client connect again, and an idle worker, waiting in accept, is the first to take it.

    gthread hands every request from its poller thread to a pool thread and back. Under load each handoff
    waits for the GIL (strace: 25 futex calls a GET, 44 a create-post, against none in a sync worker), and a
    create-post cost 0.6-0.9 ms of CPU more than in a sync worker: `postdodo serve` answered 0.59x the
    creates of `gunicorn -w 2` (tests/bench/bench_serve.py). A thread that waits a millisecond for the
    connection's next request and answers it itself skips both handoffs. As Puma's `max_fast_inline`, it
    hands the connection back after `INLINE_REQUESTS` in a row while others wait.

    Threads that run Python at once in one process only take turns on the GIL, and every sqlite3 call hands
    it over: with 4 threads a create-post cost 25 % more CPU than with 1. So one request runs at a time in a
    worker, and the others wait for it, but for `RUN_WAIT` at most: then they run beside it, so a request
    waiting on the network (an OAuth token exchange) holds the rest up by that much, not for its whole length.
    """

    run_wait = RUN_WAIT

    def init_process(self, *args: Any, **kwargs: Any) -> None:
        """Switch to JSON error bodies, then run as gthread does."""
        _use_json_errors()
        self._running = threading.Lock()  # held by the request running in this worker
        super().init_process(*args, **kwargs)

    def handle(self, conn: Any) -> Any:
        """gthread's, then the connection's next requests on this thread while each comes at once."""
        keep = self._answer(conn)
        answered = 1
        while keep is True and self.alive and self._next_ready(conn, answered):
            keep = self._answer(conn)
            answered += 1
        return keep

    def _answer(self, conn: Any) -> Any:
        """One request of `conn`, once the request running in this worker is done or `run_wait` has passed."""
        took = self._running.acquire(timeout=self.run_wait)
        try:
            return super().handle(conn)
        finally:
            if took:
                self._running.release()

    def _next_ready(self, conn: Any, answered: int) -> bool:
        """Whether to answer the connection's next request on this thread (False: back to the poller)."""
        if answered >= INLINE_REQUESTS and self._others_wait():  # others wait: their turn
            return False
        if conn.parser.unreader.buf.getvalue():  # read ahead with the last request (pipelined)
            return True
        return _readable(conn.sock, INLINE_WAIT_MS)

    def _others_wait(self) -> bool:
        """Whether a request waits for a thread, or a connection for the poller (readable, not yet dispatched)."""
        if not self.tpool._work_queue.empty():  # (ThreadPoolExecutor's queue: no public size)
            return True
        fileno = getattr(self.poller, "fileno", None)  # epoll and kqueue: readable while any of their sockets is
        if fileno is None:
            return True  # a poller that cannot tell: assume others wait
        return _readable(fileno(), 0)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """gthread's, answering with `Connection: close` on a connection's last request."""
        if req.req_number >= KEEPALIVE_REQUESTS:
            req.must_close = True
        return super().handle_request(req, conn)


class SyncWorker(_SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, JSON error bodies."""

    def init_process(self, *args: Any, **kwargs: Any) -> None:
        """Switch to JSON error bodies, then run as the sync worker does."""
        _use_json_errors()
        super().init_process(*args, **kwargs)
