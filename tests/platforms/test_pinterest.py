"""Pinterest adapter: one image pin by URL, description limit, v5 errors, board-pins reconcile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from postdodo_connect.platforms import Media, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import IMAGE_URL, make_account

API = "https://api.pinterest.com/v5"
TOKEN = "pina_AMA-token"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
BOARD = "549755885175"
ACCOUNT = make_account("pinterest", "alice", access_token=TOKEN, board_id=BOARD)
PIN_ID = "813744226420795884"
IMAGE = Media(type="image", url=IMAGE_URL)
POST = PublishRequest(target_id="tgt_1", caption="Launch day! Read more on https://example.com/blog.", media=[IMAGE])


def pin(description: str, created_at: str = "2026-08-21T21:59:30") -> dict[str, Any]:
    return {"id": PIN_ID, "created_at": created_at, "link": "https://example.com/blog", "title": "", "description": description,
            "alt_text": None, "board_id": BOARD, "board_section_id": None, "board_owner": {"username": "alice"},
            "dominant_color": "#6E7874", "is_owner": True, "is_standard": True, "creative_type": "REGULAR",
            "has_been_promoted": False, "parent_pin_id": None, "media": {"media_type": "image", "images": {
                "originals": {"width": 1200, "height": 1800, "url": "https://i.pinimg.com/originals/ab/cd/ef/abcdef.jpg"}}}}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("pinterest")


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [("a" * 800, True), ("a" * 801, False), ("日" * 800, True), ("日" * 801, False)])
def test_description_limit_at_the_boundary(adapter: Platform, caption: str, ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, [IMAGE])] == ([] if ok else ["pinterest.caption.max_length"])


def test_exactly_one_image(adapter: Platform) -> None:
    assert [p.rule for p in adapter.validate("hi", [])] == ["pinterest.media.required"]
    assert [p.rule for p in adapter.validate("hi", [IMAGE, IMAGE])] == ["pinterest.media.max_count"]
    assert [p.rule for p in adapter.validate("hi", [Media(type="video", url="https://cdn.example.com/v.mp4")])] == ["pinterest.media.kind"]


def test_text_only_is_refused_without_a_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    with pytest.raises(PlatformRejected):
        adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="no image"))


def test_permalink_shape(adapter: Platform) -> None:
    assert adapter.permalink("alice", PIN_ID) == f"https://www.pinterest.com/pin/{PIN_ID}/"
    assert len(adapter.sample_post_id("seed")) == 18


# -- publish -----------------------------------------------------------------------------------


def test_pin_by_image_url_links_the_caption_url(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"board_id": BOARD, "description": POST.caption, "link": "https://example.com/blog",
            "media_source": {"source_type": "image_url", "url": IMAGE_URL}}
    mocked.post(f"{API}/pins", status=201, match=[AUTH, matchers.json_params_matcher(sent)], json=pin(POST.caption))
    published = adapter.publish(ACCOUNT, POST)
    assert (published.platform_post_id, published.permalink) == (PIN_ID, f"https://www.pinterest.com/pin/{PIN_ID}/")


def test_pin_without_a_url_has_no_link(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"board_id": BOARD, "description": "Just a photo", "media_source": {"source_type": "image_url", "url": IMAGE_URL}}
    mocked.post(f"{API}/pins", status=201, match=[matchers.json_params_matcher(sent)], json=pin("Just a photo"))
    assert adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Just a photo", media=[IMAGE])).platform_post_id == PIN_ID


# -- errors ------------------------------------------------------------------------------------


def test_rate_limit_without_hint_and_with_retry_after(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"code": 8, "message": "You have exceeded your rate limit. Try again later."}
    mocked.post(f"{API}/pins", status=429, json=body)
    mocked.post(f"{API}/pins", status=429, json=body, headers={"Retry-After": "12"})
    hints = []
    for _ in range(2):
        with pytest.raises(PlatformRateLimited) as info:
            adapter.publish(ACCOUNT, POST)
        hints.append(info.value.retry_after)
    assert hints == [None, 12]


def test_authentication_failed(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/pins", status=401, json={"code": 2, "message": "Authentication failed."})
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, POST)
    assert info.value.code == "auth_expired"


def test_bad_board_is_final_with_the_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"code": 1, "message": "Invalid request: 'abc' does not match '^\\\\d+$'"}
    mocked.post(f"{API}/pins", status=400, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, POST)
    assert "does not match" in info.value.message and info.value.platform_error == body


def test_server_error_on_create_is_unknown_and_board_pins_find_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/pins", status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, POST)
    mocked.get(f"{API}/boards/{BOARD}/pins", match=[AUTH, matchers.query_param_matcher({"page_size": "25"})],
               json={"items": [pin("Another pin"), pin(POST.caption)], "bookmark": None})
    found = adapter.lookup(ACCOUNT, POST)
    assert found is not None and found.platform_post_id == PIN_ID


def test_lookup_ignores_an_old_pin_with_the_same_description(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/boards/{BOARD}/pins", json={"items": [pin(POST.caption, "2026-07-01T10:00:00")], "bookmark": None})
    assert adapter.lookup(ACCOUNT, POST) is None


def test_lookup_searches_the_board_the_options_chose(adapter: Platform, mocked: responses.RequestsMock) -> None:
    other = PublishRequest(target_id="tgt_1", caption=POST.caption, media=[IMAGE], options={"board_id": "1234567"})
    mocked.get(f"{API}/boards/1234567/pins", json={"items": [pin(POST.caption)], "bookmark": None})
    found = adapter.lookup(ACCOUNT, other)
    assert found is not None and found.platform_post_id == PIN_ID


def test_server_error_on_verify_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/user_account", status=500, json={"code": 0, "message": "Internal error"})
    with pytest.raises(PlatformUnavailable):
        adapter.verify_credentials({"access_token": TOKEN, "board_id": BOARD})


def test_verify_credentials(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/user_account", match=[AUTH], json={"account_type": "BUSINESS", "username": "alice", "business_name": "Alice Co"})
    profile = adapter.verify_credentials({"access_token": TOKEN, "board_id": BOARD})
    assert (profile.handle, profile.display_name) == ("alice", "Alice Co")


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_and_options_go_on_the_pin(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"board_id": "1234567", "description": POST.caption, "link": "https://shop.example.com/dodo",
            "title": "Launch day", "alt_text": "A dodo",
            "media_source": {"source_type": "image_url", "url": IMAGE_URL}}
    mocked.post(f"{API}/pins", status=201, match=[AUTH, matchers.json_params_matcher(sent)], json=pin(POST.caption))
    options = {"board_id": "1234567", "link": "https://shop.example.com/dodo", "title": "Launch day"}
    adapter.publish(ACCOUNT, PublishRequest(target_id="tgt_1", caption=POST.caption,
                                            media=[Media("image", IMAGE_URL, alt="A dodo")], options=options))


def test_alt_text_limit_is_500_characters() -> None:
    from postdodo_connect.platforms import validate

    assert [p.rule for p in validate("pinterest", "x", [Media("image", IMAGE_URL, alt="a" * 501)])] == [
        "pinterest.media.alt_max_length"]
