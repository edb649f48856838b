"""Each platform's typed options: defaults applied, unknown names and bad values refused with rule ids."""

from __future__ import annotations

from typing import Any

import pytest

from postdodo_connect import platforms
from postdodo_connect.content import OPTIONS, check_options


def test_every_platform_has_an_options_model() -> None:
    assert sorted(OPTIONS) == sorted(platforms.NAMES)


@pytest.mark.parametrize(("platform", "given", "applied"), [
    ("mastodon", {"visibility": "direct", "language": "de"},
     {"visibility": "direct", "spoiler_text": "", "language": "de", "sensitive": False}),
    ("x", {}, {"reply_settings": None}),
    ("instagram", {"kind": "reel", "share_to_feed": False},
     {"kind": "reel", "collaborators": [], "share_to_feed": False}),
    ("tiktok", {"privacy_level": "SELF_ONLY", "disable_duet": True},
     {"privacy_level": "SELF_ONLY", "disable_comment": False, "disable_duet": True, "disable_stitch": False,
      "brand_content": False, "brand_organic": False}),
    ("pinterest", {"board_id": "549755885175", "link": "https://example.com/p"},
     {"board_id": "549755885175", "link": "https://example.com/p", "title": None}),
    ("linkedin", {"visibility": "CONNECTIONS"}, {"visibility": "CONNECTIONS"}),
    ("threads", {"topic_tag": "jam", "reply_control": "mentioned_only"},
     {"topic_tag": "jam", "reply_control": "mentioned_only"}),
    ("telegram", {"protect_content": True}, {"disable_notification": False, "protect_content": True}),
    ("slack", {"username": "Launch bot"}, {"username": "Launch bot"}),
    ("discord", {"username": "Launch bot"}, {"username": "Launch bot"}),
    ("bluesky", {"langs": ["en", "pt-BR"]}, {"langs": ["en", "pt-BR"]}),
    ("facebook", {}, {}),
])
def test_valid_options_get_their_defaults(platform: str, given: dict[str, Any], applied: dict[str, Any]) -> None:
    assert check_options(platform, given) == (applied, [])


@pytest.mark.parametrize(("platform", "given", "rule"), [
    ("mastodon", {"visibility": "everyone"}, "mastodon.options.visibility"),
    ("mastodon", {"language": "english"}, "mastodon.options.language"),
    ("x", {"reply_settings": "nobody"}, "x.options.reply_settings"),
    ("x", {"poll": {"options": ["a", "b"]}}, "x.options.unknown"),
    ("instagram", {"kind": "carousel"}, "instagram.options.kind"),
    ("instagram", {"collaborators": ["a", "b", "c", "d"]}, "instagram.options.collaborators"),
    ("tiktok", {"privacy_level": "PUBLIC"}, "tiktok.options.privacy_level"),
    ("tiktok", {"disable_comment": "yes"}, "tiktok.options.disable_comment"),
    ("pinterest", {"board_id": "my-board"}, "pinterest.options.board_id"),
    ("pinterest", {"link": "ftp://example.com"}, "pinterest.options.link"),
    ("pinterest", {"title": "t" * 101}, "pinterest.options.title"),
    ("linkedin", {"visibility": "public"}, "linkedin.options.visibility"),
    ("threads", {"topic_tag": "has space"}, "threads.options.topic_tag"),
    ("telegram", {"silent": True}, "telegram.options.unknown"),
    ("bluesky", {"langs": ["en", "de", "fr", "es"]}, "bluesky.options.langs"),
    ("facebook", {"privacy": "EVERYONE"}, "facebook.options.unknown"),
])
def test_bad_options_are_refused_with_a_rule_id(platform: str, given: dict[str, Any], rule: str) -> None:
    applied, problems = check_options(platform, given)
    assert applied == {}
    assert [(p["rule"], p["platform"]) for p in problems] == [(rule, platform)]
    assert problems[0]["field"].startswith("options.")
