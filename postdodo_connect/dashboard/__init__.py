"""The dashboard: server-rendered pages at `/` of the API app (sign in, posts, accounts, webhooks, Settings → API).

    blueprint.py   the one blueprint          security.py  cookie, CSRF, CSP and the other headers
    session.py     who is signed in, which workspace a page is for (404 unless a member)
    auth.py        sign in/out, the first-run link, password change      workspaces.py  `/` and the switcher
    keys.py  accounts.py  webhooks.py  posts.py  composer.py  edit.py     one module per page group
    draft.py  options_form.py   the composer's form: read, sent to the API, refusals placed back

Views call the same storage and service functions as the API (api/, storage/), never a copy of their rules.
"""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from . import accounts, auth, composer, edit, keys, posts, security, webhooks, workspaces
from .blueprint import bp

PAGES = (auth, workspaces, posts, composer, edit, accounts, webhooks, keys)  # imported for their views


def init_app(app: Flask, settings: Settings) -> None:
    """Serve the dashboard from `app`: session cookie, security headers and the blueprint."""
    security.init_app(app, settings)
    auth.init_app(app, settings)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
