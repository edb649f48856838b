"""X adapter: preflight, media upload + POST /2/tweets, errors, rate-limit windows, timeline reconcile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from postdodo_connect.errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    StillProcessing,
)
from postdodo_connect.platforms import Account, Media, Progress, PublishRequest, validate
from postdodo_connect.platforms.base import Platform

from .conftest import MP4, NOW, make_account

API = "https://api.x.com/2"
ACCOUNT = make_account("x", "alice", access_token="tok", user_id="2244994945")
AUTH = {"Authorization": "Bearer tok"}
CREATED = {"data": {"id": "1445880548472328192", "text": "Launch day! https://t.co/56a0vZUx7i",
                    "edit_history_tweet_ids": ["1445880548472328192"]}}
CAPTION = "Launch day! https://example.com/blog & more"


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("x")


def tweet_call(mocked: responses.RequestsMock, sent: dict[str, Any], token: str = "tok", **answer: Any) -> None:
    mocked.post(f"{API}/tweets", match=[matchers.json_params_matcher(sent),
                                        matchers.header_matcher({"Authorization": f"Bearer {token}"})],
                **(answer or {"status": 201, "json": CREATED}))


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 280, True), ("a" * 281, False),
    ("日" * 140, True), ("日" * 140 + "a", False),
    ("😀" * 140, True), ("😀" * 141, False),
    ("\U0001f469\u200d\U0001f4bb" * 140, True),  # a ZWJ sequence weighs 2 like any emoji
    ("a" * 256 + " https://example.com/" + "p" * 100, True),  # 256 + 1 + 23 = 280
    ("a" * 257 + " https://example.com/" + "p" * 100, False),
    ("a" * 256 + " example.photography", True),  # any IANA TLD makes a 23-character link
    ("a" * 257 + " example.photography", False),
    ("a" * 279 + ".", True),  # the cheap bound says "maybe too long": the exact count decides
    ("日" * 139 + " example.photography", False),  # 278 + 1 + 23
])
def test_caption_limits(caption: str, ok: bool) -> None:
    rules = [p.rule for p in validate("x", caption, [])]
    assert rules == ([] if ok else ["x.caption.max_weighted_length"])


def test_media_rules() -> None:
    images = [Media("image", f"https://cdn.example.com/{i}.jpg") for i in range(5)]
    assert validate("x", "x", images[:4]) == []
    assert [p.rule for p in validate("x", "x", images)] == ["x.media.max_count"]
    video = Media("video", "https://cdn.example.com/v.mp4")
    assert [p.rule for p in validate("x", "x", [video, images[0]])] == ["x.media.video_alone"]


# -- publish -----------------------------------------------------------------------------------


def test_text_post_and_permalink(adapter: Platform, mocked: responses.RequestsMock) -> None:
    tweet_call(mocked, {"text": CAPTION})
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert published.platform_post_id == "1445880548472328192"
    assert published.permalink == "https://x.com/alice/status/1445880548472328192"


def test_image_post_uploads_first(adapter: Platform, mocked: responses.RequestsMock,
                                  serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{API}/media/upload", match=[matchers.header_matcher(AUTH)], json={"data": {
        "id": "1880028106020515840", "media_key": "3_1880028106020515840", "size": 212,
        "expires_after_secs": 86400, "image": {"image_type": "image/jpeg", "w": 1200, "h": 800}}})
    tweet_call(mocked, {"text": CAPTION, "media": {"media_ids": ["1880028106020515840"]}})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[image]))
    upload = mocked.calls[1].request
    assert b'name="media_category"' in upload.body and b"tweet_image" in upload.body


def test_video_is_uploaded_in_chunks_once_and_its_processing_checked_later(
    adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media], sleeps: list[float],
) -> None:
    video = serve_media("https://cdn.example.com/v.mp4", body=MP4, content_type="video/mp4", kind="video")
    mocked.post(f"{API}/media/upload/initialize", json={"data": {"id": "77", "media_key": "7_77"}}, match=[
        matchers.json_params_matcher({"media_type": "video/mp4", "total_bytes": len(MP4), "media_category": "tweet_video"})])
    mocked.post(f"{API}/media/upload/77/append", json={})
    mocked.post(f"{API}/media/upload/77/finalize", json={"data": {
        "id": "77", "processing_info": {"state": "pending", "check_after_secs": 3}}})
    request = PublishRequest("tgt_1", "clip", media=[video], progress=Progress())
    with pytest.raises(StillProcessing) as info:
        adapter.publish(ACCOUNT, request)
    assert info.value.check_after == 3.0 and sleeps == []  # X's own hint, and no worker waits on it
    mocked.get(f"{API}/media/upload", json={"data": {"id": "77", "processing_info": {"state": "succeeded"}}},
               match=[matchers.query_param_matcher({"command": "STATUS", "media_id": "77"})])
    tweet_call(mocked, {"text": "clip", "media": {"media_ids": ["77"]}})
    adapter.publish(ACCOUNT, request)  # the next attempt: a STATUS check and the post, no second upload
    assert sum("initialize" in c.request.url for c in mocked.calls) == 1


def test_rate_limit_hint_is_the_15_minute_reset(adapter: Platform, mocked: responses.RequestsMock) -> None:
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 600),
               "x-user-limit-24hour-remaining": "12", "x-user-limit-24hour-reset": str(int(NOW) + 80000)}
    tweet_call(mocked, {"text": CAPTION}, status=429, headers=headers,
               json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.retry_after == 600


def test_exhausted_24_hour_window_defers_to_its_reset(adapter: Platform, mocked: responses.RequestsMock) -> None:
    headers = {"x-rate-limit-remaining": "40", "x-rate-limit-reset": str(int(NOW) + 600),
               "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(int(NOW) + 50000)}
    tweet_call(mocked, {"text": CAPTION}, status=429, headers=headers, json={"title": "Too Many Requests"})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.retry_after == 50000


def test_monthly_usage_cap_is_not_retried(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped", "period": "Monthly", "scope": "Product"}
    tweet_call(mocked, {"text": CAPTION}, status=429, json=body)
    with pytest.raises(PlatformRejected) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.code == "usage_cap_exceeded"


def test_unauthorized_without_refresh_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    tweet_call(mocked, {"text": CAPTION}, status=401,
               json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    with pytest.raises(PlatformAuthError) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.code == "auth_expired"


def test_unauthorized_refreshes_once_and_hands_over_the_new_tokens(adapter: Platform, mocked: responses.RequestsMock) -> None:
    account = make_account("x", "alice", access_token="tok", refresh_token="r1", client_id="cid")
    stored: list[dict[str, Any]] = []
    adapter.on_credentials = lambda acct, creds: stored.append(creds)
    tweet_call(mocked, {"text": CAPTION}, status=401, json={"title": "Unauthorized", "status": 401})
    mocked.post(f"{API}/oauth2/token", json={"token_type": "bearer", "access_token": "tok2", "refresh_token": "r2",
                                             "expires_in": 7200}, match=[matchers.urlencoded_params_matcher(
        {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "cid"})])
    tweet_call(mocked, {"text": CAPTION}, token="tok2")
    assert adapter.publish(account, PublishRequest("tgt_1", CAPTION)).platform_post_id == "1445880548472328192"
    # the rotated pair and its expiry (now + expires_in), handed over before the repeated call
    assert stored == [{**account.credentials, "access_token": "tok2", "refresh_token": "r2", "expires_at": NOW + 7200}]


def test_too_long_is_rejected_with_the_platform_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"errors": [{"parameters": {"text": ["..."]}, "message": "Your Tweet text is too long. For more information on how "
                        "Twitter determines text length see https://github.com/twitter/twitter-text."}],
            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"}
    tweet_call(mocked, {"text": CAPTION}, status=400, json=body)
    with pytest.raises(PlatformRejected, match="Your Tweet text is too long") as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.platform_error == body


DUPLICATE = {"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank",
             "title": "Forbidden", "status": 403}
TIMELINE = {"data": [
    {"id": "1445880548472328192", "text": "Launch day! https://t.co/56a0vZUx7i &amp; more",
     "edit_history_tweet_ids": ["1445880548472328192"], "created_at": "2026-08-21T21:59:58.000Z"},
    {"id": "1400000000000000000", "text": "Launch day! https://t.co/56a0vZUx7i &amp; more",  # the same text, last month
     "edit_history_tweet_ids": ["1400000000000000000"], "created_at": "2026-07-21T21:59:58.000Z"},
    {"id": "1445000000000000000", "text": "an older post", "edit_history_tweet_ids": ["1445000000000000000"]},
], "meta": {"result_count": 2, "newest_id": "1445880548472328192", "oldest_id": "1445000000000000000"}}


def timeline(mocked: responses.RequestsMock, body: dict[str, Any] = TIMELINE) -> None:
    mocked.get(f"{API}/users/2244994945/tweets", json=body,
               match=[matchers.query_param_matcher({"max_results": "25", "tweet.fields": "created_at,referenced_tweets"}), matchers.header_matcher(AUTH)])


def test_duplicate_on_a_first_attempt_is_rejected(adapter: Platform, mocked: responses.RequestsMock) -> None:
    tweet_call(mocked, {"text": CAPTION}, status=403, json=DUPLICATE)
    with pytest.raises(PlatformRejected) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.code == "duplicate_post"


def test_duplicate_on_a_retry_is_confirmed_from_the_timeline(adapter: Platform, mocked: responses.RequestsMock) -> None:
    tweet_call(mocked, {"text": CAPTION}, status=403, json=DUPLICATE)
    timeline(mocked)
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, attempt=2))
    assert published.platform_post_id == "1445880548472328192"


@pytest.mark.parametrize("failure", [
    {"status": 503, "json": {"title": "Service Unavailable", "status": 503}},
    {"body": requests.ReadTimeout("read timed out")},
])
def test_ambiguous_create_is_unknown_and_lookup_matches_the_text(
    adapter: Platform, mocked: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    tweet_call(mocked, {"text": CAPTION}, **failure)
    request = PublishRequest("tgt_1", CAPTION, progress=Progress())
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, request)
    timeline(mocked)
    found = adapter.lookup(ACCOUNT, request)
    assert found is not None and found.permalink == "https://x.com/alice/status/1445880548472328192"


def test_lookup_returns_none_without_a_match(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/users/me", json={"data": {"id": "2244994945", "name": "Alice", "username": "alice"}})
    timeline(mocked, {"data": TIMELINE["data"][1:], "meta": {"result_count": 2}})
    account = Account(id="acct_x", platform="x", handle="alice", credentials={"access_token": "tok"})
    assert adapter.lookup(account, PublishRequest("tgt_1", CAPTION)) is None


def test_media_upload_5xx_is_retryable(adapter: Platform, mocked: responses.RequestsMock,
                                       serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{API}/media/upload", status=503, json={"title": "Service Unavailable"})
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[image]))


def test_verify_credentials(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/users/me", match=[matchers.header_matcher(AUTH)],
               json={"data": {"id": "2244994945", "name": "Alice", "username": "alice"}})
    assert adapter.verify_credentials({"access_token": "tok"}).handle == "alice"


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_goes_in_media_metadata_and_reply_settings_on_the_post(
        adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{API}/media/upload", json={"data": {"id": "1880028106020515840", "media_key": "3_1880028106020515840"}})
    mocked.post(f"{API}/media/metadata", json={"data": {"associated_metadata": True, "id": "1880028106020515840"}},
                match=[matchers.header_matcher(AUTH), matchers.json_params_matcher(
                    {"id": "1880028106020515840", "metadata": {"alt_text": {"text": "A dodo"}}})])
    tweet_call(mocked, {"text": CAPTION, "media": {"media_ids": ["1880028106020515840"]}, "reply_settings": "following"})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[Media("image", image.url, alt="A dodo")],
                                            options={"reply_settings": "following"}))
