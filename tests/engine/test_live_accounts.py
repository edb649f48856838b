"""A live account end to end: connect (checked against the platform), credentials sealed, publish, expire."""

from __future__ import annotations

import json

import responses
from responses import matchers
from sqlalchemy import select

from postdodo_connect.storage.schema import accounts
from tests.engine.conftest import Engine

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
API = f"https://api.telegram.org/bot{TOKEN}"
CHANNEL = {"id": -1001234567890, "title": "My Channel", "username": "mychannel", "type": "channel"}
CREDENTIALS = {"bot_token": TOKEN, "chat_id": "@mychannel"}


def connect(engine: Engine, key: str) -> dict:  # type: ignore[type-arg]
    response = engine.api.call("POST", "/v1/accounts", key, json={"platform": "telegram", "credentials": CREDENTIALS})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


@responses.activate
def test_connect_publish_and_credentials_at_rest(engine: Engine) -> None:
    key = engine.api.new_key("live", test=False)
    responses.post(f"{API}/getChat", json={"ok": True, "result": CHANNEL},
                   match=[matchers.json_params_matcher({"chat_id": "@mychannel"})])
    account = connect(engine, key)
    assert (account["platform"], account["handle"], account["display_name"], account["mode"]) == (
        "telegram", "mychannel", "My Channel", "live")
    assert "credentials" not in account and TOKEN not in json.dumps(account)
    with engine.api.db.read() as conn:
        stored = conn.execute(select(accounts.c.credentials).where(accounts.c.id == account["id"])).scalar_one()
    assert TOKEN not in stored  # sealed with POSTDODO_SECRET_KEY, never in clear

    responses.post(f"{API}/sendMessage", json={"ok": True, "result": {
        "message_id": 16, "date": 1724234400, "chat": CHANNEL, "text": "Launch day!"}})
    post = engine.post(key, [account["id"]], caption="Launch day!")
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["permalink"], target["platform_post_id"]) == (
        "confirmed", "https://t.me/mychannel/16", "16")


@responses.activate
def test_refused_credentials_store_nothing(engine: Engine) -> None:
    key = engine.api.new_key("live", test=False)
    responses.post(f"{API}/getChat", status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    refused = engine.api.call("POST", "/v1/accounts", key, json={"platform": "telegram", "credentials": CREDENTIALS})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "invalid_credentials"
    missing = engine.api.call("POST", "/v1/accounts", key, json={"platform": "telegram",
                                                                 "credentials": {"bot_token": TOKEN}})
    assert missing.status_code == 400 and "chat_id" in missing.get_json()["error"]["message"]
    assert engine.api.call("GET", "/v1/accounts", key).get_json()["data"] == []


@responses.activate
def test_auth_failure_while_publishing_expires_the_account(engine: Engine) -> None:
    key = engine.api.new_key("live", test=False)
    responses.post(f"{API}/getChat", json={"ok": True, "result": CHANNEL})
    account = connect(engine, key)
    responses.post(f"{API}/sendMessage", status=401,
                   json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    post = engine.post(key, [account["id"]], caption="hello")
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"]) == ("failed", "auth_expired")
    assert engine.api.call("GET", "/v1/accounts", key).get_json()["data"][0]["status"] == "expired"
