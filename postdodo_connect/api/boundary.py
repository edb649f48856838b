"""The HTTP boundary: JSON bodies in, every error out as the one JSON error body (with the request's id)."""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from ..errors import APIError, InvalidRequestError, UnsupportedMediaTypeError, error_class_for
from .edge import request_id

log = logging.getLogger("postdodo.api")
M = TypeVar("M", bound=BaseModel)

# NUL or another C0 control in a path or query value: PostgreSQL refuses NUL in text (a 500), SQLite stores it,
# and no id, filter or cursor of ours has one. Raw bytes and their %-escapes, one regex over each string.
_CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_QUERY = re.compile(rb"[\x00-\x1f\x7f]|%[01][0-9a-fA-F]|%7[fF]")

_HTTP_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


def read_json(model: type[M], *, empty_ok: bool = False) -> M:
    """Parse the request body into `model`; 415 when not JSON, 400 with one detail per problem."""
    raw = request.get_data(cache=True)
    if not raw or raw.isspace():
        if empty_ok:
            return model()
        raise InvalidRequestError("request body is empty; send a JSON object")
    # the common exact header first: parsing Content-Type's parameters is only needed for the others
    if request.environ.get("CONTENT_TYPE") != "application/json" and request.mimetype != "application/json":
        raise UnsupportedMediaTypeError("send the body as JSON with Content-Type: application/json")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(exc) from None


def known_args(*names: str) -> None:
    """Refuse a query parameter the view does not take: a typo (`?stauts=`) must not widen a list silently."""
    if request.query_string:
        unknown = sorted(set(request.args) - set(names))
        if unknown:
            raise InvalidRequestError(f"unknown query parameter {unknown[0]!r}; known: {', '.join(names)}",
                                      param=unknown[0])


def limit_param(default: int) -> int:
    """The `?limit=` of a list request: an integer from 1 to 100, else a 400."""
    raw = request.args.get("limit", str(default))
    # ASCII digits only: int() would also take " 5", "+5", "1_0" and other scripts' digits
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= limit <= 100:
        raise InvalidRequestError("limit must be an integer from 1 to 100", param="limit")
    return limit


# pydantic's wording speaks of validation and inputs; a client wants to hear what to send instead
_PLAIN: dict[str, str] = {
    "extra_forbidden": "is not a field of this request (check its spelling against the API reference)",
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer", "int_parsing": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list", "dict_type": "must be an object", "model_type": "must be an object",
    "float_type": "must be a number",
    "literal_error": "must be one of {expected}", "enum": "must be one of {expected}",
    "too_short": "needs at least {min_length} item(s)", "too_long": "takes at most {max_length} item(s)",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "has a form this field does not take",
    "greater_than_equal": "must be at least {ge}", "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}", "less_than": "must be less than {lt}",
}


def plain_message(err: Any) -> str:
    """The message of one pydantic error in the API's words (custom rules already speak plainly)."""
    template = _PLAIN.get(err["type"])
    if template is None:
        return str(err["msg"]).removeprefix("Value error, ")
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split(" {", 1)[0]


def invalid(exc: ValidationError) -> InvalidRequestError:
    """A pydantic error as a 400 with one `details` entry per problem."""
    details = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "body"
        message = plain_message(err)
        details.append({"field": where, "rule": err["type"], "message": message})
    first = details[0]
    if first["rule"] in ("json_invalid", "model_type", "model_attributes_type"):
        return InvalidRequestError(f"body is not a valid JSON object: {first['message']}")
    return InvalidRequestError(f"{first['field']}: {first['message']}", param=first["field"], details=details)


def _refuse_control_characters() -> None:
    """The 400 for a path or query value holding a control character, naming which one."""
    where = "path"
    if not _CONTROL_IN_PATH.search(request.path):
        where = next((name for name, value in request.args.items(multi=True)
                      if _CONTROL_IN_PATH.search(name + value)), "query")
    message = "must not contain NUL or other control characters (%00-%1F, %7F)"
    raise InvalidRequestError(f"{where}: {message}", param=where,
                              details=[{"field": where, "rule": "control_characters", "message": message}])


def error_response(error: APIError) -> Response:
    """Render an APIError as JSON with its status and headers."""
    error.request_id = request_id()
    response = jsonify(error.to_body())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Refuse control characters in paths and queries; install the error handlers."""

    @app.before_request
    def _refuse_controls() -> None:
        # the WSGI strings, not request.path and query_string: nothing is decoded for the common, clean case
        environ = request.environ
        if _CONTROL_IN_PATH.search(environ.get("PATH_INFO", "")) or \
                _CONTROL_IN_QUERY.search(environ.get("QUERY_STRING", "").encode("latin-1")):
            _refuse_control_characters()

    @app.errorhandler(APIError)
    def _api_error(error: APIError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        cls = error_class_for(status)
        message = error.description or error.name
        if status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        elif status == 404:
            message = f"no route {request.method} {request.path}"
        api_error = cls(message, code=_HTTP_CODES.get(status), status=status)
        allowed = getattr(error, "valid_methods", None)
        if status == 405 and allowed:
            api_error.headers["Allow"] = ", ".join(allowed)
        return error_response(api_error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # the traceback goes to our log, never to the caller
        log.exception("unhandled error on %s %s (%s)", request.method, request.path, request_id())
        return error_response(APIError("internal error; quote the request id to support", status=500))

