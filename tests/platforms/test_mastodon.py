"""Mastodon adapter: preflight, media v2 + statuses with Idempotency-Key, errors and retry hints."""

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
    StillProcessing,
)
from postdodo_connect.platforms import Media, Progress, PublishRequest, validate
from postdodo_connect.platforms.base import Platform

from .conftest import make_account

BASE = "https://mastodon.social"
ACCOUNT = make_account("mastodon", "alice@mastodon.social", instance_url="https://mastodon.social/", access_token="tok")
AUTH = {"Authorization": "Bearer tok"}
STATUS = {
    "id": "103254962155278888", "created_at": "2019-12-05T11:34:47.196Z", "visibility": "public",
    "uri": "https://mastodon.social/users/alice/statuses/103254962155278888",
    "url": "https://mastodon.social/@alice/103254962155278888",
    "content": "<p>Hello fediverse</p>", "spoiler_text": "", "sensitive": False,
    "account": {"id": "1", "username": "alice", "acct": "alice", "url": "https://mastodon.social/@alice"},
    "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
}
ATTACHMENT = {
    "id": "22348641", "type": "image",
    "url": "https://files.mastodon.social/media_attachments/files/022/348/641/original/e96382f26c72a29c.jpeg",
    "preview_url": "https://files.mastodon.social/media_attachments/files/022/348/641/small/e96382f26c72a29c.jpeg",
    "remote_url": None, "meta": {"original": {"width": 640, "height": 480}}, "description": None,
    "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("mastodon")


def status_call(mocked: responses.RequestsMock, sent: dict[str, Any], **answer: Any) -> None:
    mocked.post(f"{BASE}/api/v1/statuses", match=[
        matchers.json_params_matcher(sent),
        matchers.header_matcher({**AUTH, "Idempotency-Key": "tgt_1"}),
    ], **(answer or {"json": STATUS}))


TEXT = {"status": "Hello fediverse", "visibility": "public"}


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 500, True), ("a" * 501, False),
    ("😀" * 500, True), ("😀" * 501, False),
    ("日" * 500, True), ("日" * 501, False),
    ("a" * 476 + " https://example.com/" + "p" * 300, True),  # URL counts 23: 476 + 1 + 23 = 500
    ("a" * 477 + " https://example.com/" + "p" * 300, False),
    ("@bob@example.social " + "a" * 495, True),  # remote mention counts as "@bob"
    ("@bob@example.social " + "a" * 496, False),
])
def test_caption_limits(caption: str, ok: bool) -> None:
    rules = [p.rule for p in validate("mastodon", caption, [])]
    assert rules == ([] if ok else ["mastodon.caption.max_length"])


def test_media_rules() -> None:
    images = [Media("image", f"https://cdn.example.com/{i}.jpg") for i in range(5)]
    assert validate("mastodon", "x", images[:4]) == []
    assert [p.rule for p in validate("mastodon", "x", images)] == ["mastodon.media.max_count"]
    video = Media("video", "https://cdn.example.com/v.mp4")
    assert [p.rule for p in validate("mastodon", "x", [video, video])] == ["mastodon.media.video_alone"]


# -- publish -----------------------------------------------------------------------------------


def test_text_post_sends_the_idempotency_key_and_uses_the_status_url(adapter: Platform, mocked: responses.RequestsMock) -> None:
    status_call(mocked, TEXT)
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))
    assert published.platform_post_id == "103254962155278888"
    assert published.permalink == "https://mastodon.social/@alice/103254962155278888"


