"""The PostDodo REST API: `create_app()` builds the Flask app, one blueprint per resource."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..config import Settings
from ..storage import Database, Vault
from . import accounts, auth, boundary, events, limits, meta, posts, webhooks
from .service import Service


def create_app(test_config: dict[str, Any] | None = None, *, service: Service | None = None) -> Flask:
    """The API app; `service` injects ready settings/database (tests, `postdodo serve`)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.from_mapping(ACCESS_LOG=True)
    if test_config:
        app.config.from_mapping(test_config)
    if service is None:
        settings = Settings.from_env()
        db = Database(settings.database_url)
        settings = ensure_secret_key(settings, db)
        service = Service(settings=settings, db=db, vault=Vault(settings.secret_key or ""))
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_body
    app.extensions["postdodo"] = service
    boundary.init_app(app)
    auth.init_app(app)
    app.extensions["postdodo.limiter"] = limits.init_app(app, service.settings)
    for blueprint in (meta.bp, accounts.bp, posts.bp, webhooks.bp, events.bp):
        app.register_blueprint(blueprint)
    return app


def ensure_secret_key(settings: Settings, db: Database) -> Settings:
    """Settings with a secret key: POSTDODO_SECRET_KEY, else one generated once and kept in the database."""
    if settings.secret_key:
        return settings
    from ..storage import meta as meta_store

    return settings.with_(secret_key=meta_store.secret_key(db))


__all__ = ["Service", "create_app", "ensure_secret_key"]
