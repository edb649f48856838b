"""Routes: which event type becomes which job function on which RQ queue."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from postdodo_connect.errors import ConfigurationError

__all__ = ["DEFAULT_QUEUE", "DEFAULT_ROUTES", "Route", "load_function", "parse_routes"]

DEFAULT_QUEUE = "postdodo-events"
# post.published is forwarded out of the box; a user route for it replaces this one.
DEFAULT_ROUTES = "post.published=receiver.jobs:log_event"

_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Route:
    """One event type mapped to an importable job function and a queue."""

    event_type: str
    target: str  # "package.module:function"
    queue: str
    func: Callable[..., Any]

    @property
    def func_path(self) -> str:
        """The dotted path RQ stores, so the worker imports the function itself."""
        return self.target.replace(":", ".", 1)


def load_function(target: str) -> Callable[..., Any]:
    """Import ``module:attr`` and return it if callable; raise ConfigurationError otherwise."""
    if not _TARGET.fullmatch(target):
        raise ConfigurationError(f"job target {target!r} must look like package.module:function")
    module_name, _, attr_path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is a configuration problem
        raise ConfigurationError(f"cannot import module {module_name!r} of job target {target!r}: {exc}") from exc
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError as exc:
            raise ConfigurationError(f"job target {target!r}: {module_name} has no attribute {attr_path!r}") from exc
    if not callable(obj):
        raise ConfigurationError(f"job target {target!r} is not callable")
    return obj  # type: ignore[no-any-return]


def _parse_one(entry: str) -> Route:
    """Parse ``event.type=module:function[@queue]``."""
    event_type, sep, rest = entry.partition("=")
    event_type, rest = event_type.strip(), rest.strip()
    if not sep or not event_type or not rest:
        raise ConfigurationError(f"route {entry!r} must look like event.type=package.module:function[@queue]")
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ConfigurationError(f"route {entry!r}: {event_type!r} is not an event type")
    target, _, queue = rest.partition("@")
    target, queue = target.strip(), queue.strip() or DEFAULT_QUEUE
    if not _QUEUE_NAME.fullmatch(queue):
        raise ConfigurationError(f"route {entry!r}: queue name {queue!r} may only use letters, digits, _ . -")
    try:
        func = load_function(target)
    except ConfigurationError as exc:
        raise ConfigurationError(f"route {event_type}: {exc}") from exc
    return Route(event_type, target, queue, func)


def parse_routes(spec: str, *, defaults: str = DEFAULT_ROUTES) -> dict[str, Route]:
    """Parse a comma/newline separated route list on top of the defaults; every target is imported now."""
    routes = {route.event_type: route for route in _parse_entries(defaults)}
    seen: set[str] = set()
    for route in _parse_entries(spec):
        if route.event_type in seen:
            raise ConfigurationError(f"event type {route.event_type!r} is routed twice")
        seen.add(route.event_type)
        routes[route.event_type] = route
    return routes


def _parse_entries(spec: str) -> list[Route]:
    """Every non-empty entry of a route list."""
    entries = (part.strip() for part in spec.replace("\n", ",").split(","))
    return [_parse_one(entry) for entry in entries if entry]
