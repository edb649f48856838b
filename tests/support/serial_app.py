"""A WSGI app that numbers the requests it answers (`?wait=SECONDS` first): the order a server served them in."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_serial = itertools.count(1)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Wait as asked, then answer `<serial>` (the count of requests answered before this one, plus one)."""
    time.sleep(float(parse_qs(environ.get("QUERY_STRING", "")).get("wait", ["0"])[0]))
    body = str(next(_serial)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
