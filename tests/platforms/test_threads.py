"""Threads adapter: emoji-as-bytes preflight, container -> threads_publish -> permalink, the 500-after-persist case."""

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
    StillProcessing,
)
from postdodo_connect.platforms import Media, Progress, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import IMAGE_URL, make_account

G = "https://graph.threads.net/v1.0"
USER = "25012345678901234"
TOKEN = "THAAG-threads-token"
ACCOUNT = make_account("threads", "alice", access_token=TOKEN, user_id=USER)
CONTAINER, MEDIA = "17889615691921648", "18073912352326148"
LINK = "https://www.threads.net/@alice/post/C-AbCdEfGhI"
TEXT = PublishRequest(target_id="tgt_1", caption="Launch day!")


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("threads")


def form(**fields: str) -> Any:
    return matchers.urlencoded_params_matcher({**fields, "access_token": TOKEN})


def query(**fields: str) -> Any:
    return matchers.query_param_matcher({**fields, "access_token": TOKEN})


def th_error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": "THApiException", "code": code, "fbtrace_id": "A98u-2xYz", **extra}}


def publish_ok(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/threads_publish", json={"id": MEDIA}, match=[form(creation_id=CONTAINER)])
    mocked.get(f"{G}/{MEDIA}", json={"id": MEDIA, "permalink": LINK}, match=[query(fields="permalink")])


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 500, True), ("a" * 501, False),
    ("日" * 500, True), ("日" * 501, False),  # CJK: one character each
    ("😀" * 125, True), ("😀" * 125 + "a", False),  # an emoji counts its 4 UTF-8 bytes
    ("🇫🇷" * 62 + "abcd", True), ("🇫🇷" * 62 + "abcde", False),  # a flag is 8 bytes
])
def test_caption_counts_emoji_as_utf8_bytes(adapter: Platform, caption: str, ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, [])] == ([] if ok else ["threads.caption.max_length"])


def test_carousel_takes_twenty_items(adapter: Platform) -> None:
    image = Media(type="image", url=IMAGE_URL)
    assert adapter.validate("hi", [image] * 20) == []
    assert [p.rule for p in adapter.validate("hi", [image] * 21)] == ["threads.media.max_count"]


def test_permalink_and_sample_id_look_real(adapter: Platform) -> None:
    post_id = adapter.sample_post_id("seed")
    assert post_id.isdigit() and len(post_id) == 17
    assert adapter.permalink("@alice", post_id).startswith("https://www.threads.net/@alice/post/")


# -- publish -----------------------------------------------------------------------------------


