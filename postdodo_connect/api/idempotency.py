"""The Idempotency-Key header: one execution per (workspace, key), replayed for 24 hours."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request

from ..errors import APIError, ConflictError, InvalidRequestError
from ..storage import idempotency
from .auth import workspace
from .boundary import error_response
from .service import service

WAIT_FOR_FIRST = 10.0  # seconds a concurrent duplicate waits for the first request's answer


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    raw = request.get_data(cache=True)
    try:  # the same JSON with other spacing or key order is the same request
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to normalise: the bytes as sent
        pass
    digest.update(raw)
    return digest.hexdigest()


def _replay(row: dict[str, Any]) -> Response:
    body = service().vault.open(row["response"])
    response = Response(body, status=row["status_code"], mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def once(scope: str, key: str, fingerprint: str, run: Callable[[], Response]) -> Response:
    """`run` once per (scope, key): a repeat with the same fingerprint replays the first answer, another is a 409.

    The API's Idempotency-Key header and the dashboard composer's per-form key both go through here.
    """
    svc = service()
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        row = idempotency.reserve(svc.db, scope, key, fingerprint, svc.clock(), svc.settings.idempotency_ttl,
                                  svc.settings.idempotency_lease)
        if row is None:
            break
        if row["fingerprint"] != fingerprint:
            raise ConflictError("this Idempotency-Key was used with a different request",
                                code="idempotency_conflict", param="Idempotency-Key")
        if row["status_code"] is not None:
            return _replay(row)
        if time.monotonic() > deadline:
            raise ConflictError("a request with this Idempotency-Key is still in progress",
                                code="idempotency_conflict", param="Idempotency-Key")
        time.sleep(0.05)  # a concurrent duplicate: wait for the first answer instead of running twice
    try:
        response = run()
    except APIError as exc:
        if exc.status >= 500:
            idempotency.release(svc.db, scope, key)
            raise
        # a 4xx is an answer too: replay it, so a retried bad request stays bad
        response = error_response(exc)
    except Exception:
        idempotency.release(svc.db, scope, key)
        raise
    if response.status_code >= 500:
        idempotency.release(svc.db, scope, key)
    else:
        # sealed: a stored answer may hold a secret shown once (a webhook's whsec_)
        idempotency.complete(svc.db, scope, key, response.status_code,
                             svc.vault.seal(response.get_data(as_text=True)))
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a POST view honour Idempotency-Key."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
            raise InvalidRequestError("Idempotency-Key must be 1-255 printable ASCII characters",
                                      param="Idempotency-Key")
        return once(workspace()["id"], key, _fingerprint(), lambda: make_response(view(*args, **kwargs)))

    return wrapper
