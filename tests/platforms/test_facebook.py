"""Facebook Page adapter: feed and photo posts, read-after-write permalinks, Graph errors, reconcile."""

from __future__ import annotations

import json
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

G = "https://graph.facebook.com/v23.0"
PAGE = "546349135390552"
TOKEN = "EAAG-page-token"
ACCOUNT = make_account("facebook", "dodoshop", access_token=TOKEN, page_id=PAGE)
POST_ID = f"{PAGE}_1116689038356556"
LINK = f"https://www.facebook.com/{PAGE}/posts/1116689038356556"
TEXT = PublishRequest(target_id="tgt_1", caption="Launch day!")
IMAGE = Media(type="image", url=IMAGE_URL)


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("facebook")


def form(**fields: str) -> Any:
    return matchers.urlencoded_params_matcher({**fields, "access_token": TOKEN})


def fb_error(code: int, message: str, subcode: int | None = None, transient: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AmEZfd3vhF1SqH7xYAMTQ0J"}
    if subcode:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return {"error": error}


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 63206, True), ("a" * 63207, False),
    ("日" * 63206, True), ("😀" * 63207, False),
])
def test_caption_limit_at_the_boundary(adapter: Platform, caption: str, ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, [])] == ([] if ok else ["facebook.caption.max_length"])


def test_only_photos_are_accepted(adapter: Platform) -> None:
    assert [p.rule for p in adapter.validate("hi", [Media(type="video", url="https://cdn.example.com/v.mp4")])] == ["facebook.media.kind"]


def test_permalink_follows_the_page_post_id(adapter: Platform) -> None:
    assert adapter.permalink("dodoshop", POST_ID) == LINK
    sample = adapter.sample_post_id("seed")
    page, _, post = sample.partition("_")
    assert page.isdigit() and post.isdigit() and adapter.permalink("x", sample) == f"https://www.facebook.com/{page}/posts/{post}"


# -- publish -----------------------------------------------------------------------------------


def test_text_post_reads_the_permalink_in_the_same_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/feed", match=[form(message="Launch day!", fields="id,permalink_url")],
                json={"id": POST_ID, "permalink_url": LINK})
    published = adapter.publish(ACCOUNT, TEXT)
    assert (published.platform_post_id, published.permalink) == (POST_ID, LINK)


def test_photo_post_records_the_feed_post_id(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/photos", match=[form(url=IMAGE_URL, caption="Look")], json={"id": "1116689111111111", "post_id": POST_ID})
    mocked.get(f"{G}/{POST_ID}", match=[matchers.query_param_matcher({"fields": "permalink_url", "access_token": TOKEN})],
               json={"permalink_url": LINK, "id": POST_ID})
    published = adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Look", media=[IMAGE]))
    assert (published.platform_post_id, published.permalink) == (POST_ID, LINK)


def test_several_photos_go_unpublished_then_attached(adapter: Platform, mocked: responses.RequestsMock) -> None:
    second = "https://cdn.example.com/q.jpg"
    mocked.post(f"{G}/{PAGE}/photos", match=[form(url=IMAGE_URL, published="false")], json={"id": "111"})
    mocked.post(f"{G}/{PAGE}/photos", match=[form(url=second, published="false")], json={"id": "222"})
    attached = json.dumps([{"media_fbid": "111"}, {"media_fbid": "222"}])
    mocked.post(f"{G}/{PAGE}/feed", match=[form(message="Two", fields="id,permalink_url", attached_media=attached)],
                json={"id": POST_ID, "permalink_url": LINK})
    request = PublishRequest(target_id="t", caption="Two", media=[IMAGE, Media(type="image", url=second)])
    assert adapter.publish(ACCOUNT, request).permalink == LINK


# -- errors ------------------------------------------------------------------------------------


def test_page_throttle_uses_the_business_use_case_header(adapter: Platform, mocked: responses.RequestsMock) -> None:
    usage = json.dumps({PAGE: [{"type": "pages", "call_count": 95, "total_cputime": 20, "total_time": 25, "estimated_time_to_regain_access": 15}]})
    mocked.post(f"{G}/{PAGE}/feed", status=400, json=fb_error(32, "Page request limit reached"), headers={"X-Business-Use-Case-Usage": usage})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 900


def test_throttle_without_a_hint_leaves_backoff_to_the_engine(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/feed", status=400, json=fb_error(4, "Application request limit reached", transient=True),
                headers={"X-App-Usage": '{"call_count":100,"total_time":25,"total_cputime":25}'})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after is None


def test_duplicate_status_is_final_with_the_message_kept(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = fb_error(506, "(#506) Duplicate status message")
    mocked.post(f"{G}/{PAGE}/feed", status=400, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert (info.value.code, info.value.message, info.value.platform_error) == ("duplicate_post", "(#506) Duplicate status message", body)


def test_revoked_page_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/feed", status=400, json=fb_error(190, "Error validating access token: The user has not authorized application 1234.", 458))
    with pytest.raises(PlatformAuthError):
        adapter.publish(ACCOUNT, TEXT)


def test_missing_permission_is_final(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/feed", status=403, json=fb_error(200, "(#200) The user hasn't authorized the application to perform this action"))
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.code == "permission_denied"


def test_server_error_uploading_unpublished_photos_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/photos", status=500, json=fb_error(2, "An unexpected error has occurred. Please retry your request later.", transient=True))
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Two", media=[IMAGE, IMAGE]))


def test_ambiguous_feed_post_is_unknown_and_lookup_finds_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{PAGE}/feed", status=500, json=fb_error(1, "An unknown error occurred", transient=True))
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)
    mocked.get(f"{G}/{PAGE}/posts", match=[matchers.query_param_matcher(
        {"fields": "id,message,created_time,permalink_url", "limit": "25", "access_token": TOKEN})], json={"data": [
            {"id": POST_ID, "message": "Launch day!", "created_time": "2026-08-21T21:58:12+0000", "permalink_url": LINK},
        ]})
    found = adapter.lookup(ACCOUNT, TEXT)
    assert found is not None and (found.platform_post_id, found.permalink) == (POST_ID, LINK)


def test_lookup_returns_none_when_no_post_matches(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{PAGE}/posts", json={"data": [{"id": POST_ID, "message": "Other", "created_time": "2026-08-21T21:58:12+0000"}]})
    assert adapter.lookup(ACCOUNT, TEXT) is None


def test_verify_credentials_reads_the_page(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{PAGE}", match=[matchers.query_param_matcher({"fields": "id,name,username", "access_token": TOKEN})],
               json={"id": PAGE, "name": "Dodo Shop", "username": "dodoshop"})
    profile = adapter.verify_credentials({"access_token": TOKEN, "page_id": PAGE})
    assert (profile.handle, profile.display_name) == ("dodoshop", "Dodo Shop")
