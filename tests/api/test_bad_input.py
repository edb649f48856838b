"""Hostile input is a JSON 400 with a machine code and stores nothing, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from postdodo_connect.models import format_time
from postdodo_connect.storage.schema import accounts, posts, webhook_endpoints
from tests.support.factory import Api, make_api


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Api:
    """The API on either database."""
    url = f"sqlite:///{tmp_path / 'api.db'}" if request.param == "sqlite" else pg_url
    built = make_api(url)
    built.app.config["WEBHOOK_RESOLVER"] = lambda host, port: ["93.184.216.34"]  # a public address, no DNS
    return built


@pytest.fixture
def key(api: Api) -> str:
    return api.new_key("main")


def count(api: Api, table: Any) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def refused(response: Any, rule: str | None = None, field: str | None = None) -> dict[str, Any]:
    """Assert the JSON 400 error body; with `rule`, that one of its details names that rule."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error: dict[str, Any] = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    if rule is not None:
        assert any(d["rule"] == rule and (field is None or d["field"] == field) for d in error["details"]), error
    return error


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f"])
def test_control_characters_in_path_and_filters_are_400(api: Api, key: str, char: str) -> None:
    escaped = quote(char)
    for path, field in [(f"/v1/posts/p{escaped}x", "path"), (f"/v1/webhooks/w{escaped}", "path"),
                        (f"/v1/events?type=post.published{escaped}", "type"),
                        (f"/v1/events?post_id=p{escaped}", "post_id"), (f"/v1/posts?account_id={escaped}", "account_id"),
                        (f"/v1/posts?status={escaped}", "status")]:
        error = refused(api.call("GET", path, key), "control_characters", field)
        assert error["param"] == field
    refused(api.call("DELETE", f"/v1/posts/{escaped}", key), "control_characters", "path")


def test_nul_in_body_strings_is_400_and_nothing_is_stored(api: Api, key: str) -> None:
    account = api.sandbox_account(key)
    bodies: list[tuple[str, dict[str, Any], str]] = [
        ("/v1/posts", {"caption": "hi\x00there", "account_ids": [account["id"]]}, "caption"),
        ("/v1/posts", {"caption": "bell\x07", "account_ids": [account["id"]]}, "caption"),
        ("/v1/posts", {"caption": "hi", "account_ids": [account["id"] + "\x00"]}, "account_ids.0"),
        ("/v1/posts/validate", {"caption": "hi\x00", "account_ids": [account["id"]]}, "caption"),
        ("/v1/accounts", {"platform": "bluesky", "mode": "sandbox", "display_name": "Shop\x00"}, "display_name"),
        ("/v1/accounts", {"platform": "bluesky", "mode": "sandbox", "handle": "shop\nevil"}, "handle"),
        ("/v1/webhooks", {"url": "https://hooks.example.com/x", "description": "a\x00b"}, "description"),
    ]
    for path, body, field in bodies:
        refused(api.call("POST", path, key, json=body), "control_characters", field)
    assert (count(api, posts), count(api, accounts), count(api, webhook_endpoints)) == (0, 1, 0)


