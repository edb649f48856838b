"""/v1/connect: connect sessions (start, status, picker), the platforms they serve, and the OAuth callback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request
from werkzeug.wrappers import Response

from .. import platforms
from ..connect.flow import Connector, kind_of
from ..models import ConnectCreate, ConnectFailure, ConnectPlatform, ConnectSelect, ConnectSession
from .auth import workspace
from .boundary import known_args, read_json
from .service import service

bp = Blueprint("connect", __name__, url_prefix="/v1/connect")


def connector() -> Connector:
    """The connect flow for this request (tests inject a DNS resolver as CONNECT_RESOLVER)."""
    return Connector(service(), request.url_root, resolver=current_app.config.get("CONNECT_RESOLVER"))


def session_json(row: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """A stored session as its public JSON (never its secrets)."""
    failure = ConnectFailure(code=row["error_code"], message=row["error_message"] or "") if row["error_code"] else None
    return ConnectSession(
        id=row["id"], platform=row["platform"], url=url, redirect_url=row["redirect_url"],
        # "working": a callback is exchanging the code right now
        status="pending" if row["status"] == "working" else row["status"],
        account_id=row["account_id"], options=row["choices"] or [], account_ids=row["account_ids"] or [],
        error=failure, created_at=row["created_at"], expires_at=row["expires_at"],
    ).model_dump(mode="json")


@bp.post("")
def start() -> tuple[dict[str, Any], int]:
    """Start a connect session: the URL to send the user's browser to."""
    body = read_json(ConnectCreate)
    row, url = connector().start(workspace(), body)
    return session_json(row, url), 201


@bp.get("/platforms")
def platforms_() -> dict[str, Any]:
    """Every platform a session can connect, whether it is configured, and the redirect URI to register."""
    known_args()
    flow = connector()
    data = []
    for name in platforms.NAMES:
        kind = kind_of(name)
        if kind is None:
            continue
        cls = platforms.adapter_class(name)
        configured = flow.configured(name)
        upper = name.upper()
        data.append(ConnectPlatform(
            platform=name, label=cls.label or name, kind=kind, configured=configured,
            scopes=list(cls.oauth.scopes) if cls.oauth and kind == "oauth" else [],
            redirect_uri=flow.redirect_uri if kind == "oauth" else None,
            message=None if configured else f"set POSTDODO_{upper}_CLIENT_ID and POSTDODO_{upper}_CLIENT_SECRET",
        ).model_dump(mode="json"))
    return {"data": data, "has_more": False, "next_cursor": None}


@bp.get("/callback")
def callback() -> Response:
    """The OAuth redirect URI (public): exchange the code, then send the browser on to the caller."""
    return redirect(connector().callback(request.args), code=302)


@bp.get("/<session_id>")
def get(session_id: str) -> dict[str, Any]:
    """A session's status; the picker's options while it waits for a selection."""
    known_args()
    return session_json(connector().get(workspace()["id"], session_id))


@bp.post("/<session_id>/select")
def select(session_id: str) -> dict[str, Any]:
    """Create the accounts picked among the session's options."""
    body = read_json(ConnectSelect)
    return session_json(connector().select(workspace()["id"], session_id, body.option_ids))
