"""The catalogue as Home Assistant actions: ``services.yaml`` (fields and selectors) and the ``services``
section of ``strings.json`` (names and descriptions), for a ``postdodo`` custom integration."""

from __future__ import annotations

import json
from typing import Any

from .catalogue import ACTIONS
from .model import Action, Field

__all__ = ["DOMAIN", "render_services", "render_strings", "to_yaml"]

DOMAIN = "postdodo"
_CONFIG_ENTRY = "config_entry_id"


def _selector(field: Field) -> dict[str, Any]:
    if field.type == "dict":
        return {"object": {}}  # a YAML mapping: platform: caption
    if field.choices:
        return {"select": {"options": [{"value": v, "label": label} for v, label in field.choices]}}
    if field.type == "datetime":
        return {"datetime": {}}
    if field.type == "boolean":
        return {"boolean": {}}
    if field.type == "integer":
        return {"number": {"mode": "box"}}
    text: dict[str, Any] = {}
    if field.type == "text":
        text["multiline"] = True
    if field.multiple:
        text["multiple"] = True
    if field.key == "media":
        text["type"] = "url"
    return {"text": text}


def _service(action: Action) -> dict[str, Any]:
    # optional: with one PostDodo entry loaded the action uses it; with several it asks which
    fields: dict[str, Any] = {_CONFIG_ENTRY: {"selector": {"config_entry": {"integration": DOMAIN}}}}
    for field in action.fields:
        spec: dict[str, Any] = {}
        if field.required:
            spec["required"] = True
        if field.example and field.type == "dict":
            spec["example"] = {field.choices[0][0] if field.choices else "key": field.example}
        elif field.example:
            spec["example"] = field.example
        if field.default is not None:
            spec["default"] = field.default
        spec["selector"] = _selector(field)
        fields[field.key] = spec
    return {"fields": fields}


def render_services() -> dict[str, Any]:
    """The services.yaml mapping: one action per catalogue action, each taking the config entry first."""
    return {action.key: _service(action) for action in ACTIONS}


def render_strings() -> dict[str, Any]:
    """The ``services`` section of strings.json (translations/en.json)."""
    services: dict[str, Any] = {}
    for action in ACTIONS:
        fields = {_CONFIG_ENTRY: {"name": "PostDodo connection",
                                  "description": "The PostDodo config entry (API key and workspace) to use."}}
        fields.update({f.key: {"name": f.label, "description": f.help} for f in action.fields})
        services[action.key] = {"name": action.label, "description": action.description, "fields": fields}
    return {"services": services}


# -- a tiny YAML writer: deterministic, and enough for services.yaml (no PyYAML at run time) ----------------


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    plain = text and text.replace("_", "").replace(".", "").replace("-", "").isalnum() and not text[0].isdigit()
    if plain and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{_scalar(key)}:\n{to_yaml(item, indent + 1)}")
            elif isinstance(item, list) and item:
                lines.append(f"{pad}{_scalar(key)}:\n{to_yaml(item, indent + 1)}")
            elif isinstance(item, dict | list):
                lines.append(f"{pad}{_scalar(key)}: {'{}' if isinstance(item, dict) else '[]'}\n")
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}\n")
    else:
        lines.append(f"{pad}{_scalar(value)}\n")
    return "".join(lines)
