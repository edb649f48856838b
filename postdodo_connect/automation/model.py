"""The vocabulary of the catalogue: fields, outputs, HTTP shapes, actions and triggers (plain frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..client import Client

__all__ = ["Action", "Field", "FieldType", "Http", "Output", "Trigger"]

#: "dict": key/value pairs (keys from ``choices`` when given); a ``multiple`` "text" field takes one text per line
FieldType = Literal["string", "text", "datetime", "boolean", "integer", "dict"]
JSON = Any  # what run() returns: dicts, lists, str, int, bool, None only


@dataclass(frozen=True)
class Field:
    """One input of an action or trigger, as every shell renders it."""

    key: str
    label: str
    type: FieldType
    required: bool
    help: str
    #: static choices as (value, label) pairs; exclusive with ``dynamic``
    choices: tuple[tuple[str, str], ...] | None = None
    #: a dynamic source of choices: "accounts" (the workspace's connected accounts)
    dynamic: str | None = None
    default: str | None = None
    #: the field takes several values (account ids, media URLs)
    multiple: bool = False
    #: a sample value for docs and forms
    example: str | None = None

    def __post_init__(self) -> None:
        if self.choices and self.dynamic:
            raise ValueError(f"field {self.key}: choices and dynamic are exclusive")
        if self.type == "dict" and (self.multiple or self.dynamic):
            raise ValueError(f"field {self.key}: a dict field is neither multiple nor dynamic")


@dataclass(frozen=True)
class Output:
    """One output property worth a label in a shell's mapping UI (``a[]b`` is b of each item of list a)."""

    key: str
    label: str
    type: Literal["string", "integer", "boolean", "datetime"] = "string"
    primary: bool = False


@dataclass(frozen=True)
class Http:
    """The API call behind an operation, for shells that describe requests declaratively."""

    method: Literal["GET", "POST", "DELETE"]
    path: str  # with {field_key} placeholders, e.g. /v1/posts/{post_id}
    body: tuple[str, ...] = ()
    query: tuple[str, ...] = ()
    #: body fields sent under another name, e.g. platform_captions -> platforms
    renamed: tuple[tuple[str, str], ...] = ()
    #: the answer's list lives under "data" (list endpoints)
    list_response: bool = False

    def property_of(self, key: str) -> str:
        """The body property a field is sent as."""
        return dict(self.renamed).get(key, key)


@dataclass(frozen=True)
class Action:
    """Something a user makes PostDodo do; ``run(client, **inputs)`` answers plain JSON-able data."""

    key: str
    noun: str
    label: str
    description: str
    fields: tuple[Field, ...]
    sample: Mapping[str, Any]
    run: Callable[..., JSON]
    #: how shells file it: create (changes something), search (finds one), list (feeds dropdowns)
    kind: Literal["create", "search", "list"]
    http: Http
    outputs: tuple[Output, ...] = ()

    def field(self, key: str) -> Field:
        """The input field called ``key``."""
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class Trigger:
    """Something PostDodo tells a user about: a webhook event type, or a poll of new items."""

    key: str
    label: str
    description: str
    sample: Mapping[str, Any]
    kind: Literal["webhook", "polling"] = "webhook"
    noun: str = "Post"
    #: the webhook event type (webhook triggers)
    event: str | None = None
    fields: tuple[Field, ...] = ()
    outputs: tuple[Output, ...] = ()
    #: webhook: register ``url`` for ``event``; answers {"id", "secret", ...} (the shell keeps both)
    subscribe: Callable[[Client, str], dict[str, Any]] | None = None
    #: webhook: remove the endpoint that subscribe made
    unsubscribe: Callable[[Client, str], None] | None = None
    #: webhook: one verified delivery (the event envelope) as the items the shell emits
    perform: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None
    #: items, newest first: polling triggers' poll, webhook triggers' recent examples (a shell's "performList")
    poll: Callable[..., list[dict[str, Any]]] = field(default=lambda client, **inputs: [])
    http: Http | None = None

    def run(self, client: Client, **inputs: Any) -> list[dict[str, Any]]:
        """Recent items, newest first, each with an ``id``."""
        return self.poll(client, **inputs)

    def poll_new(self, client: Client, seen: set[str], **inputs: Any) -> list[dict[str, Any]]:
        """Items whose ``id`` is not in ``seen`` yet (oldest first), adding them to ``seen``."""
        fresh = [item for item in self.run(client, **inputs) if item["id"] not in seen]
        seen.update(item["id"] for item in fresh)
        return list(reversed(fresh))


def keys_of(items: Iterable[Field]) -> list[str]:
    """The keys of some fields, in order."""
    return [f.key for f in items]
