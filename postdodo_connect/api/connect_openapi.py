"""The OpenAPI paths of the public connect routes: the OAuth callback and the hosted pages (no bearer key)."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "pattern": r"^[^\x00-\x1f\x7f]*$"}
_HTML = {"text/html": {"schema": {"type": "string"}}}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
#: a page's refusal, or the API's JSON error when the request never reached the page (a control character)
_REFUSED = {**_HTML, **_ERROR}
_LOCATION = {"Location": {"description": "where the browser goes next", "schema": {"type": "string"}}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": _TEXT} for name in names]


def public_paths() -> dict[str, Any]:
    """The callback, the credential form (GET and POST) and the done page."""
    limited = {"429": {"description": "Too many requests from this address", "content": _ERROR}}
    return {
        "/v1/connect/callback": {"get": {
            "summary": "The OAuth redirect URI: exchanges the code, then redirects to the session's redirect_url",
            "operationId": "get_v1_connect_callback", "security": [],
            "parameters": _query("state", "code", "error", "error_description"),
            "responses": {
                "302": {"description": "To the redirect_url with `session` and `account_id`, or `error` and `message`",
                        "headers": _LOCATION},
                "400": {"description": "Missing, tampered, foreign, expired or already used state", "content": _ERROR},
                **limited}}},
        "/v1/connect/form": {
            "get": {
                "summary": "The hosted credential form of a session (Bluesky, Telegram)",
                "operationId": "get_v1_connect_form", "security": [], "parameters": _query("state"),
                "responses": {"200": {"description": "The form", "content": _HTML},
                              "400": {"description": "The link cannot be used", "content": _REFUSED}, **limited}},
            "post": {
                "summary": "Submit the hosted credential form",
                "operationId": "post_v1_connect_form", "security": [],
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "properties": {"state": _TEXT, "csrf_token": _TEXT},
                    "additionalProperties": _TEXT}}}},
                "responses": {
                    "303": {"description": "Connected: to the session's redirect_url", "headers": _LOCATION},
                    "400": {"description": "The link cannot be used, or the credentials were refused (the form "
                                           "again, with the reason)", "content": _HTML},
                    "403": {"description": "The CSRF token does not match this browser", "content": _HTML},
                    "413": {"description": "Body too large", "content": _ERROR}, **limited}}},
        "/v1/connect/done": {"get": {
            "summary": "Where a session ends when the caller has no page of its own (the CLI)",
            "operationId": "get_v1_connect_done", "security": [],
            "parameters": _query("session", "account_id", "error", "message"),
            "responses": {"200": {"description": "What happened", "content": _HTML},
                          "400": {"description": "A control character in the query", "content": _ERROR}, **limited}}},
    }
