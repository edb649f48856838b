"""Connecting and disconnecting accounts."""

from __future__ import annotations

from tests.support.factory import Api


def test_sandbox_account_lifecycle(api: Api, key: str) -> None:
    acct = api.sandbox_account(key, "instagram", handle="shop", display_name="The Shop")
    assert acct["id"].startswith("acct_")
    assert (acct["platform"], acct["handle"], acct["display_name"], acct["mode"], acct["status"]) == (
        "instagram", "shop", "The Shop", "sandbox", "active")
    assert "credentials" not in acct
    listed = api.call("GET", "/v1/accounts", key).get_json()["data"]
    assert [a["id"] for a in listed] == [acct["id"]]
    gone = api.call("DELETE", f"/v1/accounts/{acct['id']}", key)
    assert gone.status_code == 200 and gone.get_json()["status"] == "disconnected"
    assert api.call("GET", "/v1/accounts", key).get_json()["data"] == []
    post = api.call("POST", "/v1/posts", key, json={"caption": "x", "account_ids": [acct["id"]]})
    assert post.status_code == 400


def test_account_input_is_checked(api: Api, key: str) -> None:
    cases = [
        ({"platform": "myspace", "mode": "sandbox"}, "platform"),
        ({"platform": "bluesky", "mode": "live", "credentials": {"a": "b"}}, "mode"),
        ({"platform": "bluesky", "mode": "sandbox", "handle": "bad handle!"}, "handle"),
        ({"platform": "bluesky", "mode": "sandbox", "sandbox": {"timeout_rate": 2}}, "sandbox.timeout_rate"),
        ({"platform": "telegram", "credentials": {"bot_token": "1:x", "chat_id": "@c"}}, "credentials"),
    ]
    for body, param in cases:
        response = api.call("POST", "/v1/accounts", key, json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["param"] == param, body
    live = api.new_key("live", test=False)
    response = api.call("POST", "/v1/accounts", live, json={"platform": "bluesky", "mode": "sandbox"})
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "mode"
    response = api.call("POST", "/v1/accounts", live, json={"platform": "bluesky"})
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "credentials"
    assert api.call("GET", "/v1/accounts", key).get_json()["data"] == []
