"""Instagram adapter: preflight, container -> status -> media_publish -> permalink, Graph errors, reconcile."""

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
from postdodo_connect.platforms import Media, Progress, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import IMAGE_URL, NOW, make_account

G = "https://graph.facebook.com/v23.0"
USER = "17841400000000001"
TOKEN = "EAAG-ig-token"
ACCOUNT = make_account("instagram", "dodo.shop", access_token=TOKEN, ig_user_id=USER)
CONTAINER, MEDIA = "17889455560051444", "17920238422030506"
LINK = "https://www.instagram.com/p/C7Zk9yZv9xX/"
IMAGE = Media(type="image", url=IMAGE_URL)
POST = PublishRequest(target_id="tgt_1", caption="Launch day!", media=[IMAGE])


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("instagram")


def form(**fields: str) -> Any:
    return matchers.urlencoded_params_matcher({**fields, "access_token": TOKEN})


def query(**fields: str) -> Any:
    return matchers.query_param_matcher({**fields, "access_token": TOKEN})


def graph_error(code: int, message: str, subcode: int | None = None, transient: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "is_transient": transient, "fbtrace_id": "A6LJylpZRKw2xKLFsAP-cJh"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


def container_ok(mocked: responses.RequestsMock, container: str = CONTAINER, **sent: str) -> None:
    mocked.post(f"{G}/{USER}/media", json={"id": container}, match=[form(**sent)])
    mocked.get(f"{G}/{container}", json={"status_code": "FINISHED", "id": container}, match=[query(fields="status_code,status")])


def publish_ok(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media_publish", json={"id": MEDIA}, match=[form(creation_id=CONTAINER)])
    mocked.get(f"{G}/{MEDIA}", json={"permalink": LINK, "id": MEDIA}, match=[query(fields="permalink")])


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 2200, True), ("a" * 2201, False),
    ("日本" * 1100, True), ("日本" * 1100 + "語", False),
    ("😀" * 2200, True), ("😀" * 2201, False),
])
def test_caption_limit_at_the_boundary(adapter: Platform, caption: str, ok: bool) -> None:
    rules = [p.rule for p in adapter.validate(caption, [IMAGE])]
    assert rules == ([] if ok else ["instagram.caption.max_length"])


def test_hashtag_and_mention_caps(adapter: Platform) -> None:
    assert adapter.validate(" ".join(f"#tag{i}" for i in range(30)), [IMAGE]) == []
    assert [p.rule for p in adapter.validate(" ".join(f"#tag{i}" for i in range(31)), [IMAGE])] == ["instagram.caption.max_hashtags"]
    assert adapter.validate(" ".join(f"@user{i}" for i in range(20)) + " mail me@example.com", [IMAGE]) == []
    assert [p.rule for p in adapter.validate(" ".join(f"@user.{i}" for i in range(21)), [IMAGE])] == ["instagram.caption.max_mentions"]


def test_media_is_required_and_carousel_holds_ten(adapter: Platform) -> None:
    assert [p.rule for p in adapter.validate("hi", [])] == ["instagram.media.required"]
    assert adapter.validate("hi", [IMAGE] * 10) == []
    assert [p.rule for p in adapter.validate("hi", [IMAGE] * 11)] == ["instagram.media.max_count"]


def test_caption_only_post_is_refused_without_a_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, PublishRequest(target_id="tgt_1", caption="text only"))
    assert info.value.code == "media_required"


def test_permalink_and_sample_id_look_real(adapter: Platform) -> None:
    post_id = adapter.sample_post_id("seed")
    assert post_id.isdigit() and len(post_id) == 17 and post_id == adapter.sample_post_id("seed")
    link = adapter.permalink("dodo.shop", post_id)
    assert link.startswith("https://www.instagram.com/p/") and link.endswith("/") and len(link.split("/")[4]) == 11


# -- publish -----------------------------------------------------------------------------------


