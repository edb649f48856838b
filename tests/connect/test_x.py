"""X through a connect session: consent URL, code exchange with PKCE, the account, reconnect."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import select

from postdodo_connect.storage.schema import accounts, connect_sessions, events
from tests.connect.conftest import APP_URL, CALLBACK, X_CLIENT, Kit, query

TOKEN_URL = "https://api.x.com/2/oauth2/token"
ME_URL = "https://api.x.com/2/users/me"
SCOPES = "tweet.read tweet.write users.read media.write offline.access"


def x_answers(kit: Kit, *, user_id: str = "2244994945", username: str = "acme", scope: str = SCOPES,
              refresh: str | None = "rt-1", access: str = "at-1") -> list[dict[str, str]]:
    """X's token and /2/users/me answers, shaped like the real ones; the token requests' forms are recorded."""
    forms: list[dict[str, str]] = []

    def token(request: Any) -> tuple[int, dict[str, str], str]:
        forms.append({k: v[0] for k, v in parse_qs(request.body).items()})
        body = {"token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": scope}
        if refresh:
            body["refresh_token"] = refresh
        return 200, {}, json.dumps(body)

    kit.mocked.add_callback(responses.POST, TOKEN_URL, callback=token, content_type="application/json")
    kit.mocked.get(ME_URL, json={"data": {"id": user_id, "name": "Acme Corp", "username": username}})
    return forms


def connect_x(kit: Kit, **answers: Any) -> tuple[dict[str, Any], Any, list[dict[str, str]]]:
    """One whole X session: start, consent (skipped), callback; the session, the callback's answer, token forms."""
    session = kit.started()
    forms = x_answers(kit, **answers)
    answer = kit.callback(state=query(session["url"])["state"], code="code-1")
    return session, answer, forms


def test_the_consent_url_asks_for_posting_scopes_with_pkce_s256(kit: Kit) -> None:
    session = kit.started()
    assert session["id"].startswith("cs_") and session["status"] == "pending"
    assert session["url"].startswith("https://x.com/i/oauth2/authorize?")
    params = query(session["url"])
    assert params["client_id"] == X_CLIENT[0] and params["redirect_uri"] == CALLBACK
    assert params["scope"] == SCOPES and params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert kit.session(session["id"])["url"] is None  # the consent URL is handed out once


