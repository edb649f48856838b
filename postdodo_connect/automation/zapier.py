"""The catalogue as a Zapier app definition: authentication, triggers, creates and searches (AppSchema JSON).

Operations are request objects where the API's answer already has the shape Zapier wants, and short
``{"source": ...}`` functions (compiled by zapier-platform-core) where it must be reshaped.
"""

from __future__ import annotations

import re
from typing import Any

from ..client.resources import VIDEO_SUFFIXES
from .catalogue import ACTIONS, RECENT, TRIGGERS
from .model import Action, Field, Http, Output, Trigger

__all__ = ["DYNAMIC_SOURCES", "render"]

#: dynamic field sources -> the hidden trigger powering the dropdown ("trigger.value_key.label_key")
DYNAMIC_SOURCES = {"accounts": "list_accounts.id.label"}
_SECTIONS = {"create": "creates", "search": "searches", "list": "triggers"}

# shared first lines of every function: the API root and the bearer header from the connection
_PRELUDE = (
    "const base = String(bundle.authData.baseUrl || '').replace(/\\/+$/, '').replace(/\\/v1$/, '');\n"
    "const headers = {Authorization: `Bearer ${bundle.authData.apiKey}`};\n"
)
_SPLIT = ("const split = (v) => (Array.isArray(v) ? v : String(v || '').split(/[\\s,;]+/))"
          ".map((s) => String(s).trim()).filter(Boolean);\n")
_VIDEO = "/\\.(" + "|".join(s.lstrip(".") for s in VIDEO_SUFFIXES) + ")$/i"
# texts (alt texts, thread items) come as a list, or one per line; ``keep`` keeps empty places (alt texts)
_LINES = ("const lines = (v, keep) => {\n"
          "  const items = Array.isArray(v) ? v.map((s) => (s == null ? '' : String(s))) : "
          "(v == null || v === '' ? [] : String(v).split(/\\r?\\n/));\n"
          "  const out = items.map((s) => s.trim());\n"
          "  if (!keep) return out.filter(Boolean);\n"
          "  while (out.length && !out[out.length - 1]) out.pop();\n  return out;\n};\n")


def _function(body: str) -> dict[str, Any]:
    return {"source": _PRELUDE + body}


def _url(path: str) -> str:
    """A JS template literal for an API path with {field} placeholders."""
    return "`${base}" + re.sub(r"\{(\w+)\}", r"${encodeURIComponent(bundle.inputData.\1)}", path) + "`"


def _request(http: Http) -> dict[str, Any]:
    """A plain request object (curly templates) for a call without body or reshaping."""
    url = re.sub(r"\{(\w+)\}", r"{{bundle.inputData.\1}}", http.path)
    return {"method": http.method, "url": "{{bundle.authData.baseUrl}}" + url,
            "headers": {"Authorization": "Bearer {{bundle.authData.apiKey}}", "Accept": "application/json"}}


def _input_field(field: Field) -> dict[str, Any]:
    # a dict field is Zapier's key/value editor; its keys are free text (the help names the allowed ones)
    kind = "string" if field.type == "dict" else field.type
    out: dict[str, Any] = {"key": field.key, "label": field.label, "type": kind, "required": field.required,
                           "helpText": field.help}
    if field.multiple:
        out["list"] = True
    if field.type == "dict":
        out["dict"] = True
    elif field.choices:
        out["choices"] = [{"value": value, "label": label, "sample": value} for value, label in field.choices]
    if field.dynamic:
        out["dynamic"] = DYNAMIC_SOURCES[field.dynamic]
    if field.default is not None:
        out["default"] = field.default
    if field.example:
        out["placeholder"] = field.example
    return out


def _output_field(output: Output) -> dict[str, Any]:
    out: dict[str, Any] = {"key": output.key, "label": output.label}
    if output.type != "string":
        out["type"] = output.type
    if output.primary:
        out["primary"] = True
    return out


