"""`thread` on POST /v1/posts, /validate and PATCH: per-item preflight with the item's index, limits, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from postdodo_connect.storage.schema import posts
from tests.support.factory import Api, make_api


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Api:
    return make_api(f"sqlite:///{tmp_path / 't.db'}" if request.param == "sqlite" else pg_url)


@pytest.fixture
def key(api: Api) -> str:
    return api.new_key()


def later(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_posts(api: Api) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(posts)).scalar_one())


def refused(api: Api, key: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    response = api.call("POST", "/v1/posts", key, json=body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    validated = api.call("POST", "/v1/posts/validate", key, json=body).get_json()
    if "details" in validated:  # a body the model itself refuses is a 400 there too
        assert validated["valid"] is False
    return [(d["field"], d["rule"]) for d in error["details"]]


def test_platforms_without_threads_refuse_the_field_and_nothing_is_stored(api: Api, key: str) -> None:
    linkedin = api.sandbox_account(key, "linkedin")
    masto = api.sandbox_account(key, "mastodon")
    body = {"caption": "1/2", "account_ids": [linkedin["id"], masto["id"]], "thread": [{"caption": "2/2"}]}
    assert refused(api, key, body) == [("thread", "linkedin.thread.unsupported")]
    # a thread only where the platform has them is fine; an empty one opts a platform out
    body["platforms"] = {"linkedin": {"thread": []}}
    response = api.call("POST", "/v1/posts", key, json=body)
    assert response.status_code == 201, response.get_json()
    by_platform = {t["platform"]: t for t in response.get_json()["targets"]}
    assert "thread" not in by_platform["linkedin"] and by_platform["linkedin"]["content"]["thread"] == []
    assert by_platform["mastodon"]["thread"] == {"status": "pending", "published": 0, "total": 1,
                                                 "items": [{"status": "pending"}]}
    assert stored_posts(api) == 1


def test_each_item_meets_the_platform_rules_with_its_index(api: Api, key: str) -> None:
    x = api.sandbox_account(key, "x")
    body = {"caption": "1/4", "account_ids": [x["id"]], "thread": [
        {"caption": "fine"}, {"caption": "a" * 281}, {"caption": " "},
        {"caption": "five", "media": [{"url": f"https://cdn.example.com/{n}.jpg", "alt": "b" * 1001} for n in range(5)]}]}
    assert refused(api, key, body) == [
        ("thread[1].caption", "x.caption.max_weighted_length"), ("thread[2]", "post.thread.item_empty"),
        ("thread[3].media", "x.media.max_count"), *((f"thread[3].media[{n}].alt", "x.media.alt_max_length")
                                                    for n in range(5))]
    assert stored_posts(api) == 0


def test_too_many_items_and_unknown_item_fields_are_refused(api: Api, key: str) -> None:
    masto = api.sandbox_account(key, "mastodon")
    body: dict[str, Any] = {"caption": "1", "account_ids": [masto["id"]],
                            "thread": [{"caption": str(n)} for n in range(26)]}
    assert refused(api, key, body) == [("thread", "too_long")]
    body["thread"] = [{"caption": "2", "alt": "typo"}]
    assert refused(api, key, body) == [("thread.0.alt", "extra_forbidden")]
    body["thread"] = [{"caption": str(n)} for n in range(25)]
    assert api.call("POST", "/v1/posts", key, json=body).status_code == 201


def test_media_urls_of_items_are_checked(api: Api, key: str) -> None:
    masto = api.sandbox_account(key, "mastodon")
    body = {"caption": "1", "account_ids": [masto["id"]],
            "thread": [{"caption": "2", "media": [{"url": "http://127.0.0.1/a.jpg"}]}]}
    assert refused(api, key, body) == [("thread[0].media.0.url", "post.media.url_not_allowed")]


def test_patch_replaces_the_thread_while_scheduled(api: Api, key: str) -> None:
    bsky = api.sandbox_account(key, "bluesky")
    created = api.call("POST", "/v1/posts", key, json={"caption": "1/2", "account_ids": [bsky["id"]],
                                                       "scheduled_at": later(), "thread": [{"caption": "2/2"}]})
    assert created.status_code == 201
    post_id = created.get_json()["id"]
    change = {"thread": [{"caption": "2/3"}, {"caption": "3/3"}]}
    response = api.call("PATCH", f"/v1/posts/{post_id}", key, json=change)
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert edited["thread"] == [{"caption": "2/3", "media": []}, {"caption": "3/3", "media": []}]
    assert edited["targets"][0]["thread"]["total"] == 2
    assert [i["caption"] for i in edited["targets"][0]["content"]["thread"]] == ["2/3", "3/3"]
    # a caption edit keeps the thread; a refused thread edit changes nothing
    assert api.call("PATCH", f"/v1/posts/{post_id}", key, json={"caption": "1/3"}).get_json()["thread"] == edited["thread"]
    bad = api.call("PATCH", f"/v1/posts/{post_id}", key, json={"thread": [{"caption": "é" * 301}]})
    assert bad.status_code == 400
    assert [d["rule"] for d in bad.get_json()["error"]["details"]] == ["bluesky.caption.max_graphemes"]
    assert api.call("GET", f"/v1/posts/{post_id}", key).get_json()["thread"] == edited["thread"]
    cleared = api.call("PATCH", f"/v1/posts/{post_id}", key, json={"thread": None}).get_json()
    assert cleared["thread"] is None and "thread" not in cleared["targets"][0]
