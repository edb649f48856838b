"""A WSGI app that tells how many of its requests ran at once: answers `<inside> <most>`.

`inside`: requests in the app when this one came in, itself included; `most`: the most ever in it at once.
Query: `spin=SECONDS` of pure-Python work, `sleep=SECONDS` of waiting (as on the network), `mark=PATH` a
file created on entry (so a test knows the request is running).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

_lock = threading.Lock()
_inside = 0
_most = 0


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Count this request in, work or wait as asked, answer the counts."""
    global _inside, _most
    args = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    with _lock:
        _inside += 1
        inside = _inside
        _most = max(_most, _inside)
    try:
        if "mark" in args:
            Path(args["mark"]).touch()
        end = time.perf_counter() + float(args.get("spin", 0))
        while time.perf_counter() < end:  # holds the GIL but for the interpreter's switch interval
            pass
        time.sleep(float(args.get("sleep", 0)))
    finally:
        with _lock:
            _inside -= 1
    body = f"{inside} {_most}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