def _body_js(action: Action) -> str:
    """Statements that build ``body`` from the action's body fields."""
    lines = ["const input = bundle.inputData;\n", _SPLIT, _LINES, "const body = {};\n"]
    for key in action.http.body:
        field = action.field(key)
        prop = action.http.property_of(key)
        if key == "media":
            lines.append("const media = split(input.media);\nconst alts = lines(input.media_alt, true);\n"
                         "if (alts.length > media.length) throw new z.errors.Error(`${alts.length} alt texts for "
                         "${media.length} media URLs: give at most one per media URL, in order`, 'InvalidInput', 400);\n"
                         "if (media.length) body.media = media.map((url, i) => Object.assign("
                         f"{{type: {_VIDEO}.test(url.split('?')[0]) ? 'video' : 'image', url}}, "
                         "alts[i] ? {alt: alts[i]} : {}));\n")
        elif field.type == "dict":
            lines.append(f"const {prop} = {{}};\nfor (const [name, value] of Object.entries(input.{key} || {{}})) {{\n"
                         f"  if (String(value == null ? '' : value).trim()) {prop}[String(name).trim().toLowerCase()] = "
                         f"{{caption: String(value)}};\n}}\nif (Object.keys({prop}).length) body.{prop} = {prop};\n")
        elif field.multiple and field.type == "text":
            lines.append(f"const {key} = lines(input.{key});\n"
                         f"if ({key}.length) body.{prop} = {key}.map((caption) => ({{caption}}));\n")
        elif field.multiple:
            lines.append(f"body.{key} = split(input.{key});\n")
        elif field.required:
            lines.append(f"body.{key} = input.{key} || '';\n")
        else:
            lines.append(f"if (input.{key}) body.{key} = input.{key};\n")
    if any(f.key == "idempotency_key" for f in action.fields):
        lines.append("if (input.idempotency_key) headers['Idempotency-Key'] = input.idempotency_key;\n")
    return "".join(lines)


def _perform(action: Action) -> dict[str, Any]:
    http = action.http
    if action.kind == "create" and not http.body:
        return _request(http)  # the answer is the object Zapier shows
    if action.kind == "create":
        return _function(_body_js(action) + f"const response = await z.request({{method: '{http.method}', "
                         f"url: {_url(http.path)}, headers, body}});\nreturn response.data;")
    if action.kind == "search":
        return _function(f"const response = await z.request({{url: {_url(http.path)}, headers, "
                         "skipThrowForStatus: true});\nif (response.status === 404) return [];\n"
                         "response.throwForStatus();\nreturn [response.data];")
    return _function(f"const response = await z.request({{url: {_url(http.path)}, headers}});\n"
                     "return response.data.data.map((a) => Object.assign({}, a, "
                     "{label: `${a.display_name || a.handle} (${a.platform} @${a.handle})`}));")


def _operation(fields: tuple[Field, ...], outputs: tuple[Output, ...], sample: Any, perform: Any,
               **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"perform": perform, **extra}
    if fields:
        op["inputFields"] = [_input_field(f) for f in fields]
    if outputs:
        op["outputFields"] = [_output_field(o) for o in outputs]
    op["sample"] = dict(sample)
    return op


def _action(action: Action) -> dict[str, Any]:
    display: dict[str, Any] = {"label": action.label, "description": action.description}
    extra: dict[str, Any] = {}
    if action.kind == "list":  # a hidden trigger: it only feeds dropdowns
        display["hidden"] = True
        extra["type"] = "polling"
    return {"key": action.key, "noun": action.noun, "display": display,
            "operation": _operation(action.fields, action.outputs, action.sample, _perform(action), **extra)}


# each hook trigger's example list: recent posts reshaped like its event's data
_TARGET_STATUS = {"post.published": "confirmed", "post.failed": "failed"}


