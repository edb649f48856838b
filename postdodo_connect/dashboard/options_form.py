"""Each platform's options as form controls, drawn from the same models the API validates them with.

The controls come from the JSON schema of `content.OPTIONS` (the schemas the OpenAPI document publishes): an enum
is a select, a boolean a checkbox, a list a comma-separated input, anything else a text input. Nothing here knows
a platform's options by hand, so a new option appears on the form the day it is added to its model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from werkzeug.datastructures import MultiDict

from ..content import OPTIONS

PREFIX = "option"  # form names are option.<platform>.<name>


@dataclass(frozen=True)
class OptionField:
    """One option as a form control."""

    platform: str
    name: str
    label: str
    kind: str  # "select" | "checkbox" | "list" | "text"
    choices: tuple[str, ...] = ()
    #: the model's default: an option left at it is not sent (the stored post carries only what was chosen)
    default: Any = None
    #: None may be chosen (a select offers "Platform default")
    nullable: bool = False
    max_length: int | None = None

    @property
    def form_name(self) -> str:
        """The control's name on the form."""
        return f"{PREFIX}.{self.platform}.{self.name}"

    @property
    def element_id(self) -> str:
        """The control's id on the page."""
        return f"option-{self.platform}-{self.name}"


def _field(platform: str, name: str, schema: dict[str, Any]) -> OptionField:
    variants = schema.get("anyOf") or [schema]
    nullable = any(v.get("type") == "null" for v in variants)
    typed: dict[str, Any] = next((v for v in variants if v.get("type") != "null"), {})
    label = name.replace("_", " ").capitalize()
    default = schema.get("default")
    if "enum" in typed:
        return OptionField(platform, name, label, "select", tuple(typed["enum"]), default, nullable)
    if typed.get("type") == "boolean":
        return OptionField(platform, name, label, "checkbox", default=bool(default))
    if typed.get("type") == "array":
        return OptionField(platform, name, label, "list", default=[], max_length=typed.get("maxItems"))
    return OptionField(platform, name, label, "text", default=default, nullable=nullable,
                       max_length=typed.get("maxLength"))


@cache
def fields(platform: str) -> tuple[OptionField, ...]:
    """A platform's option controls, in the model's order (none for a platform without options)."""
    model = OPTIONS.get(platform)
    if model is None:
        return ()
    properties = model.model_json_schema().get("properties", {})
    return tuple(_field(platform, name, schema) for name, schema in properties.items())


def read(platform: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The options a person set for `platform` on the form, as the API takes them (defaults left out)."""
    chosen: dict[str, Any] = {}
    for option in fields(platform):
        raw = form.get(option.form_name, "")
        value: Any
        if option.kind == "checkbox":
            value = raw == "on"
        elif option.kind == "list":
            value = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            value = raw.strip() or (None if option.nullable or option.default is None else option.default)
        if value != option.default:
            chosen[option.name] = value
    return chosen


def shown(option: OptionField, options: dict[str, Any]) -> Any:
    """What a control shows for a stored or typed set of options (the default when unset)."""
    value = options.get(option.name, option.default)
    if option.kind == "list":
        return ", ".join(str(v) for v in value or [])
    if option.kind == "checkbox":
        return bool(value)
    return "" if value is None else str(value)
