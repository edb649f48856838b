"""The catalogue as n8n node property descriptions: resource/operation options, fields, trigger events.

The output is data for ``INodeTypeDescription.properties`` (declarative style: operations carry
``routing.request``, fields carry ``routing.send``) plus the ``loadOptions`` method for account pickers.
"""

from __future__ import annotations

import re
from typing import Any

from ..client.resources import VIDEO_SUFFIXES
from .catalogue import ACTIONS, RECENT, TRIGGERS
from .model import Action, Field, Trigger

__all__ = ["LOAD_OPTIONS", "operation_of", "parameter_name", "render"]

#: dynamic field sources -> the loadOptions method that fills the dropdown
LOAD_OPTIONS = {"accounts": "getAccounts"}
_TYPES = {"string": "string", "text": "string", "datetime": "dateTime", "boolean": "boolean", "integer": "number",
          "dict": "fixedCollection"}
_EMPTY = {"string": "", "dateTime": "", "boolean": False, "number": 0, "options": "", "multiOptions": []}
_VIDEO = "/\\.(" + "|".join(s.lstrip(".") for s in VIDEO_SUFFIXES) + ")$/i"


def parameter_name(key: str) -> str:
    """n8n parameters are camelCase: account_ids -> accountIds."""
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def operation_of(action: Action) -> tuple[str, str]:
    """(resource, operation) of an action in n8n's resource/operation layout."""
    verb = action.key.split("_", 1)[0]
    return action.noun.lower(), {"list": "getAll"}.get(verb, verb)


def _url(path: str) -> str:
    return "=" + re.sub(r"\{(\w+)\}", lambda m: "{{$parameter." + parameter_name(m.group(1)) + "}}", path)


def _pairs(field: Field) -> list[dict[str, Any]]:
    """A dict field as n8n's fixedCollection: rows of a key (a choice when the catalogue lists them) and a text."""
    choices = sorted(({"name": label, "value": value} for value, label in field.choices or ()), key=lambda o: o["name"])
    key: dict[str, Any] = {"displayName": "Platform", "name": "platform", "type": "options" if choices else "string",
                           "default": choices[0]["value"] if choices else ""}
    if choices:
        key["options"] = choices
    return [{"displayName": "Caption", "name": "captions", "values": [
        key, {"displayName": "Caption", "name": "caption", "type": "string", "typeOptions": {"rows": 4}, "default": ""}]}]


def _property(field: Field, show: dict[str, list[str]] | None) -> dict[str, Any]:
    kind = _TYPES[field.type]
    prop: dict[str, Any] = {"displayName": field.label, "name": parameter_name(field.key)}
    type_options: dict[str, Any] = {}
    if field.dynamic:
        kind = "multiOptions" if field.multiple else "options"
        type_options["loadOptionsMethod"] = LOAD_OPTIONS[field.dynamic]
    elif field.type == "dict":
        type_options["multipleValues"] = True
        prop["options"] = _pairs(field)
    elif field.choices:
        kind = "options"
        prop["options"] = sorted(({"name": label, "value": value} for value, label in field.choices),
                                 key=lambda o: o["name"])
    elif field.multiple:
        type_options["multipleValues"] = True
    if field.type == "text":
        type_options["rows"] = 4
    prop["type"] = kind
    if type_options:
        prop["typeOptions"] = type_options
    empty = [] if field.multiple else {} if kind == "fixedCollection" else _EMPTY.get(kind, "")
    prop["default"] = field.default if field.default is not None else empty
    prop["required"] = field.required
    prop["description"] = field.help
    if field.example and kind in ("string",):
        prop["placeholder"] = field.example
    elif kind == "fixedCollection":
        prop["placeholder"] = "Add Caption"
    if show:
        prop["displayOptions"] = {"show": show}
    return prop


