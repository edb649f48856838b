"""Every error is the JSON error body: auth, routing, size, content type, crashes, other workspaces."""

from __future__ import annotations

import logging

import pytest

from tests.support.factory import Api


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    return dict(error)


def test_missing_and_invalid_keys_are_401(api: Api) -> None:
    assert_error(api.call("GET", "/v1/accounts"), 401, "unauthorized")
    assert_error(api.call("GET", "/v1/accounts", "pd_live_nope"), 401, "unauthorized")
    assert_error(api.call("GET", "/v1/accounts", headers={"Authorization": "Basic abc"}), 401, "unauthorized")


def test_unknown_route_method_size_and_type(api: Api, key: str) -> None:
    assert_error(api.call("GET", "/v1/nothing", key), 404, "not_found")
    assert_error(api.call("GET", "/nothing"), 404, "not_found")
    error = api.call("PUT", "/v1/posts", key)
    assert_error(error, 405, "method_not_allowed")
    assert "POST" in error.headers["Allow"]
    big = b'{"caption": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    assert_error(api.call("POST", "/v1/posts", key, data=big, content_type="application/json"), 413, "payload_too_large")
    assert_error(api.call("POST", "/v1/posts", key, data="caption=x", content_type="application/x-www-form-urlencoded"),
                 415, "unsupported_media_type")
    assert_error(api.call("POST", "/v1/posts", key, data="{not json", content_type="application/json"), 400,
                 "invalid_request")
    assert_error(api.call("POST", "/v1/posts", key, data="[1, 2]", content_type="application/json"), 400,
                 "invalid_request")


def test_crash_is_a_json_500_without_traceback(api: Api, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from postdodo_connect.api import posts

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(posts.store, "list_posts", boom)
    api.app.config["PROPAGATE_EXCEPTIONS"] = False
    api.app.testing = False
    response = api.call("GET", "/v1/posts", key)
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in error["message"]


def test_other_workspace_ids_answer_404(api: Api, key: str) -> None:
    other = api.new_key("other")
    acct = api.sandbox_account(other)
    post = api.call("POST", "/v1/posts", other, json={"caption": "x", "account_ids": [acct["id"]],
                                                      "scheduled_at": "2099-01-01T00:00:00Z"}).get_json()
    hook = api.call("POST", "/v1/webhooks", other, json={"url": "https://93.184.216.34/hook"}).get_json()
    assert_error(api.call("GET", f"/v1/posts/{post['id']}", key), 404, "not_found")
    assert_error(api.call("DELETE", f"/v1/posts/{post['id']}", key), 404, "not_found")
    assert_error(api.call("DELETE", f"/v1/accounts/{acct['id']}", key), 404, "not_found")
    assert_error(api.call("GET", f"/v1/webhooks/{hook['id']}", key), 404, "not_found")
    assert_error(api.call("DELETE", f"/v1/webhooks/{hook['id']}", key), 404, "not_found")
    refused = api.call("POST", "/v1/posts", key, json={"caption": "x", "account_ids": [acct["id"]]})
    assert_error(refused, 400, "invalid_request")
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []
    assert api.call("GET", "/v1/accounts", key).get_json()["data"] == []


def test_request_id_is_echoed_when_sane(api: Api, key: str) -> None:
    response = api.call("GET", "/v1/accounts", key, headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"


@pytest.mark.parametrize("incoming", ["x" * 65, "tab\there", "café", ""])
def test_an_insane_request_id_is_replaced_by_ours(api: Api, key: str, incoming: str) -> None:
    response = api.call("GET", "/v1/nothing", key, headers={"X-Request-Id": incoming})
    ours = response.headers["X-Request-Id"]
    assert ours.startswith("req_") and len(ours) == 20
    assert response.get_json()["error"]["request_id"] == ours


def test_the_access_log_names_each_request_but_not_its_query(api: Api, key: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    api.app.config["ACCESS_LOG"] = True
    with caplog.at_level(logging.INFO, logger="postdodo.api"):
        ok = api.call("GET", "/v1/accounts?limit=5", key, headers={"X-Request-Id": "trace-1"})
        refused = api.call("GET", "/v1/posts?cursor=sekrit-cursor", key)
        unknown = api.call("GET", "/nothing?token=sekrit-token")
    lines = [r.getMessage() for r in caplog.records if r.name == "postdodo.api"]
    assert [line.split()[:3] for line in lines] == [["GET", "/v1/accounts", "200"], ["GET", "/v1/posts", "400"],
                                                    ["GET", "/nothing", "404"]]
    assert [line.split()[-1] for line in lines] == ["trace-1", refused.headers["X-Request-Id"],
                                                    unknown.headers["X-Request-Id"]]
    assert ok.status_code == 200 and "sekrit" not in caplog.text


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"caption": "x", "account_ids": ["acct_1"], "bogus": 1}, "bogus", "is not a field of this request"),
    ({"caption": "x", "account_ids": []}, "account_ids", "needs at least 1 item(s)"),
    ({"caption": 5, "account_ids": ["acct_1"]}, "caption", "must be a string"),
])
def test_refusals_speak_plainly_not_in_validator_jargon(api: Api, key: str, body: dict, field: str,
                                                         message: str) -> None:
    error = assert_error(api.call("POST", "/v1/posts", key, json=body), 400, "invalid_request")
    assert error["message"].startswith(f"{field}: {message}") and error["param"] == field
    texts = [error["message"], *(d["message"] for d in error["details"])]
    assert not any(jargon in text for text in texts
                   for jargon in ("Input should", "Extra inputs", "after validation", "Field required"))