def test_a_caption_keeps_its_tabs_and_line_breaks(api: Api, key: str) -> None:
    account = api.sandbox_account(key)
    created = api.call("POST", "/v1/posts", key, json={"caption": "one\n\ttwo\r\nthree", "account_ids": [account["id"]]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["caption"] == "one\n\ttwo\r\nthree"


def test_a_cursor_of_one_list_sent_to_another_is_400(api: Api, key: str) -> None:
    account = api.sandbox_account(key)
    for n in range(3):
        body = {"caption": f"p{n}", "account_ids": [account["id"]], "scheduled_at": "2999-01-01T00:00:00Z"}
        assert api.call("POST", "/v1/posts", key, json=body).status_code == 201
    posts_cursor = api.call("GET", "/v1/posts?limit=1", key).get_json()["next_cursor"]
    events_cursor = api.call("GET", "/v1/events?limit=1", key).get_json()["next_cursor"]
    assert posts_cursor and events_cursor
    for path in (f"/v1/events?cursor={posts_cursor}", f"/v1/posts?cursor={events_cursor}"):
        error = refused(api.call("GET", path, key))
        assert error["param"] == "cursor"
        assert "another list" in error["message"]
    # each list still pages with its own cursor
    assert api.call("GET", f"/v1/posts?limit=1&cursor={posts_cursor}", key).status_code == 200
    assert api.call("GET", f"/v1/events?limit=1&cursor={events_cursor}", key).status_code == 200


def test_a_deeply_nested_body_with_an_idempotency_key_is_400_like_without(api: Api, key: str) -> None:
    deep = '{"caption": ' + "[" * 1000 + "]" * 1000 + ', "account_ids": ["a"]}'
    for headers in ({}, {"Idempotency-Key": "deep-1"}):
        refused(api.call("POST", "/v1/posts", key, data=deep, content_type="application/json", headers=headers))
    again = api.call("POST", "/v1/posts", key, data=deep, content_type="application/json",
                     headers={"Idempotency-Key": "deep-1"})
    assert again.status_code == 400 and again.headers.get("Idempotent-Replayed") == "true"
    assert count(api, posts) == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_a_scheduled_at_outside_the_calendar_in_utc_is_400_on_create_and_validate(api: Api, key: str,
                                                                                  when: str) -> None:
    account = api.sandbox_account(key)
    body = {"caption": "x", "account_ids": [account["id"]], "scheduled_at": when}
    for path in ("/v1/posts", "/v1/posts/validate"):
        error = refused(api.call("POST", path, key, json=body), "datetime_out_of_range", "scheduled_at")
        assert "out of range" in error["message"]
    assert count(api, posts) == 0


def test_year_one_is_refused_as_past_on_both_and_printed_with_four_digits(api: Api, key: str) -> None:
    account = api.sandbox_account(key)
    body = {"caption": "x", "account_ids": [account["id"]], "scheduled_at": "0001-01-01T00:00:00Z"}
    created = api.call("POST", "/v1/posts", key, json=body)
    error = refused(created, "post.scheduled_at.past", "scheduled_at")
    assert "0001-01-01T00:00:00Z" in error["message"]
    validated = api.call("POST", "/v1/posts/validate", key, json=body).get_json()
    assert validated["valid"] is False
    assert [d["rule"] for d in validated["details"]] == ["post.scheduled_at.past"]
    assert count(api, posts) == 0


def test_format_time_pads_the_year() -> None:
    from datetime import UTC, datetime

    assert format_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert format_time(datetime(999, 3, 4, 5, 6, 7, 8000, tzinfo=UTC)) == "0999-03-04T05:06:07.008Z"


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/a.jpg", "http://2130706433/a.jpg",
    "http://127.0.0.1/a.jpg", "https://user:pw@cdn.example.com/a.jpg", "https://cdn.example.com/a b.jpg",
    "https://cdn.example.com/a.jpg\r\nX-Evil: 1", "http://metadata.google.internal/a.jpg", "http://0x7f.1/a.jpg",
])
def test_media_urls_get_the_webhook_url_rules_at_create_and_validate(api: Api, key: str, url: str) -> None:
    account = api.sandbox_account(key, "instagram")
    body = {"caption": "x", "account_ids": [account["id"]], "media": [{"type": "image", "url": url}]}
    error = refused(api.call("POST", "/v1/posts", key, json=body), "post.media.url_not_allowed", "media.0.url")
    assert "refused URL" in error["message"]
    validated = api.call("POST", "/v1/posts/validate", key, json=body).get_json()
    assert "post.media.url_not_allowed" in [d["rule"] for d in validated["details"]]
    assert count(api, posts) == 0
    assert "pw" not in str(error)


def test_a_public_media_host_name_is_accepted_without_a_lookup(api: Api, key: str) -> None:
    account = api.sandbox_account(key, "instagram")
    body = {"caption": "x", "account_ids": [account["id"]],
            "media": [{"type": "image", "url": "https://cdn.example.invalid/a.jpg"}]}
    created = api.call("POST", "/v1/posts", key, json=body)
    assert created.status_code == 201, created.get_json()


def test_private_media_hosts_follow_the_allow_private_setting(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'private.db'}", webhook_allow_private=True)
    key = api.new_key("dev")
    account = api.sandbox_account(key, "instagram")
    body = {"caption": "x", "account_ids": [account["id"]], "media": [{"url": "http://127.0.0.1:8000/a.jpg"}]}
    assert api.call("POST", "/v1/posts", key, json=body).status_code == 201
    body["media"] = [{"url": "http://169.254.169.254/a.jpg"}]  # metadata: never
    refused(api.call("POST", "/v1/posts", key, json=body), "post.media.url_not_allowed")


@pytest.mark.parametrize("when", [1893456000, 1893456000.5, "1893456000", True])
def test_scheduled_at_must_be_an_iso_time_not_a_unix_timestamp(api: Api, key: str, when: Any) -> None:
    account = api.sandbox_account(key)
    body = {"caption": "x", "account_ids": [account["id"]], "scheduled_at": when}
    error = refused(api.call("POST", "/v1/posts", key, json=body), "datetime_format", "scheduled_at")
    assert "ISO 8601" in error["message"]
    assert count(api, posts) == 0


def test_types_are_strict_where_the_docs_are(api: Api, key: str) -> None:
    endpoint = api.call("POST", "/v1/webhooks", key, json={"url": "https://hooks.example.com/x"})
    assert endpoint.status_code == 201, endpoint.get_json()
    endpoint_id = endpoint.get_json()["id"]
    for flag in (0, 1, "true", "yes"):
        refused(api.call("POST", f"/v1/webhooks/{endpoint_id}/rotate", key, json={"expire_now": flag}),
                "bool_type", "expire_now")
    assert api.call("POST", f"/v1/webhooks/{endpoint_id}/rotate", key, json={"expire_now": True}).status_code == 200
    refused(api.call("POST", "/v1/posts", key, json={"caption": 5, "account_ids": ["a"]}), "string_type", "caption")
    refused(api.call("POST", "/v1/accounts", key, json={"platform": "bluesky", "mode": "sandbox",
                                                       "sandbox": {"fault_attempts": "2"}}),
            "int_type", "sandbox.fault_attempts")
