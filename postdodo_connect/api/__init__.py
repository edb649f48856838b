"""The PostDodo REST API: `create_app()` builds the Flask app, one blueprint per resource."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from flask import Flask

from ..config import Settings
from ..errors import ConfigurationError
from ..storage import Vault
from . import (
    accounts,
    auth,
    boundary,
    connect,
    connect_pages,
    edge,
    events,
    health,
    limits,
    meta,
    metrics,
    posts,
    webhooks,
)
from .service import Service


class App(Flask):
    """Flask, answering `ensure_sync` once per function instead of on every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks inspect whether each hook and view is a coroutine on every request (six times for a
        # GET), though the answer never changes; our hooks and views are all plain functions
        sync = self._sync.get(func)
        if sync is None:
            sync = self._sync[func] = super().ensure_sync(func)
        return sync


def create_app(test_config: dict[str, Any] | None = None, *, service: Service | None = None) -> Flask:
    """The API app; `service` injects ready settings/database (tests, `postdodo serve`)."""
    app = App(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.from_mapping(ACCESS_LOG=True)
    if test_config:
        app.config.from_mapping(test_config)
    if service is None:
        service = service_from_env()
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_body
    app.extensions["postdodo"] = service
    app.extensions["postdodo.ops_redis"] = redis = health.ops_redis(service.settings.redis_url)
    count = metrics.init_app(app, service, redis)
    boundary.init_app(app)
    auth.init_app(app)
    limits.init_app(app, service.settings)
    for blueprint in (meta.bp, accounts.bp, posts.bp, webhooks.bp, events.bp, connect.bp, connect_pages.bp):
        app.register_blueprint(blueprint)
    from .. import dashboard  # here: it imports api.service and api.limits, a cycle at module level

    dashboard.init_app(app, service.settings)
    edge.init_app(app, count)  # last, so outermost: it times and counts every request, refused ones included
    return app


def service_from_env() -> Service:
    """The service of an API process built from POSTDODO_* (gunicorn): never runs DDL, checks the secret key.

    A database that is behind or a wrong secret key is one line on stderr and exit code 4, gunicorn's
    "app failed to load": its master stops instead of respawning workers forever.
    """
    from ..engine import wake
    from ..storage import keyring
    from ..storage.migrate import open_database

    settings = Settings.from_env()
    try:
        db = open_database(settings.database_url)
        settings = keyring.secure_start(settings, db)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(4) from None
    # the engine runs in another process (`postdodo serve`'s engine, `postdodo engine`): ring across
    return Service(settings=settings, db=db, vault=Vault(settings.secret_key or ""), kick=wake.bell(settings).ring)


__all__ = ["Service", "create_app", "service_from_env"]