def _send(action: Action, field: Field) -> dict[str, Any]:
    """Where a field goes in the request (declarative routing)."""
    value: str | None = None
    if field.key == "media":
        # each URL with the alt text in the same place of Media Alt Texts
        value = ("={{ ([].concat($value || [])).filter((u) => u).map((url, i) => Object.assign("
                 f"{{type: {_VIDEO}.test(String(url).split('?')[0]) ? 'video' : 'image', url}}, "
                 "String([].concat($parameter.mediaAlt || [])[i] || '').trim() ? "
                 "{alt: String([].concat($parameter.mediaAlt || [])[i]).trim()} : {})) }}")
    elif field.type == "dict":
        value = ("={{ Object.fromEntries((($value || {}).captions || []).filter((c) => String(c.caption || '').trim())"
                 ".map((c) => [c.platform, {caption: c.caption}])) }}")
    elif field.multiple and field.type == "text":
        value = "={{ [].concat($value || []).filter((t) => String(t).trim()).map((caption) => ({caption})) }}"
    elif field.key == "idempotency_key":
        # a header, not a body property; empty means "no key"
        return {"request": {"headers": {"Idempotency-Key": "={{$value || undefined}}"}}}
    send: dict[str, Any] = {"type": "query" if field.key in action.http.query else "body",
                            "property": action.http.property_of(field.key)}
    if value:
        send["value"] = value
    return {"send": send}


def _operations(resource: str) -> dict[str, Any]:
    options = []
    for action in ACTIONS:
        res, op = operation_of(action)
        if res != resource:
            continue
        request: dict[str, Any] = {"method": action.http.method, "url": _url(action.http.path)}
        routing: dict[str, Any] = {"request": request}
        if action.http.list_response:
            routing["output"] = {"postReceive": [{"type": "rootProperty", "properties": {"property": "data"}}]}
        options.append({"name": {"getAll": "Get Many"}.get(op, op.capitalize()), "value": op,
                        "action": action.label, "description": action.description, "routing": routing})
    options.sort(key=lambda o: str(o["name"]))
    return {"displayName": "Operation", "name": "operation", "type": "options", "noDataExpression": True,
            "displayOptions": {"show": {"resource": [resource]}}, "options": options,
            "default": options[0]["value"]}


def _node() -> list[dict[str, Any]]:
    resources = sorted({operation_of(a)[0] for a in ACTIONS})
    props: list[dict[str, Any]] = [{
        "displayName": "Resource", "name": "resource", "type": "options", "noDataExpression": True,
        "options": [{"name": r.capitalize(), "value": r} for r in resources], "default": "post"}]
    props.extend(_operations(r) for r in resources)
    for action in ACTIONS:
        resource, op = operation_of(action)
        for field in action.fields:
            prop = _property(field, {"resource": [resource], "operation": [op]})
            if field.key in action.http.body or field.key in action.http.query or field.key == "idempotency_key":
                prop["routing"] = _send(action, field)
            props.append(prop)
    return props


def _trigger_events() -> dict[str, Any]:
    hooks = [t for t in TRIGGERS if t.kind == "webhook"]
    options = sorted(({"name": t.label, "value": t.event, "description": t.description} for t in hooks),
                     key=lambda o: str(o["name"]))
    return {"displayName": "Events", "name": "events", "type": "multiOptions", "required": True,
            "options": options, "default": [hooks[0].event],
            "description": "The PostDodo events that start this workflow"}


def _polling(trigger: Trigger) -> dict[str, Any]:
    assert trigger.http is not None
    return {"key": trigger.key, "label": trigger.label, "description": trigger.description,
            "request": {"method": trigger.http.method, "url": trigger.http.path, "qs": {"limit": RECENT}},
            "dedupeBy": "id", "properties": [_property(f, None) for f in trigger.fields]}


def render() -> dict[str, Any]:
    """Everything an n8n node package needs from the catalogue."""
    return {
        "node": {"properties": _node(),
                 "loadOptions": {LOAD_OPTIONS["accounts"]: {
                     "request": {"method": "GET", "url": "/v1/accounts"},
                     "rootProperty": "data", "name": "={{$responseItem.display_name}} ({{$responseItem.platform}} "
                                                     "@{{$responseItem.handle}})", "value": "={{$responseItem.id}}"}}},
        "trigger": {
            "properties": [_trigger_events()],
            "webhook": {"create": {"method": "POST", "url": "/v1/webhooks", "body": ["url", "events", "description"]},
                        "checkExists": {"method": "GET", "url": "/v1/webhooks", "match": ["url", "events"]},
                        "delete": {"method": "DELETE", "url": "/v1/webhooks/{id}"},
                        "signatureHeaders": ["webhook-id", "webhook-timestamp", "webhook-signature"]},
            "polling": [_polling(t) for t in TRIGGERS if t.kind == "polling"],
        },
        "samples": {**{a.key: dict(a.sample) for a in ACTIONS}, **{t.key: dict(t.sample) for t in TRIGGERS}},
    }