def _perform_list(trigger: Trigger) -> dict[str, Any]:
    fetch = (f"const response = await z.request({{url: `${{base}}/v1/posts`, params: {{limit: {RECENT}}}, "
             "headers});\nconst items = [];\nfor (const post of response.data.data) {\n"
             "  const at = post.updated_at || post.created_at;\n")
    if trigger.event in _TARGET_STATUS:
        status = _TARGET_STATUS[trigger.event]
        extra = ("permalink: t.permalink, platform_post_id: t.platform_post_id" if status == "confirmed"
                 else "error: t.error || null")
        loop = (f"  for (const t of post.targets) {{\n    if (t.status !== '{status}') continue;\n"
                f"    items.push({{id: `${{post.id}}.${{t.account_id}}`, event: '{trigger.event}', created_at: at, "
                f"post_id: post.id, account_id: t.account_id, platform: t.platform, status: t.status, {extra}}});\n"
                "  }\n")
    else:
        loop = ("  if (!['published', 'partially_published', 'failed'].includes(post.status)) continue;\n"
                f"  items.push({{id: post.id, event: '{trigger.event}', created_at: at, post_id: post.id, "
                "status: post.status, targets: post.targets.map((t) => ({account_id: t.account_id, "
                "platform: t.platform, status: t.status, permalink: t.permalink || null}))});\n")
    return _function(fetch + loop + "}\nreturn items;")


def _trigger(trigger: Trigger) -> dict[str, Any]:
    display = {"label": trigger.label, "description": trigger.description}
    if trigger.kind == "webhook":
        subscribe = _function(
            f"const response = await z.request({{method: 'POST', url: `${{base}}/v1/webhooks`, headers, "
            f"body: {{url: bundle.targetUrl, events: ['{trigger.event}'], description: 'Zapier: {trigger.key}'}}}});\n"
            "return response.data;")
        unsubscribe = _function(
            "const response = await z.request({method: 'DELETE', "
            "url: `${base}/v1/webhooks/${encodeURIComponent(bundle.subscribeData.id)}`, headers, "
            "skipThrowForStatus: true});\nif (response.status !== 404) response.throwForStatus();\n"
            "return response.data;")
        perform = {"source": "const e = bundle.cleanedRequest;\n"
                             "return [Object.assign({id: e.id, event: e.event, created_at: e.created_at}, e.data || {})];"}
        operation = _operation(trigger.fields, trigger.outputs, trigger.sample, perform, type="hook",
                               performSubscribe=subscribe, performUnsubscribe=unsubscribe,
                               performList=_perform_list(trigger))
    else:
        assert trigger.http is not None
        params = ", ".join(f"{q}: bundle.inputData.{q} || undefined" for q in trigger.http.query)
        perform = _function(f"const response = await z.request({{url: {_url(trigger.http.path)}, "
                            f"params: {{limit: {RECENT}, {params}}}, headers, "
                            "removeMissingValuesFrom: {params: true}});\nreturn response.data.data;")
        operation = _operation(trigger.fields, trigger.outputs, trigger.sample, perform, type="polling")
    return {"key": trigger.key, "noun": trigger.noun, "display": display, "operation": operation}


def _authentication() -> dict[str, Any]:
    return {
        "type": "custom",
        "fields": [
            {"key": "baseUrl", "label": "API Base URL", "type": "string", "required": True,
             "helpText": "The root of your PostDodo API, e.g. `https://postdodo.example.com` (no `/v1`)."},
            {"key": "apiKey", "label": "API Key", "type": "password", "required": True,
             "helpText": "A `pd_live_...` key (or `pd_test_...` for the sandbox), created with `postdodo keys create`."},
        ],
        "test": {"method": "GET", "url": "{{bundle.authData.baseUrl}}/v1/accounts",
                 "headers": {"Authorization": "Bearer {{bundle.authData.apiKey}}", "Accept": "application/json"}},
        "connectionLabel": "{{bundle.authData.baseUrl}}",
        "customConfig": {},
    }


def render() -> dict[str, Any]:
    """The Zapier definition: spread it into an App object next to ``version`` and ``platformVersion``."""
    definition: dict[str, Any] = {"authentication": _authentication(), "creates": {}, "searches": {}, "triggers": {}}
    for action in ACTIONS:
        definition[_SECTIONS[action.kind]][action.key] = _action(action)
    for trigger in TRIGGERS:
        definition["triggers"][trigger.key] = _trigger(trigger)
    return definition
