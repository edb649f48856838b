"""TikTok adapter: UTF-16 limits per post kind, PULL_FROM_URL init, publish_id saved and checked, string error codes."""

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
    StillProcessing,
)
from postdodo_connect.platforms import Media, Progress, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import make_account

API = "https://open.tiktokapis.com/v2"
TOKEN = "act.example-tiktok-token"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
ACCOUNT = make_account("tiktok", "dodo.shop", access_token=TOKEN)
PUBLISH_ID = "p_pub_url~v2.7391040583739000001"
POST_ID = 7391040583739003000
PHOTOS = [Media(type="image", url="https://media.example.com/p1.jpg"), Media(type="image", url="https://media.example.com/p2.jpg")]
VIDEO = Media(type="video", url="https://media.example.com/v.mp4")
PHOTO_POST = PublishRequest(target_id="tgt_1", caption="Launch day! #launch", media=PHOTOS)


def ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": "202608211000000101130062072500FFA2"}}


def failure(code: str, message: str) -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": "202608211000000101130062072500FFA3"}}


def status(state: str, ids: list[int] | None = None, reason: str = "") -> dict[str, Any]:
    return ok({"status": state, "publicaly_available_post_id": ids or [], "uploaded_bytes": 0, "fail_reason": reason})


def status_call(mocked: responses.RequestsMock, answer: dict[str, Any]) -> None:
    mocked.post(f"{API}/post/publish/status/fetch/", match=[AUTH, matchers.json_params_matcher({"publish_id": PUBLISH_ID})], json=answer)


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("tiktok")


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "media", "ok"), [
    ("a" * 2200, [VIDEO], True), ("a" * 2201, [VIDEO], False),
    ("😀" * 1100, [VIDEO], True), ("😀" * 1100 + "a", [VIDEO], False),  # an emoji is two UTF-16 units
    ("日" * 2200, [VIDEO], True), ("日" * 2201, [VIDEO], False),
    ("a" * 4000, PHOTOS, True), ("a" * 4001, PHOTOS, False),
    ("😀" * 2000, PHOTOS, True), ("😀" * 2000 + "a", PHOTOS, False),
])
def test_caption_limit_depends_on_the_post_kind(adapter: Platform, caption: str, media: list[Media], ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, media)] == ([] if ok else ["tiktok.caption.max_length"])


def test_media_rules(adapter: Platform) -> None:
    assert [p.rule for p in adapter.validate("hi", [])] == ["tiktok.media.required"]
    assert [p.rule for p in adapter.validate("hi", [VIDEO, PHOTOS[0]])] == ["tiktok.media.video_alone"]
    assert adapter.validate("hi", [PHOTOS[0]] * 35) == []
    assert [p.rule for p in adapter.validate("hi", [PHOTOS[0]] * 36)] == ["tiktok.media.max_count"]


def test_text_only_is_refused_without_a_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    with pytest.raises(PlatformRejected):
        adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="text"))


def test_permalink_shape(adapter: Platform) -> None:
    post_id = adapter.sample_post_id("seed")
    assert post_id.isdigit() and len(post_id) == 19
    assert adapter.permalink("@dodo.shop", post_id) == f"https://www.tiktok.com/@dodo.shop/video/{post_id}"


# -- publish -----------------------------------------------------------------------------------


def test_photo_post_pulls_from_urls_and_resumes_from_the_saved_publish_id(adapter: Platform, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    sent = {"post_info": {"description": PHOTO_POST.caption, "privacy_level": "SELF_ONLY", "auto_add_music": True},
            "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": [m.url for m in PHOTOS]},
            "post_mode": "DIRECT_POST", "media_type": "PHOTO"}
    mocked.post(f"{API}/post/publish/content/init/", match=[AUTH, matchers.json_params_matcher(sent)], json=ok({"publish_id": PUBLISH_ID}))
    status_call(mocked, status("PROCESSING_DOWNLOAD"))
    request = PublishRequest(target_id="tgt_1", caption=PHOTO_POST.caption, media=PHOTOS, progress=Progress())
    with pytest.raises(StillProcessing) as info:
        adapter.publish(ACCOUNT, request)
    assert info.value.check_after == 10.0 and info.value.budget == 1800.0 and sleeps == []  # nobody waits
    assert request.state == {"publish_id": PUBLISH_ID} and request.call_started is not None
    status_call(mocked, status("PUBLISH_COMPLETE", [POST_ID]))
    published = adapter.publish(ACCOUNT, request)  # the next attempt: a status read, no second init
    assert (published.platform_post_id, published.permalink) == (str(POST_ID), f"https://www.tiktok.com/@dodo.shop/video/{POST_ID}")


