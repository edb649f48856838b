"""Creating, reading, listing, validating and canceling posts through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.factory import Api


def future(minutes: int = 60) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_create_scheduled_post_matches_reference_shape(api: Api, key: str) -> None:
    ig = api.sandbox_account(key, "instagram")
    bsky = api.sandbox_account(key, "bluesky")
    at = future()
    body = {"caption": "Spring launch is live. Link in bio.", "account_ids": [ig["id"], bsky["id"]],
            "scheduled_at": at, "media": [{"type": "image", "url": "https://cdn.example.com/launch.jpg"}]}
    response = api.call("POST", "/v1/posts", key, json=body)
    assert response.status_code == 201
    post = response.get_json()
    assert post["id"].startswith("post_")
    assert post["status"] == "scheduled"
    assert post["scheduled_at"] == at
    assert post["caption"] == body["caption"]
    assert post["created_at"].endswith("Z")
    assert [(t["account_id"], t["platform"], t["status"]) for t in post["targets"]] == [
        (ig["id"], "instagram", "scheduled"), (bsky["id"], "bluesky", "scheduled")]
    again = api.call("GET", f"/v1/posts/{post['id']}", key).get_json()
    assert again["targets"] == post["targets"]


def test_publish_now_post_starts_publishing_and_wakes_the_engine(api: Api, key: str) -> None:
    kicked: list[bool] = []
    api.service.kick = lambda: kicked.append(True)
    acct = api.sandbox_account(key)
    response = api.call("POST", "/v1/posts", key, json={"caption": "now", "account_ids": [acct["id"]]})
    assert response.status_code == 201
    assert response.get_json()["status"] == "publishing"
    assert response.get_json()["scheduled_at"] is None
    assert kicked == [True]


def test_offsetless_past_and_malformed_times_are_refused(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    for when, rule in (("2030-07-01T14:00:00", "timezone_aware"), ("2020-01-01T00:00:00Z", "post.scheduled_at.past"),
                       ("tomorrow", "datetime_format")):
        response = api.call("POST", "/v1/posts", key,
                            json={"caption": "x", "account_ids": [acct["id"]], "scheduled_at": when})
        assert response.status_code == 400, when
        error = response.get_json()["error"]
        assert error["code"] == "invalid_request"
        assert error["param"] == "scheduled_at"
        assert rule in {d["rule"] for d in error["details"]}
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []


def test_preflight_refuses_with_one_detail_per_problem(api: Api, key: str) -> None:
    ig = api.sandbox_account(key, "instagram")
    bsky = api.sandbox_account(key, "bluesky")
    x = api.sandbox_account(key, "x")
    caption = "🙂" * 301  # 301 graphemes: over Bluesky's 300; 602 weighted on X (limit 280)
    response = api.call("POST", "/v1/posts", key, json={"caption": caption, "account_ids": [ig["id"], bsky["id"], x["id"]]})
    assert response.status_code == 400
    rules = {(d["platform"], d["rule"]) for d in response.get_json()["error"]["details"]}
    assert ("instagram", "instagram.media.required") in rules
    assert ("bluesky", "bluesky.caption.max_graphemes") in rules
    assert ("x", "x.caption.max_weighted_length") in rules
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []


def test_validate_reports_problems_and_creates_nothing(api: Api, key: str) -> None:
    ig = api.sandbox_account(key, "instagram")
    response = api.call("POST", "/v1/posts/validate", key,
                        json={"caption": "", "account_ids": [ig["id"], "acct_nope", ig["id"]]})
    assert response.status_code == 200
    result = response.get_json()
    assert result["valid"] is False
    rules = {d["rule"] for d in result["details"]}
    assert {"post.content.required", "post.account_ids.unknown", "post.account_ids.duplicate",
            "instagram.media.required"} <= rules
    ok = api.call("POST", "/v1/posts/validate", key, json={"caption": "fine", "account_ids": [api.sandbox_account(key)["id"]]})
    assert ok.get_json() == {"valid": True, "details": []}
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []


def test_bad_bodies_are_refused_with_clear_errors(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    cases = [
        ({"caption": "x", "account_ids": []}, 400, "account_ids"),
        ({"caption": "x", "account_ids": ["acct_other"]}, 400, "account_ids"),
        ({"caption": "", "account_ids": [acct["id"]]}, 400, "caption"),
        ({"caption": "x", "account_ids": [acct["id"]] * 101}, 400, "account_ids"),
        ({"caption": "x", "account_ids": [acct["id"]], "media": [{"type": "image", "url": "ftp://a/b.jpg"}]}, 400, "media.0.url"),
        ({"caption": "x", "account_ids": [acct["id"]], "schedule_at": future()}, 400, "schedule_at"),
        ({"caption": 5, "account_ids": [acct["id"]]}, 400, "caption"),
    ]
    for body, status, param in cases:
        response = api.call("POST", "/v1/posts", key, json=body)
        assert response.status_code == status, body
        assert response.get_json()["error"]["param"] == param, body
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []


def test_cancel_scheduled_post_then_conflict(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    post = api.call("POST", "/v1/posts", key, json={"caption": "x", "account_ids": [acct["id"]],
                                                    "scheduled_at": future()}).get_json()
    canceled = api.call("DELETE", f"/v1/posts/{post['id']}", key)
    assert canceled.status_code == 200
    assert canceled.get_json()["status"] == "canceled"
    assert canceled.get_json()["targets"][0]["status"] == "canceled"
    again = api.call("DELETE", f"/v1/posts/{post['id']}", key)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


def test_list_pages_with_signed_cursor_and_filters(api: Api, key: str) -> None:
    a, b = api.sandbox_account(key), api.sandbox_account(key, "mastodon")
    made = [api.call("POST", "/v1/posts", key, json={"caption": f"p{i}", "account_ids": [a["id"] if i % 2 else b["id"]],
                                                      "scheduled_at": future()}).get_json()["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        page = api.call("GET", "/v1/posts?limit=3" + (f"&cursor={cursor}" if cursor else ""), key).get_json()
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))
    only_a = api.call("GET", f"/v1/posts?account_id={a['id']}", key).get_json()["data"]
    assert {p["id"] for p in only_a} == {made[i] for i in range(7) if i % 2}
    assert api.call("GET", "/v1/posts?status=published", key).get_json()["data"] == []
    tampered = api.call("GET", f"/v1/posts?cursor={cursor}x", key)
    assert tampered.status_code == 400 and tampered.get_json()["error"]["param"] == "cursor"
    for bad in ("limit=0", "limit=101", "limit=abc", "status=nope"):
        assert api.call("GET", f"/v1/posts?{bad}", key).status_code == 400, bad


def test_events_are_listed_in_order_with_a_cursor(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    posts = [api.call("POST", "/v1/posts", key, json={"caption": f"e{i}", "account_ids": [acct["id"]],
                                                       "scheduled_at": future()}).get_json() for i in range(3)]
    api.call("DELETE", f"/v1/posts/{posts[1]['id']}", key)
    page = api.call("GET", "/v1/events?limit=2", key).get_json()
    assert [e["event"] for e in page["data"]] == ["post.scheduled", "post.scheduled"] and page["has_more"]
    rest = api.call("GET", f"/v1/events?cursor={page['next_cursor']}", key).get_json()
    assert [e["event"] for e in rest["data"]] == ["post.scheduled", "post.canceled"] and not rest["has_more"]
    assert [e["data"]["post_id"] for e in page["data"] + rest["data"]] == [p["id"] for p in posts] + [posts[1]["id"]]
    only = api.call("GET", "/v1/events?type=post.canceled", key).get_json()["data"]
    assert len(only) == 1 and only[0]["id"].startswith("evt_")
    assert api.call("GET", f"/v1/events/{only[0]['id']}", key).get_json() == only[0]
    assert api.call("GET", f"/v1/events?post_id={posts[0]['id']}", key).get_json()["data"][0]["event"] == "post.scheduled"
    assert api.call("GET", "/v1/events/evt_nope", key).status_code == 404
    assert api.call("GET", "/v1/events?cursor=forged", key).status_code == 400
    other = api.new_key("other")
    assert api.call("GET", f"/v1/events/{only[0]['id']}", other).status_code == 404