def test_image_post_creates_waits_publishes_and_reads_the_permalink(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!")
    publish_ok(mocked)
    published = adapter.publish(ACCOUNT, POST)
    assert (published.platform_post_id, published.permalink) == (MEDIA, LINK)


def test_reel_processing_for_ten_minutes_is_checked_never_waited_on(adapter: Platform, mocked: responses.RequestsMock,
                                                                    clock: Any, sleeps: list[float]) -> None:
    reel = PublishRequest(target_id="t", caption="Launch day!", media=[Media(type="video", url="https://cdn.example.com/r.mp4")],
                          progress=Progress())
    mocked.post(f"{G}/{USER}/media", json={"id": CONTAINER})
    mocked.get(f"{G}/{CONTAINER}", json={"status_code": "IN_PROGRESS", "id": CONTAINER})
    checks = 0
    while clock.now < NOW + 600:  # the engine comes back when told; here the attempts run back to back
        with pytest.raises(StillProcessing) as info:
            adapter.publish(ACCOUNT, reel)
        assert info.value.budget == 900.0
        clock.now += info.value.check_after
        checks += 1
    mocked.get(f"{G}/{CONTAINER}", json={"status_code": "FINISHED", "id": CONTAINER})
    publish_ok(mocked)
    assert adapter.publish(ACCOUNT, reel).platform_post_id == MEDIA
    assert checks == 20 and sleeps == []  # a check every 30 s, one container in all
    assert sum(c.request.method == "POST" and c.request.url.endswith(f"{USER}/media") for c in mocked.calls) == 1


def test_carousel_children_then_carousel_container(adapter: Platform, mocked: responses.RequestsMock) -> None:
    video = Media(type="video", url="https://cdn.example.com/v.mp4")
    mocked.post(f"{G}/{USER}/media", json={"id": "1001"}, match=[form(image_url=IMAGE_URL, is_carousel_item="true")])
    mocked.post(f"{G}/{USER}/media", json={"id": "1002"}, match=[form(video_url=video.url, media_type="VIDEO", is_carousel_item="true")])
    for child in ("1001", "1002"):
        mocked.get(f"{G}/{child}", json={"status_code": "FINISHED", "id": child})
    container_ok(mocked, media_type="CAROUSEL", children="1001,1002", caption="Two")
    publish_ok(mocked)
    assert adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Two", media=[IMAGE, video])).permalink == LINK


def test_single_video_is_published_as_a_reel(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, video_url="https://cdn.example.com/v.mp4", media_type="REELS", caption="Clip")
    publish_ok(mocked)
    request = PublishRequest(target_id="t", caption="Clip", media=[Media(type="video", url="https://cdn.example.com/v.mp4")])
    assert adapter.publish(ACCOUNT, request).platform_post_id == MEDIA


def test_failed_permalink_read_falls_back_to_the_profile(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!")
    mocked.post(f"{G}/{USER}/media_publish", json={"id": MEDIA})
    mocked.get(f"{G}/{MEDIA}", status=500, json=graph_error(2, "Service temporarily unavailable", transient=True))
    assert adapter.publish(ACCOUNT, POST).permalink == "https://www.instagram.com/dodo.shop/"


# -- errors ------------------------------------------------------------------------------------


def test_throttle_uses_the_usage_header_minutes(adapter: Platform, mocked: responses.RequestsMock) -> None:
    usage = '{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":20,"total_time":25,"estimated_time_to_regain_access":15}]}'
    mocked.post(f"{G}/{USER}/media", status=400, json=graph_error(4, "Application request limit reached", transient=True),
                headers={"X-Business-Use-Case-Usage": usage})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, POST)
    assert info.value.retry_after == 900 and info.value.retryable


def test_daily_publish_cap_defers_a_day(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!")
    body = graph_error(9, "You reached maximum number of posts that is allowed to be published by Content Publishing API", 2207042)
    mocked.post(f"{G}/{USER}/media_publish", status=403, json=body)
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, POST)
    assert (info.value.code, info.value.retry_after) == ("publish_limit", 86400)


def test_spam_restriction_is_final_despite_code_4(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media", status=400, json=graph_error(4, "We restrict certain activity to protect our community", 2207051))
    with pytest.raises(PlatformRejected):
        adapter.publish(ACCOUNT, POST)


def test_expired_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media", status=400, json=graph_error(190, "Error validating access token: Session has expired", 463))
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, POST)
    assert info.value.code == "auth_expired" and not info.value.retryable


def test_permanent_error_keeps_the_message_and_body(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = graph_error(36000, "The image size is too large.", 2207004)
    body["error"]["error_user_msg"] = "The image is too large to download. It should be less than 8 MiB."
    mocked.post(f"{G}/{USER}/media", status=400, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, POST)
    assert "The image size is too large." in info.value.message and "8 MiB" in info.value.message
    assert info.value.platform_error == body and not info.value.retryable


def test_transient_error_on_a_container_is_retryable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media", status=400, json=graph_error(-2, "It takes too long to download the media.", 2207003))
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, POST)


def test_server_error_on_a_container_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media", status=500, json=graph_error(1, "An unknown error occurred", transient=True))
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, POST)


