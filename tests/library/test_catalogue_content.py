"""create_post of the catalogue with alt texts, per-platform captions, a first comment and a thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from postdodo_connect import Client
from postdodo_connect.automation import action
from postdodo_connect.automation.catalogue import PLATFORMS, platform_versions, split_lines

MEDIA = "https://picsum.photos/id/237/1080/1080"
BASE = "http://api.test"


def later(hours: float = 4) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_split_lines_and_platform_versions() -> None:
    assert split_lines("first\n\n  second, with a comma \n") == ["first", "second, with a comma"]
    assert split_lines(["one two", " ", None, "three"]) == ["one two", "three"]
    assert split_lines(None) == [] and split_lines("") == []
    assert platform_versions({" X ": "short", "bluesky": "longer", "mastodon": "  "}) == {
        "x": {"caption": "short"}, "bluesky": {"caption": "longer"}}
    assert platform_versions({}) is None and platform_versions(None) is None
    with pytest.raises(ValueError, match="'myspace' is not a platform"):
        platform_versions({"myspace": "hi"})
    assert {"x", "bluesky", "instagram", "mastodon"} <= set(PLATFORMS)


def test_create_post_with_alt_text_captions_and_first_comment(client: Client, accounts: dict[str, str]) -> None:
    when = later()
    created = action("create_post").run(
        client, caption="Base caption", account_ids=[accounts["x"], accounts["bluesky"], accounts["mastodon"]],
        scheduled_at=when, media=f"{MEDIA} https://cdn.test/b.png", media_alt="A black puppy\n",
        platform_captions={"x": "Short for X", "bluesky": "Longer for Bluesky", "mastodon": ""},
        first_comment="Menu: https://example.com/menu", thread=None, idempotency_key="")
    assert created["media"] == [{"type": "image", "url": MEDIA, "alt": "A black puppy"},
                                {"type": "image", "url": "https://cdn.test/b.png", "alt": None}]
    assert created["platforms"] == {"x": {"caption": "Short for X", "media": None, "options": None,
                                          "first_comment": None, "thread": None},
                                    "bluesky": {"caption": "Longer for Bluesky", "media": None, "options": None,
                                                "first_comment": None, "thread": None}}
    assert created["first_comment"] == "Menu: https://example.com/menu"
    by_platform = {t["platform"]: t["content"] for t in created["targets"]}
    assert by_platform["x"]["caption"] == "Short for X"
    assert by_platform["bluesky"]["caption"] == "Longer for Bluesky"
    assert by_platform["mastodon"]["caption"] == "Base caption"
    assert by_platform["mastodon"]["first_comment"] == "Menu: https://example.com/menu"
    assert by_platform["bluesky"]["media"][0]["alt"] == "A black puppy"
    client.posts.cancel(created["id"])


def test_a_thread_from_the_catalogue_reaches_the_server(client: Client, accounts: dict[str, str]) -> None:
    created = action("create_post").run(client, caption="1/ Spring menu", account_ids=accounts["mastodon"],
                                        scheduled_at=later(), thread="2/ Asparagus\n3/ Rhubarb")
    target = created["targets"][0]
    assert [item["caption"] for item in target["content"]["thread"]] == ["2/ Asparagus", "3/ Rhubarb"]
    client.posts.cancel(created["id"])


def test_more_alt_texts_than_media_is_refused_before_any_call(client: Client, accounts: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="2 alt texts for 1 media URLs"):
        action("create_post").run(client, caption="hi", account_ids=accounts["x"], media=MEDIA,
                                  media_alt=["one", "two"])


def test_a_caption_for_a_platform_the_post_skips_is_the_apis_400(client: Client, accounts: dict[str, str]) -> None:
    from postdodo_connect import InvalidRequestError

    with pytest.raises(InvalidRequestError) as info:
        action("create_post").run(client, caption="hi", account_ids=accounts["x"], scheduled_at=later(),
                                  platform_captions={"mastodon": "nobody reads this"})
    assert "mastodon" in json.dumps(info.value.details), info.value.details


@responses.activate
def test_thread_and_everything_else_in_the_request_body() -> None:
    """The exact body create_post sends (thread goes out as items of {caption})."""
    sent: list[tuple[dict[str, Any], str | None]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append((json.loads(request.body), request.headers.get("Idempotency-Key")))
        return 201, {}, json.dumps(action("create_post").sample)

    responses.add_callback(responses.POST, f"{BASE}/v1/posts", callback=answer)
    client = Client("pd_test_abc", base_url=BASE)
    action("create_post").run(
        client, caption="1/ Spring is here", account_ids="acct_x, acct_bs", scheduled_at="2030-04-01T09:00:00Z",
        media=["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"], media_alt=["", "Second picture"],
        platform_captions={"bluesky": "Spring!"}, first_comment="More soon",
        thread="2/ Asparagus, from down the road\n\n3/ Rhubarb, from the garden", idempotency_key="sheet-row-7")
    assert sent == [({
        "caption": "1/ Spring is here", "account_ids": ["acct_x", "acct_bs"], "scheduled_at": "2030-04-01T09:00:00Z",
        "media": [{"type": "image", "url": "https://cdn.test/a.jpg"},
                  {"type": "image", "url": "https://cdn.test/b.jpg", "alt": "Second picture"}],
        "platforms": {"bluesky": {"caption": "Spring!"}}, "first_comment": "More soon",
        "thread": [{"caption": "2/ Asparagus, from down the road"}, {"caption": "3/ Rhubarb, from the garden"}],
    }, "sheet-row-7")]
    # a list keeps each item whole, commas and line breaks included; no key given: a fresh one
    action("create_post").run(client, caption="x", account_ids=["acct_x"], thread=["a, b\nc", " "])
    body, key = sent[1]
    assert body == {"caption": "x", "account_ids": ["acct_x"], "thread": [{"caption": "a, b\nc"}]}
    assert key