def test_text_post_needs_no_status_poll(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/threads", json={"id": CONTAINER}, match=[form(media_type="TEXT", text="Launch day!")])
    publish_ok(mocked)
    published = adapter.publish(ACCOUNT, TEXT)
    assert (published.platform_post_id, published.permalink) == (MEDIA, LINK)


def test_image_post_checks_the_container_later_and_resumes_it(adapter: Platform, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.post(f"{G}/{USER}/threads", json={"id": CONTAINER}, match=[form(media_type="IMAGE", image_url=IMAGE_URL, text="Look")])
    mocked.get(f"{G}/{CONTAINER}", json={"status": "IN_PROGRESS", "id": CONTAINER}, match=[query(fields="status,error_message")])
    request = PublishRequest(target_id="t", caption="Look", media=[Media(type="image", url=IMAGE_URL)], progress=Progress())
    with pytest.raises(StillProcessing) as info:
        adapter.publish(ACCOUNT, request)
    assert info.value.check_after == 5.0 and sleeps == [] and request.state["container_id"] == CONTAINER
    mocked.get(f"{G}/{CONTAINER}", json={"status": "FINISHED", "id": CONTAINER}, match=[query(fields="status,error_message")])
    publish_ok(mocked)
    assert adapter.publish(ACCOUNT, request).permalink == LINK  # the same container: one create in all
    assert sum(c.request.method == "POST" and c.request.url.endswith(f"{USER}/threads") for c in mocked.calls) == 1


def test_expired_container_is_made_anew_on_the_next_attempt(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{CONTAINER}", json={"status": "EXPIRED", "id": CONTAINER})
    request = PublishRequest(target_id="t", caption="Look", media=[Media(type="video", url="https://cdn.example.com/v.mp4")],
                             progress=Progress({"container_id": CONTAINER}))
    with pytest.raises(PlatformUnavailable) as info:
        adapter.publish(ACCOUNT, request)
    assert info.value.retryable and not request.state["container_id"]


# -- errors ------------------------------------------------------------------------------------


def test_throttle_uses_the_usage_header_minutes(adapter: Platform, mocked: responses.RequestsMock) -> None:
    usage = '{"25012345678901234":[{"type":"threads","call_count":100,"estimated_time_to_regain_access":3}]}'
    mocked.post(f"{G}/{USER}/threads", status=400, json=th_error(613, "Calls to this api have exceeded the rate limit."),
                headers={"X-Business-Use-Case-Usage": usage, "X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}'})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 180


def test_too_long_text_keeps_the_platform_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = th_error(100, "Param text must be at most 500 characters long.")
    mocked.post(f"{G}/{USER}/threads", status=400, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.message == "Param text must be at most 500 characters long." and info.value.platform_error == body


def test_invalid_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/threads", status=400, json=th_error(190, "Error validating access token: The session has been invalidated."))
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.code == "auth_expired"


def test_server_error_on_the_container_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/threads", status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, TEXT)


RECENT = {"data": [
    {"id": "18000000000000001", "text": "Launch day!", "permalink": "https://www.threads.net/@alice/post/Old", "timestamp": "2026-08-10T10:00:00+0000"},
    {"id": MEDIA, "text": "Launch day!", "permalink": LINK, "timestamp": "2026-08-21T21:59:00+0000"},
], "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}


def failing_publish(mocked: responses.RequestsMock, container_status: str) -> None:
    mocked.post(f"{G}/{USER}/threads", json={"id": CONTAINER})
    mocked.post(f"{G}/{USER}/threads_publish", status=500, json=th_error(10, "Application does not have permission for this action"))
    mocked.get(f"{G}/{CONTAINER}", match=[query(fields="status")], json={"status": container_status, "id": CONTAINER})


def test_500_code_10_on_a_published_container_confirms_the_post(adapter: Platform, mocked: responses.RequestsMock) -> None:
    failing_publish(mocked, "PUBLISHED")
    mocked.get(f"{G}/{USER}/threads", match=[query(fields="id,permalink,text,timestamp", limit="25")], json=RECENT)
    published = adapter.publish(ACCOUNT, TEXT)
    assert (published.platform_post_id, published.permalink) == (MEDIA, LINK)


def test_published_container_with_an_unreadable_listing_stays_unknown(adapter: Platform, mocked: responses.RequestsMock) -> None:
    failing_publish(mocked, "PUBLISHED")
    mocked.get(f"{G}/{USER}/threads", status=503, body="upstream error")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)


def test_500_on_an_unpublished_container_is_unknown_and_lookup_finds_it_later(adapter: Platform, mocked: responses.RequestsMock) -> None:
    failing_publish(mocked, "FINISHED")
    with pytest.raises(OutcomeUnknown) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.platform_error["container_id"] == CONTAINER and adapter.has_lookup
    mocked.get(f"{G}/{USER}/threads", match=[query(fields="id,permalink,text,timestamp", limit="25")], json=RECENT)
    found = adapter.lookup(ACCOUNT, TEXT)
    assert found is not None and (found.platform_post_id, found.permalink) == (MEDIA, LINK)


def test_lookup_finds_nothing_when_the_publish_did_not_land(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{USER}/threads", json={"data": [{"id": "1", "text": "Something else", "timestamp": "2026-08-21T21:00:00+0000"}]})
    assert adapter.lookup(ACCOUNT, TEXT) is None


def test_verify_credentials(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{USER}", match=[query(fields="id,username,name")], json={"id": USER, "username": "alice", "name": "Alice"})
    assert adapter.verify_credentials({"access_token": TOKEN, "user_id": USER}).handle == "alice"


def test_missing_credential_is_an_auth_error(adapter: Platform) -> None:
    with pytest.raises(PlatformAuthError):
        adapter.verify_credentials({"access_token": TOKEN})


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_and_options_go_on_the_container(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/threads", json={"id": CONTAINER}, match=[form(
        media_type="IMAGE", image_url=IMAGE_URL, alt_text="A dodo", text="Look", topic_tag="birds",
        reply_control="accounts_you_follow")])
    mocked.get(f"{G}/{CONTAINER}", json={"status": "FINISHED", "id": CONTAINER})
    publish_ok(mocked)
    adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Look", media=[Media("image", IMAGE_URL, alt="A dodo")],
                                            options={"topic_tag": "birds", "reply_control": "accounts_you_follow"}))