def test_image_post_uploads_through_media_v2(adapter: Platform, mocked: responses.RequestsMock,
                                             serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{BASE}/api/v2/media", json=ATTACHMENT, match=[matchers.header_matcher(AUTH)])
    status_call(mocked, {**TEXT, "media_ids": ["22348641"]})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse", media=[image]))
    upload = next(c for c in mocked.calls if "/api/v2/media" in c.request.url)
    assert b'name="file"' in upload.request.body and b"image/jpeg" in upload.request.body


def test_media_still_processing_is_checked_later_from_the_saved_id(adapter: Platform, mocked: responses.RequestsMock,
                                                                  serve_media: Callable[..., Media], sleeps: list[float]) -> None:
    image = serve_media()
    mocked.post(f"{BASE}/api/v2/media", status=202, json={**ATTACHMENT, "url": None})
    mocked.get(f"{BASE}/api/v1/media/22348641", status=206, json={**ATTACHMENT, "url": None})
    request = PublishRequest("tgt_1", "Hello fediverse", media=[image], progress=Progress())
    with pytest.raises(StillProcessing) as caught:
        adapter.publish(ACCOUNT, request)
    assert caught.value.check_after == 5.0 and caught.value.budget == 900.0 and sleeps == []  # no worker waits
    assert request.state["media_ids"] == ["22348641"]
    # the next attempt asks about the same upload, then posts it: one upload in all
    mocked.get(f"{BASE}/api/v1/media/22348641", status=200, json=ATTACHMENT)
    status_call(mocked, {**TEXT, "media_ids": ["22348641"]})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse", media=[image], attempt=2, progress=request.progress))
    assert sum("/api/v2/media" in c.request.url for c in mocked.calls) == 1


def test_not_finished_processing_422_is_checked_later(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"error": "Cannot attach files that have not finished processing. Try again in a moment!"}
    status_call(mocked, TEXT, status=422, json=body)
    with pytest.raises(StillProcessing) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))
    assert caught.value.retryable and caught.value.check_after == 5.0


def test_rate_limit_hint_comes_from_the_iso_reset(adapter: Platform, mocked: responses.RequestsMock) -> None:
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-08-21T22:05:00.000Z"}
    status_call(mocked, TEXT, status=429, json={"error": "Trop de requêtes"}, headers=headers)
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))
    assert caught.value.retry_after == 300


def test_gotosocial_epoch_reset_is_understood(adapter: Platform, mocked: responses.RequestsMock) -> None:
    status_call(mocked, TEXT, status=429, json={"error": "Too many requests"},
                headers={"X-RateLimit-Reset": str(1_787_349_600 + 42)})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))
    assert caught.value.retry_after == 42


@pytest.mark.parametrize("failure", [
    {"status": 503, "json": {"error": "There was a temporary problem serving your request, please try again"}},
    {"status": 500, "json": {"error": "Internal server error"}},
    {"body": requests.ReadTimeout("read timed out")},
])
def test_ambiguous_create_is_unknown_and_retried_with_the_same_key(
    adapter: Platform, mocked: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    status_call(mocked, TEXT, **failure)
    request = PublishRequest("tgt_1", "Hello fediverse", progress=Progress())
    with pytest.raises(OutcomeUnknown) as caught:
        adapter.publish(ACCOUNT, request)
    assert caught.value.retryable and request.call_started == 1_787_349_600.0  # the call start is on record
    assert adapter.idempotency_horizon < 3600  # within the hour the instance keeps the key, the engine re-sends
    # the retry replays the key: the instance answers with the status it already created
    status_call(mocked, TEXT)
    retried = adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse", attempt=2))
    assert retried.platform_post_id == "103254962155278888"


def listing(mocked: responses.RequestsMock, statuses: list[dict[str, Any]]) -> None:
    mocked.get(f"{BASE}/api/v1/accounts/verify_credentials", json={"id": "1", "username": "alice"})
    mocked.get(f"{BASE}/api/v1/accounts/1/statuses", json=statuses,
               match=[matchers.query_param_matcher({"limit": "40", "exclude_reblogs": "true"})])


def test_lookup_beyond_the_horizon_matches_exact_text_around_the_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    made = "2026-08-21T21:00:01.000Z"  # one hour before NOW, when the call started
    listing(mocked, [
        {**STATUS, "id": "1", "content": "<p>Hello fediverse!</p>", "created_at": made},  # other text
        {**STATUS, "id": "2", "content": "<p>Hello fediverse</p>", "created_at": "2026-08-20T21:00:01.000Z"},  # a day early
        {**STATUS, "id": "3", "content": "<p>Hello <br>fediverse</p>", "created_at": made},
    ])
    request = PublishRequest("tgt_1", "Hello fediverse", progress=Progress(call_started=1_787_349_600.0 - 3600))
    found = adapter.lookup(ACCOUNT, request)
    assert found is not None and found.platform_post_id == "3"


def test_lookup_with_saved_media_ids_matches_on_them(adapter: Platform, mocked: responses.RequestsMock) -> None:
    listing(mocked, [{**STATUS, "id": "9", "media_attachments": [ATTACHMENT]},
                     {**STATUS, "id": "8", "media_attachments": [{**ATTACHMENT, "id": "1"}]}])
    request = PublishRequest("tgt_1", "Hello fediverse", progress=Progress({"media_ids": ["22348641"]}, 1.0))
    found = adapter.lookup(ACCOUNT, request)
    assert found is not None and found.platform_post_id == "9"


def test_lookup_finds_nothing_when_no_status_matches(adapter: Platform, mocked: responses.RequestsMock) -> None:
    listing(mocked, [{**STATUS, "content": "<p>something else</p>"}])
    assert adapter.lookup(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse", progress=Progress())) is None


def test_invalid_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    status_call(mocked, TEXT, status=401, json={"error": "The access token is invalid"})
    with pytest.raises(PlatformAuthError, match="The access token is invalid"):
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))