def test_callback_creates_the_account_and_redirects_with_it(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    session, answer, forms = connect_x(kit)
    assert answer.status_code == 302
    landing = query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(APP_URL + "?")
    assert landing["session"] == session["id"] and landing["account_id"].startswith("acct_")
    # PKCE: the verifier went to the token endpoint only, and matches the challenge sent to the browser
    verifier = forms[0]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == query(session["url"])["code_challenge"]
    assert forms[0]["redirect_uri"] == CALLBACK and forms[0]["grant_type"] == "authorization_code"
    done = kit.session(session["id"])
    assert done["status"] == "completed" and done["account_ids"] == [landing["account_id"]]
    for text in (json.dumps(session), json.dumps(done), answer.headers["Location"], caplog.text):
        assert verifier not in text and "at-1" not in text and "code-1" not in text
    [account] = kit.accounts()
    assert (account["id"], account["platform"], account["handle"], account["mode"]) == (
        landing["account_id"], "x", "acme", "live")
    health = account["health"]
    assert health["needs_reconnect"] is False and health["token_expires_at"]
    assert health["scopes_granted"] == SCOPES.split() and health["scopes_needed"] == SCOPES.split()


def test_tokens_and_verifier_are_sealed_at_rest(kit: Kit) -> None:
    session = kit.started()
    with kit.api.db.read() as conn:
        pending = conn.execute(select(connect_sessions)).one()._mapping
    verifier = kit.api.service.vault.open_json(pending["secret"])["verifier"]
    assert verifier not in json.dumps(dict(pending), default=str)
    x_answers(kit)
    kit.callback(state=query(session["url"])["state"], code="code-1")
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
        finished = conn.execute(select(connect_sessions)).one()._mapping
    raw = json.dumps(dict(row), default=str)
    assert "at-1" not in raw and "rt-1" not in raw and finished["secret"] is None
    credentials = kit.api.service.vault.open_json(row["credentials"])
    # exactly what X's adapter reads to publish and to refresh
    assert credentials["access_token"] == "at-1" and credentials["refresh_token"] == "rt-1"
    assert credentials["client_id"] == X_CLIENT[0] and credentials["user_id"] == "2244994945"
    assert row["external_user_id"] == "2244994945" and row["token_expires_at"] is not None


def test_connecting_the_same_user_again_keeps_one_account(kit: Kit) -> None:
    _, first, _ = connect_x(kit)
    kit.mocked.reset()
    _, second, _ = connect_x(kit, access="at-2")
    assert query(first.headers["Location"])["account_id"] == query(second.headers["Location"])["account_id"]
    assert len(kit.accounts()) == 1


def test_missing_scopes_fail_the_session(kit: Kit) -> None:
    session, answer, _ = connect_x(kit, scope="tweet.read users.read offline.access")
    landing = query(answer.headers["Location"])
    assert landing["error"] == "missing_scopes" and "tweet.write" in landing["message"]
    assert kit.session(session["id"])["status"] == "failed" and kit.accounts() == []


def test_a_refused_code_fails_the_session_cleanly(kit: Kit) -> None:
    session = kit.started()
    kit.mocked.post(TOKEN_URL, status=400, json={"error": "invalid_request",
                                                 "error_description": "Value passed for the authorization code was invalid."})
    answer = kit.callback(state=query(session["url"])["state"], code="stale")
    landing = query(answer.headers["Location"])
    assert landing["error"] == "connect_failed" and "authorization code was invalid" in landing["message"]
    assert kit.session(session["id"])["error"]["code"] == "connect_failed"


def test_reconnect_refreshes_in_place_and_keeps_the_refresh_token(kit: Kit) -> None:
    _, first, _ = connect_x(kit)
    account_id = query(first.headers["Location"])["account_id"]
    with kit.api.db.write() as conn:
        conn.execute(accounts.update().values(status="expired"))
    kit.mocked.reset()
    session = kit.started(account_id=account_id)
    x_answers(kit, access="at-2", refresh=None)  # X answered without a new refresh token
    answer = kit.callback(state=query(session["url"])["state"], code="code-2")
    assert query(answer.headers["Location"])["account_id"] == account_id
    [account] = kit.accounts()
    assert account["id"] == account_id and account["status"] == "active"
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
        kinds = [r.type for r in conn.execute(select(events.c.type))]
    credentials = kit.api.service.vault.open_json(row["credentials"])
    assert credentials["access_token"] == "at-2" and credentials["refresh_token"] == "rt-1"
    assert kinds == ["account.reconnected"]


def test_reconnect_refuses_another_platform_user(kit: Kit) -> None:
    _, first, _ = connect_x(kit)
    account_id = query(first.headers["Location"])["account_id"]
    kit.mocked.reset()
    session = kit.started(account_id=account_id)
    x_answers(kit, user_id="999", username="intruder", access="at-other")
    landing = query(kit.callback(state=query(session["url"])["state"], code="c").headers["Location"])
    assert landing["error"] == "reconnect_user_mismatch" and "acme" in landing["message"]
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
    assert kit.api.service.vault.open_json(row["credentials"])["access_token"] == "at-1"
    assert row["handle"] == "acme"


def test_reconnect_names_an_account_of_this_workspace_and_platform(kit: Kit) -> None:
    sandbox_key = kit.api.new_key("other", test=False)
    response = kit.api.call("POST", "/v1/connect", sandbox_key,
                            json={"platform": "x", "redirect_url": APP_URL, "account_id": "acct_nothere"})
    assert response.status_code == 404
    _, first, _ = connect_x(kit)
    account_id = query(first.headers["Location"])["account_id"]
    response = kit.start("telegram", account_id=account_id)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "account_mismatch"
    response = kit.api.call("POST", "/v1/connect", sandbox_key,
                            json={"platform": "x", "redirect_url": APP_URL, "account_id": account_id})
    assert response.status_code == 404  # another workspace's account does not exist for this one
