"""Mastodon through a connect session: the app registered once per instance, then consent and the account."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import responses
from sqlalchemy import select

from postdodo_connect.storage.schema import accounts, connect_apps
from tests.connect.conftest import CALLBACK, Kit, query

BASE = "https://fosstodon.example"
APP = {"id": "563419", "name": "PostDodo", "scopes": ["read:accounts", "write:statuses", "write:media"],
       "redirect_uris": [CALLBACK], "client_id": "TWhM-client", "client_secret": "ZEaF-secret",
       "client_secret_expires_at": 0}


def mastodon_answers(kit: Kit) -> list[dict[str, Any]]:
    """The instance's apps, token and verify_credentials answers; the requests' bodies are recorded."""
    seen: list[dict[str, Any]] = []

    def apps(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(json.loads(request.body))
        return 200, {}, json.dumps(APP)

    def token(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append({k: v[0] for k, v in parse_qs(request.body).items()})
        return 200, {}, json.dumps({"access_token": "ZA-token", "token_type": "Bearer",
                                    "scope": "read:accounts write:statuses write:media", "created_at": 1573979017})

    kit.mocked.add_callback(responses.POST, f"{BASE}/api/v1/apps", callback=apps, content_type="application/json")
    kit.mocked.add_callback(responses.POST, f"{BASE}/oauth/token", callback=token, content_type="application/json")
    kit.mocked.get(f"{BASE}/api/v1/accounts/verify_credentials",
                   json={"id": "109", "username": "alice", "acct": "alice", "display_name": "Alice"})
    return seen


def test_instance_app_is_registered_once_and_the_account_connected(kit: Kit) -> None:
    seen = mastodon_answers(kit)
    session = kit.started("mastodon", options={"instance_url": "fosstodon.example"})
    assert session["url"].startswith(f"{BASE}/oauth/authorize?")
    params = query(session["url"])
    assert params["client_id"] == "TWhM-client" and params["redirect_uri"] == CALLBACK
    assert params["code_challenge_method"] == "S256"
    assert seen[0] == {"client_name": "PostDodo", "redirect_uris": CALLBACK,
                       "scopes": "read:accounts write:statuses write:media"}
    kit.started("mastodon", options={"instance_url": "https://fosstodon.example/"})
    assert len(seen) == 1  # the second session reused the registered app
    answer = kit.callback(state=params["state"], code="m-code")
    account_id = query(answer.headers["Location"])["account_id"]
    assert seen[1]["client_secret"] == "ZEaF-secret" and seen[1]["code_verifier"]
    [account] = kit.accounts()
    assert (account["id"], account["handle"], account["display_name"]) == (account_id, "alice@fosstodon.example", "Alice")
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
        app = conn.execute(select(connect_apps)).one()._mapping
    assert kit.api.service.vault.open_json(row["credentials"]) == {"instance_url": BASE, "access_token": "ZA-token"}
    assert "ZEaF-secret" not in app["client_secret"]  # sealed
    assert account["health"]["token_expires_at"] is None and account["health"]["needs_reconnect"] is False


def test_instance_url_is_required_and_checked(kit: Kit) -> None:
    response = kit.start("mastodon")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_options"
    for bad in ("ftp://fosstodon.example", "https://user:pw@fosstodon.example", "https://fosstodon.example/path"):
        response = kit.start("mastodon", options={"instance_url": bad})
        assert response.status_code == 400, bad
        assert response.get_json()["error"]["code"] == "invalid_options"


def test_an_instance_on_a_private_address_is_refused(kit: Kit) -> None:
    kit.api.app.config["CONNECT_RESOLVER"] = lambda host, port: ["10.0.0.7"]
    response = kit.start("mastodon", options={"instance_url": "intranet.example"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_options"
    assert not kit.mocked.calls