def test_container_error_status_is_final(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{G}/{USER}/media", json={"id": CONTAINER})
    mocked.get(f"{G}/{CONTAINER}", json={"status_code": "ERROR", "status": "Error: 2207009", "id": CONTAINER})
    with pytest.raises(PlatformRejected, match="2207009"):
        adapter.publish(ACCOUNT, POST)


@pytest.mark.parametrize("answer", [
    {"status": 500, "json": graph_error(1, "An unknown error occurred", transient=True)},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
])
def test_ambiguous_publish_is_unknown_and_lookup_finds_the_post(adapter: Platform, mocked: responses.RequestsMock, answer: dict[str, Any]) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!")
    mocked.post(f"{G}/{USER}/media_publish", **answer)
    # not (yet) PUBLISHED: only the engine's later lookup can tell
    mocked.get(f"{G}/{CONTAINER}", json={"status_code": "FINISHED", "id": CONTAINER}, match=[query(fields="status_code")])
    with pytest.raises(OutcomeUnknown) as info:
        adapter.publish(ACCOUNT, POST)
    assert adapter.has_lookup and info.value.retryable
    mocked.get(f"{G}/{USER}/media", match=[query(fields="id,permalink,caption,timestamp", limit="25")], json={"data": [
        {"id": "17900000000000001", "caption": "Older post", "permalink": "https://www.instagram.com/p/Old/", "timestamp": "2026-08-21T09:00:00+0000"},
        {"id": MEDIA, "caption": "Launch day!", "permalink": LINK, "timestamp": "2026-08-21T21:59:58+0000"},
    ]})
    found = adapter.lookup(ACCOUNT, POST)
    assert found is not None and (found.platform_post_id, found.permalink) == (MEDIA, LINK)


def test_lookup_ignores_old_posts_with_the_same_caption(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{USER}/media", json={"data": [
        {"id": MEDIA, "caption": "Launch day!", "permalink": LINK, "timestamp": "2026-08-01T10:00:00+0000"},
    ]})
    assert adapter.lookup(ACCOUNT, POST) is None


# -- credentials -------------------------------------------------------------------------------


def test_verify_credentials_reads_the_username(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{USER}", match=[query(fields="id,username,name")], json={"id": USER, "username": "dodo.shop", "name": "Dodo Shop"})
    profile = adapter.verify_credentials({"access_token": TOKEN, "ig_user_id": USER})
    assert (profile.handle, profile.display_name) == ("dodo.shop", "Dodo Shop")


def test_verify_credentials_refused(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{G}/{USER}", status=400, json=graph_error(190, "Invalid OAuth access token - Cannot parse access token"))
    with pytest.raises(PlatformAuthError):
        adapter.verify_credentials({"access_token": TOKEN, "ig_user_id": USER})


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_and_collaborators_go_on_the_container(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!", alt_text="A dodo",
                 collaborators='["bob.shop"]')
    publish_ok(mocked)
    adapter.publish(ACCOUNT, PublishRequest(target_id="tgt_1", caption="Launch day!",
                                            media=[Media(type="image", url=IMAGE_URL, alt="A dodo")],
                                            options={"kind": "feed", "collaborators": ["bob.shop"], "share_to_feed": True}))


def test_story_kind_makes_a_stories_container(adapter: Platform, mocked: responses.RequestsMock) -> None:
    container_ok(mocked, image_url=IMAGE_URL, caption="Launch day!", media_type="STORIES")
    publish_ok(mocked)
    adapter.publish(ACCOUNT, PublishRequest(target_id="tgt_1", caption="Launch day!", media=[IMAGE],
                                            options={"kind": "story"}))


@pytest.mark.parametrize(("kind", "media", "ok"), [
    ("story", [IMAGE], True), ("story", [IMAGE, IMAGE], False),
    ("reel", [Media(type="video", url="https://cdn.example.com/r.mp4")], True), ("reel", [IMAGE], False),
    ("feed", [IMAGE, IMAGE], True),
])
def test_kind_needs_the_right_media(adapter: Platform, kind: str, media: list[Media], ok: bool) -> None:
    problems = adapter.validate_options({"kind": kind}, media)
    assert [p.rule for p in problems] == ([] if ok else ["instagram.options.kind"])
