"""`postdodo serve`'s HTTP worker (http_workers.ThreadWorker) answers a kept-alive connection's next request on
the same thread, without letting one busy connection hold the thread while others wait; and runs one request
at a time, unless the running one takes longer than the others' wait."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from postdodo_connect.http_workers import INLINE_REQUESTS
from tests.support.server import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _gunicorn(app: str, *, threads: int, worker: str = "postdodo_connect.http_workers.ThreadWorker",
              ) -> Iterator[tuple[str, int]]:
    """gunicorn with one worker of `threads` threads serving `app`; yields its address."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", str(threads), "-k", worker,
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app], cwd=ROOT)
    try:
        wait_until(lambda: _up(port), timeout=30, what="gunicorn to listen")
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def one_thread() -> Iterator[tuple[str, int]]:
    """gunicorn with one worker of one thread (the worker `postdodo serve` runs) serving tests/support/serial_app."""
    with _gunicorn("tests.support.serial_app:app", threads=1) as address:
        yield address


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=1).ok
    except requests.ConnectionError:
        return False


def _read_bodies(sock: socket.socket, count: int) -> list[bytes]:
    """The bodies of `count` 200 answers read off one connection, in order."""
    data, bodies = b"", list[bytes]()
    while len(bodies) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            if len(rest) >= length:
                assert head.startswith(b"HTTP/1.1 200"), head
                bodies.append(rest[:length])
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(bodies)} answers"
        data += chunk
    return bodies


def _read_answers(sock: socket.socket, count: int) -> list[int]:
    """The serial numbers of `count` answers of serial_app read off one connection, in order."""
    return [int(body) for body in _read_bodies(sock, count)]


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def test_pipelined_requests_are_all_answered_in_order(one_thread: tuple[str, int]) -> None:
    with socket.create_connection(one_thread, timeout=30) as sock:
        sock.sendall(b"".join(_get(f"/?n={n}") for n in range(30)))
        serials = _read_answers(sock, 30)
    assert serials == sorted(serials) and len(set(serials)) == 30


def test_a_busy_connection_gives_the_thread_up_to_a_waiting_client(one_thread: tuple[str, int]) -> None:
    """A client whose requests come back to back is answered at most INLINE_REQUESTS in a row while another waits."""
    busy_count = 4 * INLINE_REQUESTS
    with socket.create_connection(one_thread, timeout=30) as busy, socket.create_connection(one_thread, timeout=30) as other:
        busy.sendall(_get("/?wait=1"))  # holds the only thread long enough for the other client to queue
        other.sendall(_get("/"))
        busy.sendall(b"".join(_get("/") for _ in range(busy_count - 1)))  # read ahead: ready at once, one by one
        busy_serials = _read_answers(busy, busy_count)
        [other_serial] = _read_answers(other, 1)
    # without the bound the thread would answer all of the busy client's requests first
    assert other_serial < busy_serials[-1]
    assert other_serial <= busy_serials[0] + 2 * INLINE_REQUESTS


def _ask(address: tuple[str, int], path: str) -> str:
    """The body of one answer, on a connection of its own."""
    with socket.create_connection(address, timeout=60) as sock:
        sock.sendall(_get(path))
        return _read_bodies(sock, 1)[0].decode()


def test_requests_of_one_worker_run_one_at_a_time() -> None:
    """Four requests at once on four threads: each runs alone (their Python work would contend for the GIL)."""
    with _gunicorn("tests.support.overlap_app:app", threads=4, worker="tests.support.workers.PatientWorker") as address:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: _ask(address, "/?spin=0.05"), range(4)))
    assert answers and all(answer.split()[1] == "1" for answer in answers), answers


def test_a_request_waiting_on_the_network_does_not_hold_up_the_next(tmp_path: Path) -> None:
    """The running request sleeps (as on a slow token exchange): the next runs beside it after a short wait."""
    mark = tmp_path / "running"
    with _gunicorn("tests.support.overlap_app:app", threads=2) as address, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(_ask, address, f"/?sleep=5&mark={mark}")
        wait_until(mark.exists, timeout=30, what="the slow request to start")
        inside = _ask(address, "/").split()[0]
        slow.result()
    assert inside == "2"  # it ran while the slow one was still in the app, not after it