def test_video_post_uses_the_title_and_the_account_privacy(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"post_info": {"title": "Clip", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": VIDEO.url}}
    mocked.post(f"{API}/post/publish/video/init/", match=[matchers.json_params_matcher(sent)], json=ok({"publish_id": PUBLISH_ID}))
    status_call(mocked, status("PUBLISH_COMPLETE", [POST_ID]))
    account = make_account("tiktok", "dodo.shop", {"privacy_level": "PUBLIC_TO_EVERYONE"}, access_token=TOKEN)
    assert adapter.publish(account, PublishRequest(target_id="t", caption="Clip", media=[VIDEO])).platform_post_id == str(POST_ID)


def test_private_post_without_public_id_links_the_profile(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", json=ok({"publish_id": PUBLISH_ID}))
    status_call(mocked, status("PUBLISH_COMPLETE", []))
    published = adapter.publish(ACCOUNT, PHOTO_POST)
    assert (published.platform_post_id, published.permalink) == (PUBLISH_ID, "https://www.tiktok.com/@dodo.shop")


def test_failed_processing_is_final_with_the_reason(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", json=ok({"publish_id": PUBLISH_ID}))
    status_call(mocked, status("FAILED", reason="picture_size_check_failed"))
    with pytest.raises(PlatformRejected, match="picture_size_check_failed"):
        adapter.publish(ACCOUNT, PHOTO_POST)


def test_throttled_status_read_is_retried_later_from_the_publish_id(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", json=ok({"publish_id": PUBLISH_ID}))
    mocked.post(f"{API}/post/publish/status/fetch/", status=429, json=failure("rate_limit_exceeded", "Too many requests"))
    request = PublishRequest(target_id="tgt_1", caption=PHOTO_POST.caption, media=PHOTOS, progress=Progress())
    with pytest.raises(PlatformRateLimited):
        adapter.publish(ACCOUNT, request)
    status_call(mocked, status("PUBLISH_COMPLETE", [POST_ID]))
    assert adapter.publish(ACCOUNT, request).platform_post_id == str(POST_ID)


def test_refused_status_read_after_init_is_unknown(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", json=ok({"publish_id": PUBLISH_ID}))
    mocked.post(f"{API}/post/publish/status/fetch/", status=401, json=failure("access_token_invalid", "The access token is invalid."))
    with pytest.raises(OutcomeUnknown) as info:
        adapter.publish(ACCOUNT, PHOTO_POST)
    assert info.value.platform_error["publish_id"] == PUBLISH_ID


def test_lookup_reads_the_saved_publish_status(adapter: Platform, mocked: responses.RequestsMock) -> None:
    status_call(mocked, status("PUBLISH_COMPLETE", [POST_ID]))
    request = PublishRequest(target_id="tgt_1", caption="x", media=PHOTOS, progress=Progress({"publish_id": PUBLISH_ID}))
    found = adapter.lookup(ACCOUNT, request)
    assert found is not None and found.platform_post_id == str(POST_ID)


# -- errors ------------------------------------------------------------------------------------


def test_rate_limit_exceeded(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", status=429, json=failure("rate_limit_exceeded", "API rate limit exceeded"))
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, PHOTO_POST)
    assert info.value.retry_after is None and info.value.retryable  # TikTok sends no hint: engine backoff


def test_daily_cap_defers_a_day(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", status=403, json=failure("spam_risk_too_many_posts", "The user has reached the daily post limit"))
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, PHOTO_POST)
    assert (info.value.code, info.value.retry_after) == ("publish_limit", 86400)


def test_invalid_token(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", status=401, json=failure("access_token_invalid", "The access token is invalid or not found in the request."))
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, PHOTO_POST)
    assert info.value.code == "auth_expired"


def test_unverified_url_is_final_with_the_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = failure("url_ownership_unverified", "Please verify the ownership of the domain or URL prefix.")
    mocked.post(f"{API}/post/publish/content/init/", status=403, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, PHOTO_POST)
    assert "url_ownership_unverified" in info.value.message and "verify the ownership" in info.value.message
    assert info.value.platform_error == body


def test_server_error_on_init_is_unknown_and_cannot_be_looked_up(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/content/init/", status=500, json=failure("internal_error", "Something went wrong."))
    request = PublishRequest(target_id="tgt_1", caption="x", media=PHOTOS, progress=Progress())
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, request)
    with pytest.raises(OutcomeUnknown) as info:  # no publish_id came back: nobody can tell
        adapter.lookup(ACCOUNT, request)
    assert not info.value.retryable


def test_verify_credentials_reads_the_creator(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/creator_info/query/", match=[AUTH], json=ok({
        "creator_avatar_url": "https://p16.tiktokcdn.com/a.jpeg", "creator_username": "dodo.shop", "creator_nickname": "Dodo Shop",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], "comment_disabled": False, "duet_disabled": False,
        "stitch_disabled": True, "max_video_post_duration_sec": 300}))
    profile = adapter.verify_credentials({"access_token": TOKEN})
    assert (profile.handle, profile.display_name) == ("dodo.shop", "Dodo Shop")


def test_options_set_privacy_and_interaction_flags(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"post_info": {"title": "Clip", "privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_comment": True,
                          "disable_duet": True, "disable_stitch": True, "brand_organic_toggle": True},
            "source_info": {"source": "PULL_FROM_URL", "video_url": VIDEO.url}}
    mocked.post(f"{API}/post/publish/video/init/", match=[matchers.json_params_matcher(sent)], json=ok({"publish_id": PUBLISH_ID}))
    status_call(mocked, status("PUBLISH_COMPLETE", [POST_ID]))
    options = {"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_comment": True, "disable_duet": True,
               "disable_stitch": True, "brand_content": False, "brand_organic": True}
    adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Clip", media=[VIDEO], options=options))