def test_too_long_is_rejected_with_the_platform_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"error": "Validation failed: Text character limit of 500 exceeded"}
    status_call(mocked, TEXT, status=422, json=body)
    with pytest.raises(PlatformRejected, match="character limit of 500 exceeded") as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse"))
    assert caught.value.platform_error == body and not caught.value.retryable


def test_verify_credentials(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/api/v1/accounts/verify_credentials", match=[matchers.header_matcher(AUTH)],
               json={"id": "1", "username": "alice", "acct": "alice", "display_name": "Alice"})
    profile = adapter.verify_credentials(dict(ACCOUNT.credentials))
    assert (profile.handle, profile.display_name) == ("alice@mastodon.social", "Alice")


def test_instance_on_a_private_address_is_refused(adapter: Platform, mocked: responses.RequestsMock) -> None:
    adapter.resolver = lambda host, port: ["10.0.0.7"]
    account = make_account("mastodon", "eve@intranet", instance_url="http://intranet.example", access_token="tok")
    with pytest.raises(PlatformRejected) as caught:
        adapter.publish(account, PublishRequest("tgt_1", "Hello fediverse"))
    assert caught.value.code == "url_refused"
    assert not mocked.calls


@pytest.mark.parametrize("name", ["bluesky", "mastodon", "x", "linkedin"])
def test_preflight_needs_no_network_and_no_session(name: str) -> None:
    from postdodo_connect.platforms import adapter_class

    adapter = adapter_class(name)()
    assert adapter.validate("hi", []) == []
    assert adapter._requests_session is None


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_is_the_media_description_and_options_go_on_the_status(
        adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{BASE}/api/v2/media", json={**ATTACHMENT, "description": "A dodo"}, match=[matchers.header_matcher(AUTH)])
    status_call(mocked, {"status": "Hello fediverse", "visibility": "unlisted", "spoiler_text": "birds",
                         "language": "en", "sensitive": True, "media_ids": ["22348641"]})
    options = {"visibility": "unlisted", "spoiler_text": "birds", "language": "en", "sensitive": True}
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello fediverse", media=[Media("image", image.url, alt="A dodo")],
                                            options=options))
    upload = next(c for c in mocked.calls if "/api/v2/media" in c.request.url)
    assert b'name="description"\r\n\r\nA dodo\r\n' in upload.request.body


def test_alt_text_limit_is_1500_characters() -> None:
    image = Media("image", "https://cdn.example.com/a.jpg", alt="a" * 1501)
    assert [p.rule for p in validate("mastodon", "x", [image])] == ["mastodon.media.alt_max_length"]
