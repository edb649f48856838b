"""The hosted credential forms: Bluesky (handle + app password) and Telegram (bot token + chat)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from postdodo_connect.api.connect_pages import CSRF_COOKIE
from postdodo_connect.storage.schema import accounts
from tests.connect.conftest import APP_URL, Kit, query

PDS = "https://bsky.social/xrpc"
DID = "did:plc:abc123"
TG = "https://api.telegram.org/bot123456789:AAtoken"


def open_form(kit: Kit, platform: str) -> tuple[FlaskClient, dict[str, Any], Any, dict[str, str]]:
    """Start a session and open its form in one browser: the browser, session, page and hidden fields."""
    session = kit.started(platform)
    browser = kit.api.client()
    page = browser.get(session["url"].removeprefix("https://pd.example.com"))
    hidden = dict(re.findall(r'name="(state|csrf_token)" value="([^"]*)"', page.get_data(as_text=True)))
    return browser, session, page, hidden


def test_the_form_page_is_locked_down(kit: Kit) -> None:
    _, session, page, hidden = open_form(kit, "bluesky")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "form-action 'self' https://app.example.com" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert hidden["state"] == query(session["url"])["state"] and hidden["csrf_token"]
    assert 'type="password"' in page.get_data(as_text=True)


def test_bluesky_connects_with_an_app_password(kit: Kit) -> None:
    kit.mocked.post(f"{PDS}/com.atproto.server.createSession",
                    json={"did": DID, "handle": "alice.bsky.social", "accessJwt": "a", "refreshJwt": "r"})
    browser, session, _, hidden = open_form(kit, "bluesky")
    answer = browser.post("/v1/connect/form", data={**hidden, "identifier": "@alice.bsky.social",
                                                    "app_password": "abcd-efgh-ijkl-mnop"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(APP_URL)
    landing = query(answer.headers["Location"])
    assert landing["session"] == session["id"]
    [account] = kit.accounts()
    assert (account["id"], account["handle"]) == (landing["account_id"], "alice.bsky.social")
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
    assert "abcd-efgh" not in row["credentials"]
    stored = kit.api.service.vault.open_json(row["credentials"])
    assert stored.pop("session")["did"] == DID  # the form's login is kept: the first post logs in no more
    assert stored == {"identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop",
                      "service": "https://bsky.social"}
    assert row["external_user_id"] == DID
    # the form's state is single use too
    again = browser.post("/v1/connect/form", data={**hidden, "identifier": "x", "app_password": "y"})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_refused_credentials_show_the_form_again_with_everything_escaped(kit: Kit) -> None:
    kit.mocked.post(f"{PDS}/com.atproto.server.createSession", status=401,
                    json={"error": "AuthenticationRequired", "message": "Invalid identifier or <b>password</b>"})
    browser, session, _, hidden = open_form(kit, "bluesky")
    handle = '"><script>alert(1)</script>'
    answer = browser.post("/v1/connect/form", data={**hidden, "identifier": handle, "app_password": "secret-pw"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Invalid identifier" in body
    assert "<script>" not in body and "<b>password" not in body and "&lt;script&gt;" in body
    assert "secret-pw" not in body  # a password is never echoed
    assert kit.session(session["id"])["status"] == "pending" and kit.accounts() == []


def test_the_form_refuses_a_post_without_this_browsers_csrf_cookie(kit: Kit) -> None:
    _, session, _, hidden = open_form(kit, "bluesky")
    stranger = kit.api.client()  # another browser: no cookie
    answer = stranger.post("/v1/connect/form", data={**hidden, "identifier": "a", "app_password": "b"})
    assert answer.status_code == 403 and not kit.mocked.calls
    stranger.set_cookie(CSRF_COOKIE, "guessed", path="/v1/connect/form")
    answer = stranger.post("/v1/connect/form", data={**hidden, "identifier": "a", "app_password": "b"})
    assert answer.status_code == 403 and kit.session(session["id"])["status"] == "pending"


def test_a_form_link_with_a_bad_state_is_refused(kit: Kit) -> None:
    page = kit.api.client().get("/v1/connect/form", query_string={"state": "<img src=x>"})
    assert page.status_code == 400 and "<img" not in page.get_data(as_text=True)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_telegram_connects_a_channel_with_a_bot_token(kit: Kit) -> None:
    kit.mocked.post(f"{TG}/getMe", json={"ok": True, "result": {"id": 7000000001, "is_bot": True,
                                                                "first_name": "Acme Poster", "username": "acme_bot"}})
    kit.mocked.post(f"{TG}/getChat", json={"ok": True, "result": {"id": -1001234567890, "title": "Acme News",
                                                                  "username": "acmenews", "type": "channel"}})
    browser, _, _, hidden = open_form(kit, "telegram")
    answer = browser.post("/v1/connect/form", data={**hidden, "bot_token": "123456789:AAtoken", "chat_id": "@acmenews"})
    assert answer.status_code == 303
    [account] = kit.accounts()
    assert (account["handle"], account["display_name"]) == ("@acmenews", "Acme News")
    with kit.api.db.read() as conn:
        row = conn.execute(select(accounts)).one()._mapping
    assert kit.api.service.vault.open_json(row["credentials"]) == {"bot_token": "123456789:AAtoken",
                                                                   "chat_id": "-1001234567890"}


def test_telegram_with_a_revoked_token_is_refused(kit: Kit) -> None:
    kit.mocked.post(f"{TG}/getMe", status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    browser, _, _, hidden = open_form(kit, "telegram")
    answer = browser.post("/v1/connect/form", data={**hidden, "bot_token": "123456789:AAtoken", "chat_id": "@acmenews"})
    assert answer.status_code == 400 and "Unauthorized" in answer.get_data(as_text=True)
    assert "AAtoken" not in answer.get_data(as_text=True)


def test_the_done_page_escapes_what_it_shows(kit: Kit) -> None:
    page = kit.api.client().get("/v1/connect/done", query_string={"error": "x", "message": "<script>1</script>"})
    assert page.status_code == 200 and "&lt;script&gt;" in page.get_data(as_text=True)
