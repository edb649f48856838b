"""The OpenAPI 3.1 document, built from the pydantic models and one table of operations."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __version__, platforms
from ..content import OPTIONS
from ..models import (
    Account,
    AccountCreate,
    ConnectCreate,
    ConnectPlatform,
    ConnectSelect,
    ConnectSession,
    Delivery,
    Event,
    Post,
    PostCreate,
    PostStatus,
    PostUpdate,
    Redelivery,
    UnpublishPlan,
    Validation,
    WebhookCreate,
    WebhookEndpoint,
    WebhookRotate,
    WebhookTest,
)
from .connect_openapi import public_paths
from .webhooks import DELIVERY_STATUSES

# (method, path, summary, request model, response model, success status, list response?)
OPERATIONS: list[tuple[str, str, str, type[BaseModel] | None, type[BaseModel] | None, int, bool]] = [
    ("get", "/v1/accounts", "List connected accounts", None, Account, 200, True),
    ("post", "/v1/accounts", "Connect an account", AccountCreate, Account, 201, False),
    ("delete", "/v1/accounts/{id}", "Disconnect an account", None, Account, 200, False),
    ("post", "/v1/posts", "Create and schedule a post", PostCreate, Post, 201, False),
    ("get", "/v1/posts", "List posts (cursor pagination)", None, Post, 200, True),
    ("post", "/v1/posts/validate", "Dry-run a post: every problem, nothing created", PostCreate, Validation, 200, False),
    ("get", "/v1/posts/{id}", "Retrieve a post and its per-platform status", None, Post, 200, False),
    ("patch", "/v1/posts/{id}", "Edit a post while no target has started publishing", PostUpdate, Post, 200, False),
    ("delete", "/v1/posts/{id}", "Cancel a post's waiting targets", None, Post, 200, False),
    ("post", "/v1/posts/{id}/unpublish", "Delete a published post from the platforms that allow it", None,
     UnpublishPlan, 202, False),
    ("post", "/v1/webhooks", "Register a webhook endpoint", WebhookCreate, WebhookEndpoint, 201, False),
    ("get", "/v1/webhooks", "List webhook endpoints", None, WebhookEndpoint, 200, True),
    ("get", "/v1/webhooks/{id}", "Retrieve a webhook endpoint", None, WebhookEndpoint, 200, False),
    ("delete", "/v1/webhooks/{id}", "Delete a webhook endpoint", None, WebhookEndpoint, 200, False),
    ("post", "/v1/webhooks/{id}/rotate", "Rotate the signing secret", WebhookRotate, WebhookEndpoint, 200, False),
    ("post", "/v1/webhooks/{id}/enable", "Re-enable a disabled endpoint", None, WebhookEndpoint, 200, False),
    ("post", "/v1/webhooks/{id}/test", "Send a webhook.test event", None, WebhookTest, 202, False),
    ("get", "/v1/webhooks/{id}/deliveries", "Recent deliveries and their attempts", None, Delivery, 200, True),
    ("get", "/v1/events", "Events in the order they happened (type, post_id, cursor)", None, Event, 200, True),
    ("get", "/v1/events/{id}", "Retrieve one event", None, Event, 200, False),
    ("post", "/v1/events/{id}/redeliver", "Deliver an event again (?endpoint_id= for one endpoint)", None,
     Redelivery, 202, False),
    ("post", "/v1/connect", "Start a connect session: the URL to send the user to", ConnectCreate, ConnectSession,
     201, False),
    ("get", "/v1/connect/platforms", "Platforms a session can connect, configured or not, and the redirect URI",
     None, ConnectPlatform, 200, True),
    ("get", "/v1/connect/{id}", "A connect session's status and the picker's options", None, ConnectSession, 200,
     False),
    ("post", "/v1/connect/{id}/select", "Create the accounts picked among a session's options", ConnectSelect,
     ConnectSession, 200, False),
]
#: request models read in validation mode (the rest describe answers)
INPUTS = (PostCreate, PostUpdate, AccountCreate, WebhookCreate, WebhookRotate, ConnectCreate, ConnectSelect,
          *OPTIONS.values())
QUERY = {
    ("get", "/v1/posts"): ("limit", "cursor", "status", "account_id"),
    ("get", "/v1/events"): ("limit", "cursor", "type", "post_id"),
    ("get", "/v1/webhooks/{id}/deliveries"): ("limit", "cursor", "status"),
    ("post", "/v1/events/{id}/redeliver"): ("endpoint_id",),
}
ERRORS = {"400": "Invalid request", "401": "Missing or invalid API key", "404": "Not found",
          "409": "Conflict", "429": "Rate limited"}
BODY_ERRORS = {"413": "Body too large", "415": "Body is not JSON"}
_NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"
# the exact values each query parameter takes (what the views accept, no more)
PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    # an empty value is the same as none (as for every filter)
    "cursor": {"type": "string", "pattern": r"^[A-Za-z0-9_.=-]*$"},
    "account_id": {"type": "string", "pattern": _NO_CONTROLS},
    "post_id": {"type": "string", "pattern": _NO_CONTROLS},
    "endpoint_id": {"type": "string", "pattern": _NO_CONTROLS},
    "type": {"type": "string", "pattern": _NO_CONTROLS},
}
#: the operations that honour Idempotency-Key (the other POSTs are safe to retry as they are)
IDEMPOTENT = {("post", "/v1/posts"), ("post", "/v1/accounts"), ("post", "/v1/webhooks")}
#: a path id: what `storage.ids.new_id` makes ("post_..."), never a path segment of its own ("validate")
ID = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[a-z]+_[A-Za-z0-9]+$"}
#: Idempotency-Key: 1-255 printable ASCII characters (HTTP drops spaces at either end)
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255,
                   "pattern": r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"}
_CHECK = {"type": "object", "required": ["status", "required"], "properties": {
    "status": {"type": "string", "description": "ok, or error | stale | missing | unknown"},
    "required": {"type": "boolean", "description": "whether a failure makes /healthz answer 503"},
    "age_seconds": {"type": "number"}, "error": {"type": "string"}}}
HEALTH = {"type": "object", "required": ["status", "checks"], "properties": {
    "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
    "checks": {"type": "object", "additionalProperties": _CHECK}}}


def _query_schema(method: str, path: str, name: str) -> dict[str, Any]:
    if name == "status":
        statuses = get_args(PostStatus) if path == "/v1/posts" else DELIVERY_STATUSES
        return {"type": "string", "enum": [*statuses, ""], "description": "empty: any status"}
    return PARAMETERS[name]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _platform_versions() -> dict[str, Any]:
    """`platforms`: one property per platform, each a Version whose `options` is that platform's own schema."""
    return {"type": "object", "additionalProperties": False, "properties": {
        name: {"allOf": [{"$ref": "#/components/schemas/Version"},
                         # null, as in the Version model, means "no options of its own"
                         {"type": "object", "properties": {"options": {"anyOf": [_ref(model), {"type": "null"}]}}}]}
        for name, model in sorted(OPTIONS.items())}}


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once)."""
    models = {m for op in OPERATIONS for m in (op[3], op[4]) if m is not None} | {Event} | set(OPTIONS.values())
    _, defs = models_json_schema(
        [(m, "validation" if m in INPUTS else "serialization")
         for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["AccountCreate"]["properties"]["platform"]["enum"] = list(platforms.NAMES)
    for name in ("PostCreate", "PostUpdate"):
        schemas[name]["properties"]["platforms"] = _platform_versions()
    schemas["ConnectCreate"]["properties"]["platform"]["enum"] = [
        n for n in platforms.NAMES if platforms.adapter_class(n).oauth or platforms.adapter_class(n).connect_form]
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "param": {"type": "string"},
            "request_id": {"type": ["string", "null"]},
            "details": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}
    paths: dict[str, Any] = {}
    for method, path, summary, request, response, status, listed in OPERATIONS:
        op: dict[str, Any] = {"summary": summary, "operationId": f"{method}_{path}".replace("/", "_").strip("_"),
                              "responses": {}}
        if "{id}" in path:
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": ID}]
        for name in QUERY.get((method, path), ()):
            op.setdefault("parameters", []).append(
                {"name": name, "in": "query", "required": False, "schema": _query_schema(method, path, name)})
        if (method, path) in IDEMPOTENT:
            op.setdefault("parameters", []).append(
                {"name": "Idempotency-Key", "in": "header", "required": False, "schema": IDEMPOTENCY_KEY})
        if request is not None:
            op["requestBody"] = {"required": request is not WebhookRotate,
                                 "content": {"application/json": {"schema": _ref(request)}}}
        body: dict[str, Any] = {"type": "object"}
        if response is not None:
            body = _ref(response)
            if listed:
                body = {"type": "object", "required": ["data", "has_more"], "properties": {
                    "data": {"type": "array", "items": _ref(response)}, "has_more": {"type": "boolean"},
                    "next_cursor": {"type": ["string", "null"]}}}
        op["responses"][str(status)] = {"description": "Success", "content": {"application/json": {"schema": body}}}
        for code, text in (ERRORS | BODY_ERRORS if request is not None else ERRORS).items():
            op["responses"][code] = {"description": text,
                                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        paths.setdefault(path, {})[method] = op
    paths["/healthz"] = {"get": {"summary": "Each dependency's health: database, Redis when configured, engine",
                                 "security": [], "responses": {
                                     "200": {"description": "Every check this process needs is ok",
                                             "content": {"application/json": {"schema": HEALTH}}},
                                     "503": {"description": "The database (or Redis, when configured) is failing",
                                             "content": {"application/json": {"schema": HEALTH}}}}}}
    paths["/v1/connect"]["post"]["responses"]["503"] = {
        "description": "The platform (a Mastodon instance registering our app) could not be reached",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths |= public_paths()
    paths["/metrics"] = {"get": {"summary": "Prometheus metrics (text exposition format)", "security": [],
                                 "responses": {"200": {"description": "Metrics",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
    paths["/v1/openapi.json"] = {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1 document"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "PostDodo API", "version": __version__,
                 "description": "Create and schedule posts across platforms; signed webhooks on delivery."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "paths": paths,
    }
