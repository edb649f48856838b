"""The Flask application: verify a delivery on its raw bytes, then enqueue it for an RQ worker."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from postdodo_connect import signing
from postdodo_connect.errors import SignatureError
from receiver import metrics
from receiver.config import ReceiverSettings, load_settings
from receiver.queue import (
    EventQueue,
    InlineQueue,
    JobFailed,
    Outcome,
    QueueUnavailable,
    RedisEventQueue,
    fast_fail_redis,
)
from receiver.routes import Route, parse_routes

__all__ = ["EXTENSION_KEY", "ReceiverState", "create_app"]

logger = logging.getLogger("receiver")
EXTENSION_KEY = "postdodo_receiver"

# SignatureError.reason -> (HTTP status, error code). No credentials or wrong ones: 401;
# credentials we cannot even parse, or a genuine delivery outside the time window: 400.
_REJECTIONS: dict[str, tuple[int, str]] = {
    "missing_header": (401, "missing_signature"),
    "bad_signature": (401, "invalid_signature"),
    "malformed_header": (400, "malformed_header"),
    "stale": (400, "stale_timestamp"),
    "future": (400, "future_timestamp"),
}
_STATUS_OF: dict[Outcome, int] = {
    Outcome.ENQUEUED: 202,
    Outcome.REQUEUED: 202,
    Outcome.DUPLICATE: 200,
    Outcome.PROCESSED: 200,
}


@dataclass(frozen=True)
class ReceiverState:
    """What the views need, stored once in ``app.extensions``."""

    settings: ReceiverSettings
    routes: dict[str, Route]
    queue: EventQueue


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The JSON error body ``{"error": {"code", "message"}}``."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _reject_constant(name: str) -> Any:
    """Refuse NaN/Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _parse_event(body: bytes) -> dict[str, Any] | None:
    """The event envelope, or None unless the body is a JSON object with a string ``event``."""
    try:
        event = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str) or not event["event"]:
        return None
    return event


def _state() -> ReceiverState:
    """This app's ReceiverState."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def _unavailable(state: ReceiverState, message: str) -> Response:
    """503 with Retry-After: the sender keeps the event and tries again."""
    retry_after = {"Retry-After": str(state.settings.retry_after)}
    return error_response(503, "queue_unavailable", message, retry_after)


def receive_delivery() -> Response:
    """POST a delivery: size cap, verify raw bytes, parse, route, enqueue; see docs/receiver.md for codes."""
    state = _state()
    settings = state.settings
    too_big = f"body is larger than {settings.max_body} bytes"
    if request.content_length is not None and request.content_length > settings.max_body:
        return error_response(413, "payload_too_large", too_big)
    body = request.get_data(cache=False)  # raw bytes, capped at max_body + 1 even when chunked
    if len(body) > settings.max_body:
        return error_response(413, "payload_too_large", too_big)
    try:
        headers = cast(Mapping[str, str], request.headers)  # werkzeug Headers: case-insensitive, has items()
        verified = signing.verify(settings.secrets, headers, body, tolerance=settings.tolerance)
    except SignatureError as exc:
        status, code = _REJECTIONS.get(getattr(exc, "reason", ""), (401, "invalid_signature"))
        logger.info("delivery rejected: %s (%s)", code, exc)
        return error_response(status, code, str(exc))
    # Parsing only happens after the signature proved the bytes came from the sender.
    event = _parse_event(body)
    if event is None:
        return error_response(400, "invalid_event", 'body must be a JSON object with a string "event"')
    metrics.verified(event["event"])
    route = state.routes.get(event["event"])
    if route is None:
        return Response(status=204)  # not routed: acknowledge so the sender stops retrying
    started = time.perf_counter()
    try:
        outcome, job_id = state.queue.enqueue(route, event, verified.event_id)
    except QueueUnavailable as exc:
        logger.warning("delivery %s not enqueued: %s", verified.event_id, exc)
        return _unavailable(state, "the job queue is unavailable; deliver again later")
    except JobFailed as exc:
        logger.exception("inline job for delivery %s failed", verified.event_id)
        return error_response(500, "job_failed", str(exc))
    metrics.observe_enqueue(time.perf_counter() - started)
    response = jsonify({"status": outcome.value, "event_id": verified.event_id, "job_id": job_id})
    response.status_code = _STATUS_OF[outcome]
    return response


def healthz() -> Response:
    """200 when the queue backend answers, else 503 with Retry-After; the queue's own check in ``checks``."""
    state = _state()
    name = "redis" if state.settings.queue != "inline" else "queue"
    if state.queue.ping():
        return jsonify({"status": "ok", "checks": {name: {"status": "ok", "required": True}}})
    response = jsonify({"status": "down", "checks": {name: {"status": "error", "required": True,
                                                             "error": "Redis is unreachable"}},
                        "error": {"code": "queue_unavailable", "message": "Redis is unreachable"}})
    response.status_code = 503
    response.headers["Retry-After"] = str(state.settings.retry_after)
    return response


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def _handle_http_error(exc: HTTPException) -> Response:
    """404/405/413 and friends as JSON, never HTML."""
    code = _HTTP_CODES.get(exc.code or 0) or (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name or "error")
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _handle_bug(exc: Exception) -> Response:
    """A real bug: log it, answer a JSON 500 without internals."""
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    logger.exception("unhandled error in the receiver")
    return error_response(500, "internal_error", "internal error")


def _make_queue(settings: ReceiverSettings, routes: dict[str, Route]) -> EventQueue:
    """The queue backend for the configured mode."""
    if settings.queue == "inline":
        logger.warning(
            "receiver in inline mode: jobs run inside the request, nothing is durable and deduplication "
            "is per process; use it for development only"
        )
        return InlineQueue()
    client = fast_fail_redis(
        settings.redis_url,
        connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_socket_timeout,
    )
    return RedisEventQueue(client, settings, (route.queue for route in routes.values()))


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory; ``test_config`` keys are the ReceiverSettings field names."""
    settings = load_settings(test_config)
    routes = parse_routes(settings.routes)
    app = Flask("receiver")
    # One byte over the cap: werkzeug silently truncates a length-less (chunked) body at this limit,
    # so reading max_body + 1 bytes is how the view tells "too big" from "exactly at the cap".
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body + 1
    app.extensions[EXTENSION_KEY] = ReceiverState(settings, routes, _make_queue(settings, routes))
    blueprint = Blueprint("receiver", __name__)
    blueprint.add_url_rule(settings.path, "receive", receive_delivery, methods=["POST"])
    blueprint.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.register_blueprint(blueprint)
    metrics.init_app(app, "receiver.receive")
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_bug)
    return app
