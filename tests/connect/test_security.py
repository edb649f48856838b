"""The security table of the connect flow: state, redirects, scoping, configuration."""

from __future__ import annotations

from typing import Any

import pytest

from postdodo_connect.connect.security import Signer, allowed_redirect
from tests.connect.conftest import APP_URL, CALLBACK, PUBLIC_URL, Kit, query
from tests.connect.test_x import x_answers


def state_of(session: dict[str, Any]) -> str:
    return query(session["url"])["state"]


def refused(answer: Any, code: str) -> None:
    assert answer.status_code == 400, answer.data
    assert answer.get_json()["error"]["code"] == code
    assert "Location" not in answer.headers


def test_a_replayed_state_is_refused(kit: Kit) -> None:
    session = kit.started()
    x_answers(kit)
    assert kit.callback(state=state_of(session), code="code-1").status_code == 302
    refused(kit.callback(state=state_of(session), code="code-1"), "state_used")
    assert len(kit.accounts()) == 1


def test_a_tampered_state_is_refused(kit: Kit) -> None:
    session = kit.started()
    state = state_of(session)
    flipped = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
    refused(kit.callback(state=flipped, code="c"), "invalid_state")
    refused(kit.callback(code="c"), "invalid_state")
    assert kit.session(session["id"])["status"] == "pending"  # the real one still works


def test_a_foreign_state_is_refused(kit: Kit) -> None:
    session = kit.started()
    # signed by another server, for this very session id
    other = Signer("another-servers-secret-key-123").state(session["id"], "nonce")
    refused(kit.callback(state=other, code="c"), "invalid_state")
    # signed by us, but bound to another nonce than the session's: not this session's state
    ours = Signer(kit.api.service.settings.secret_key or "").state(session["id"], "forged-nonce")
    refused(kit.callback(state=ours, code="c"), "invalid_state")


def test_an_expired_state_is_refused_and_the_session_expires(kit: Kit) -> None:
    session = kit.started()
    kit.clock.advance(601)
    refused(kit.callback(state=state_of(session), code="c"), "session_expired")
    shown = kit.session(session["id"])
    assert shown["status"] == "expired" and shown["error"]["code"] == "session_expired"


def test_an_unused_session_shows_expired_after_ten_minutes(kit: Kit) -> None:
    session = kit.started()
    kit.clock.advance(599)
    assert kit.session(session["id"])["status"] == "pending"
    kit.clock.advance(2)
    assert kit.session(session["id"])["status"] == "expired"


def test_access_denied_ends_the_session_cleanly(kit: Kit) -> None:
    session = kit.started()
    answer = kit.callback(state=state_of(session), error="access_denied", error_description="<b>no</b>")
    assert answer.status_code == 302
    landing = query(answer.headers["Location"])
    assert landing["error"] == "access_denied" and landing["session"] == session["id"]
    assert kit.session(session["id"])["status"] == "failed" and kit.accounts() == []
    refused(kit.callback(state=state_of(session), code="late"), "state_used")


@pytest.mark.parametrize("url", [
    "https://evil.example.com/connected",
    "https://app.example.com.evil.com/connected",
    "https://app.example.com/connectedness",
    "https://app.example.com@evil.com/connected",
    "http://app.example.com/connected",
    "https://app.example.com:8443/connected",
    "javascript:alert(1)//https://app.example.com/connected",
    "https://app.example.com/connected#frag",
    "//evil.example.com/connected",
])
def test_an_open_redirect_is_refused(kit: Kit, url: str) -> None:
    response = kit.start(redirect_url=url)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("redirect_url_not_allowed", "invalid_request")


def test_redirects_under_an_allowed_prefix_or_this_server_are_accepted(kit: Kit) -> None:
    assert kit.start(redirect_url=APP_URL + "/step?x=1").status_code == 201
    assert kit.start(redirect_url=PUBLIC_URL + "/v1/connect/done").status_code == 201
    assert allowed_redirect("https://APP.example.com/connected", [APP_URL])


def test_sessions_are_workspace_scoped(kit: Kit) -> None:
    session = kit.started()
    other = kit.api.new_key("other", test=False)
    assert kit.api.call("GET", f"/v1/connect/{session['id']}", other).status_code == 404
    assert kit.api.call("POST", f"/v1/connect/{session['id']}/select", other,
                        json={"option_ids": ["1"]}).status_code == 404
    assert kit.api.call("GET", f"/v1/connect/{session['id']}").status_code == 401


def test_test_keys_and_unconfigured_platforms_are_refused(kit: Kit) -> None:
    test_key = kit.api.new_key("sandbox")
    response = kit.api.call("POST", "/v1/connect", test_key, json={"platform": "x", "redirect_url": APP_URL})
    assert response.status_code == 400 and "pd_live_" in response.get_json()["error"]["message"]
    kit.api.service.settings = kit.api.service.settings.with_(oauth_clients={})
    response = kit.start()
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "platform_not_configured"
    assert "POSTDODO_X_CLIENT_ID" in response.get_json()["error"]["message"]
    response = kit.start("nope")
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "platform"


def test_platforms_say_what_is_configured_and_the_redirect_uri(kit: Kit) -> None:
    response = kit.api.call("GET", "/v1/connect/platforms", kit.key)
    assert response.status_code == 200
    found = {p["platform"]: p for p in response.get_json()["data"]}
    assert found["x"]["configured"] is True and found["x"]["redirect_uri"] == CALLBACK
    assert found["x"]["kind"] == "oauth" and "offline.access" in found["x"]["scopes"]
    assert found["mastodon"]["configured"] is True  # registers itself on each instance
    assert found["bluesky"]["kind"] == "form" and found["bluesky"]["redirect_uri"] is None
    assert found["telegram"]["configured"] is True
    kit.api.service.settings = kit.api.service.settings.with_(oauth_clients={})
    x = {p["platform"]: p for p in kit.api.call("GET", "/v1/connect/platforms", kit.key).get_json()["data"]}["x"]
    assert x["configured"] is False and "POSTDODO_X_CLIENT_ID" in x["message"]
