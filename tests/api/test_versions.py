"""Per-platform and per-account versions, typed options and alt text: preflight per target, stored, shown per target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.factory import Api, make_api


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Api:
    return make_api(f"sqlite:///{tmp_path / 'v.db'}" if request.param == "sqlite" else pg_url)


@pytest.fixture
def key(api: Api) -> str:
    return api.new_key()


IMAGE = "https://cdn.example.com/launch.jpg"


def by_account(post: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["account_id"]: t["content"] for t in post["targets"]}


def test_account_version_beats_platform_version_beats_the_base(api: Api, key: str) -> None:
    first, second = api.sandbox_account(key, "mastodon"), api.sandbox_account(key, "mastodon")
    bsky = api.sandbox_account(key, "bluesky")
    body = {"caption": "Base caption", "account_ids": [first["id"], second["id"], bsky["id"]],
            "media": [{"url": IMAGE, "alt": "A dodo"}],
            "platforms": {"mastodon": {"caption": "Fediverse caption", "options": {"visibility": "unlisted", "language": "en"}}},
            "accounts": {second["id"]: {"caption": "Second account", "media": [], "options": {"visibility": "private"}}}}
    response = api.call("POST", "/v1/posts", key, json=body)
    assert response.status_code == 201, response.get_json()
    content = by_account(response.get_json())
    image = {"type": "image", "url": IMAGE, "alt": "A dodo"}
    assert content[first["id"]] == {"caption": "Fediverse caption", "media": [image], "first_comment": None, "thread": [],
                                    "options": {"visibility": "unlisted", "spoiler_text": "", "language": "en",
                                                "sensitive": False}}
    assert content[second["id"]] == {"caption": "Second account", "media": [], "first_comment": None, "thread": [],
                                     "options": {"visibility": "private", "spoiler_text": "", "language": "en",
                                                 "sensitive": False}}
    assert content[bsky["id"]] == {"caption": "Base caption", "media": [image], "options": {"langs": []},
                                   "first_comment": None, "thread": []}
    post = api.call("GET", f"/v1/posts/{response.get_json()['id']}", key).get_json()
    assert by_account(post) == content
    assert post["platforms"]["mastodon"]["caption"] == "Fediverse caption"
    assert post["accounts"][second["id"]]["options"] == {"visibility": "private"}


def test_preflight_runs_on_each_targets_own_caption(api: Api, key: str) -> None:
    x, bsky = api.sandbox_account(key, "x"), api.sandbox_account(key, "bluesky")
    long = "a" * 290  # too long for X (280) and Bluesky (300 is fine)
    refused = api.call("POST", "/v1/posts/validate", key, json={"caption": long, "account_ids": [x["id"], bsky["id"]]})
    assert [d["rule"] for d in refused.get_json()["details"]] == ["x.caption.max_weighted_length"]
    fixed = {"caption": long, "account_ids": [x["id"], bsky["id"]], "platforms": {"x": {"caption": "short for X"}}}
    assert api.call("POST", "/v1/posts/validate", key, json=fixed).get_json() == {"valid": True, "details": []}


@pytest.mark.parametrize(("version", "rule", "field"), [
    ({"options": {"visibilty": "public"}}, "mastodon.options.unknown", "platforms.mastodon.options.visibilty"),
    ({"options": {"visibility": "everyone"}}, "mastodon.options.visibility", "platforms.mastodon.options.visibility"),
    ({"options": {"sensitive": "yes"}}, "mastodon.options.sensitive", "platforms.mastodon.options.sensitive"),
    ({"media": [{"url": IMAGE, "alt": "a" * 1501}]}, "mastodon.media.alt_max_length", "media[0].alt"),
    ({"caption": "", "media": []}, "post.content.required", "caption"),
])
def test_bad_version_is_a_400_with_a_rule_id_and_nothing_stored(api: Api, key: str, version: dict[str, Any],
                                                                rule: str, field: str) -> None:
    acct = api.sandbox_account(key, "mastodon")
    response = api.call("POST", "/v1/posts", key, json={"caption": "hi", "account_ids": [acct["id"]],
                                                        "platforms": {"mastodon": version}})
    assert response.status_code == 400
    details = response.get_json()["error"]["details"]
    assert [(d["rule"], d["field"]) for d in details] == [(rule, field)]
    assert api.call("GET", "/v1/posts", key).get_json()["data"] == []


@pytest.mark.parametrize(("body", "rule"), [
    ({"platforms": {"myspace": {"caption": "x"}}}, "post.platforms.unknown"),
    ({"platforms": {"x": {"caption": "x"}}}, "post.platforms.untargeted"),
    ({"accounts": {"acct_elsewhere": {"caption": "x"}}}, "post.accounts.untargeted"),
])
def test_a_version_for_nothing_the_post_targets_is_refused(api: Api, key: str, body: dict[str, Any], rule: str) -> None:
    acct = api.sandbox_account(key, "mastodon")
    response = api.call("POST", "/v1/posts", key, json={"caption": "hi", "account_ids": [acct["id"]], **body})
    assert response.status_code == 400
    assert [d["rule"] for d in response.get_json()["error"]["details"]] == [rule]


def test_an_unknown_field_in_a_version_is_refused(api: Api, key: str) -> None:
    acct = api.sandbox_account(key, "mastodon")
    response = api.call("POST", "/v1/posts", key, json={"caption": "hi", "account_ids": [acct["id"]],
                                                        "platforms": {"mastodon": {"captoin": "typo"}}})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["field"] == "platforms.mastodon.captoin"


def test_openapi_describes_one_options_schema_per_platform(api: Api) -> None:
    from postdodo_connect import platforms

    schemas = api.call("GET", "/v1/openapi.json").get_json()["components"]["schemas"]
    by_platform = schemas["PostCreate"]["properties"]["platforms"]["properties"]
    assert sorted(by_platform) == sorted(platforms.NAMES)
    assert by_platform["mastodon"]["allOf"][1]["properties"]["options"] == {
        "anyOf": [{"$ref": "#/components/schemas/MastodonOptions"}, {"type": "null"}]}
    assert schemas["MastodonOptions"]["additionalProperties"] is False
    assert schemas["TikTokOptions"]["properties"]["privacy_level"]["anyOf"][0]["enum"][0] == "PUBLIC_TO_EVERYONE"
    assert "alt" in schemas["Media"]["properties"]
