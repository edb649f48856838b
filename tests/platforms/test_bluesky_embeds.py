"""Bluesky mentions (handles resolved to DIDs), link cards, and video through the video service: exact requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformRejected, StillProcessing
from postdodo_connect.platforms import Media, Progress, PublishRequest
from postdodo_connect.platforms import bluesky as bsky
from postdodo_connect.platforms.base import Platform

from .conftest import JPEG, MP4, NOW, PUBLIC_IP
from .test_bluesky import ACCOUNT, BLOB, DID, PDS, login, record_call, text_record

VIDEO = "https://video.bsky.app/xrpc"
CAROL = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
PAGE_URL = "https://blog.example.com/launch"
PAGE = b"""<!doctype html><html><head><title>Fallback title</title>
<meta property="og:title" content="Launch day &amp; more">
<meta property="og:description" content="Everything we shipped.">
<meta property="og:image" content="/img/card.jpg">
</head><body>...</body></html>"""
VIDEO_BLOB = {"$type": "blob", "ref": {"$link": "bafkreifjl2bw3ldqc6xnnq7ptwfawrzxejoabsdq4oaqgbaahhhdkmdvbi"},
              "mimeType": "video/mp4", "size": 1_245_722}


@pytest.fixture(autouse=True)
def no_cached_sessions() -> Iterator[None]:
    bsky.forget_sessions()
    yield
    bsky.forget_sessions()


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("bluesky")


def resolves(mocked: responses.RequestsMock, handle: str, did: str | None) -> None:
    match = [matchers.query_param_matcher({"handle": handle}), matchers.header_matcher({"Authorization": "Bearer access-1"})]
    if did:
        mocked.get(f"{PDS}/com.atproto.identity.resolveHandle", json={"did": did}, match=match)
    else:
        mocked.get(f"{PDS}/com.atproto.identity.resolveHandle", status=400, match=match,
                   json={"error": "InvalidRequest", "message": "Unable to resolve handle"})


def span(text: str, part: str) -> dict[str, int]:
    start = text.encode().index(part.encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


# -- mentions ----------------------------------------------------------------------------------


def test_mentions_are_found_after_a_space_or_parenthesis_only() -> None:
    text = "Hi @Carol.Example.com (@dan.bsky.social). mail bob@example.com, @nodot, @carol.example.com again."
    assert bsky.mentions(text) == ["carol.example.com", "dan.bsky.social"]


def test_mention_facets_use_utf8_byte_offsets() -> None:
    text = "😀 日本 @carol.example.com"
    [facet] = bsky.facets(text, {"carol.example.com": CAROL})
    assert facet == {"index": {"byteStart": 12, "byteEnd": 30},
                     "features": [{"$type": "app.bsky.richtext.facet#mention", "did": CAROL}]}
    assert text.encode()[12:30] == b"@carol.example.com"


def test_resolved_mentions_are_linked_and_unresolvable_ones_stay_text(
    adapter: Platform, mocked: responses.RequestsMock,
) -> None:
    caption = "Thanks @carol.example.com and @ghost.bsky.social! cc @Carol.example.com"
    login(mocked)
    resolves(mocked, "carol.example.com", CAROL)
    resolves(mocked, "ghost.bsky.social", None)
    mention = [{"$type": "app.bsky.richtext.facet#mention", "did": CAROL}]
    second = caption.encode().rindex(b"@Carol")
    record_call(mocked, {**text_record(caption), "facets": [
        {"index": span(caption, "@carol.example.com"), "features": mention},
        {"index": {"byteStart": second, "byteEnd": second + 18}, "features": mention},
    ]})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", caption))
    # one lookup per handle in an attempt, however often it is mentioned
    assert sum("resolveHandle" in c.request.url for c in mocked.calls) == 2


# -- link cards --------------------------------------------------------------------------------


def test_a_link_without_media_gets_a_card_with_the_pages_open_graph_tags(
    adapter: Platform, mocked: responses.RequestsMock,
) -> None:
    caption = f"Read {PAGE_URL}"
    login(mocked)
    mocked.get(PAGE_URL, body=PAGE, content_type="text/html; charset=utf-8")
    mocked.get("https://blog.example.com/img/card.jpg", body=JPEG, content_type="image/jpeg")
    mocked.post(f"{PDS}/com.atproto.repo.uploadBlob", json={"blob": BLOB},
                match=[matchers.header_matcher({"Content-Type": "image/jpeg"})])
    card = {"$type": "app.bsky.embed.external", "external": {
        "uri": PAGE_URL, "title": "Launch day & more", "description": "Everything we shipped.", "thumb": BLOB}}
    link = {"index": span(caption, PAGE_URL), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": PAGE_URL}]}
    record_call(mocked, {**text_record(caption), "facets": [link], "embed": card})
    request = PublishRequest("tgt_1", caption, progress=Progress())
    adapter.publish(ACCOUNT, request)
    assert next(c for c in mocked.calls if "uploadBlob" in c.request.url).request.body == JPEG
    assert request.state["card"] == card  # a later attempt posts the same card without fetching again


def test_a_bare_domain_card_falls_back_to_the_title_and_skips_a_failing_image(
    adapter: Platform, mocked: responses.RequestsMock,
) -> None:
    caption = "new site: example.photography"
    login(mocked)
    mocked.get("https://example.photography", content_type="text/html",
               body=b"<html><head><title> Example\n Photography </title>"
                    b"<meta property='og:image' content='https://cdn.example.com/x.jpg'></head></html>")
    mocked.get("https://cdn.example.com/x.jpg", status=404)
    card = {"$type": "app.bsky.embed.external", "external": {
        "uri": "https://example.photography", "title": "Example Photography", "description": ""}}
    link = {"index": span(caption, "example.photography"),
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.photography"}]}
    record_call(mocked, {**text_record(caption), "facets": [link], "embed": card})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", caption))


@pytest.mark.parametrize("page", [
    {"status": 404, "body": b"not found", "content_type": "text/html"},
    {"status": 200, "body": JPEG, "content_type": "image/jpeg"},  # not a page
    {"status": 200, "body": b"<html><head></head></html>", "content_type": "text/html"},  # nothing to show
])
def test_a_page_that_fails_posts_without_a_card(
    adapter: Platform, mocked: responses.RequestsMock, page: dict[str, Any],
) -> None:
    caption = f"Read {PAGE_URL}"
    login(mocked)
    mocked.get(PAGE_URL, **page)
    link = {"index": span(caption, PAGE_URL), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": PAGE_URL}]}
    record_call(mocked, {**text_record(caption), "facets": [link]})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", caption))


def test_a_page_on_a_private_address_is_never_fetched(
    adapter: Platform, mocked: responses.RequestsMock,
) -> None:
    caption = f"Read {PAGE_URL}"
    adapter.resolver = lambda host, port: ["10.0.0.7" if host == "blog.example.com" else PUBLIC_IP]
    login(mocked)
    link = {"index": span(caption, PAGE_URL), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": PAGE_URL}]}
    record_call(mocked, {**text_record(caption), "facets": [link]})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", caption))
    assert not any(c.request.url.startswith(PAGE_URL) for c in mocked.calls)


# -- video -------------------------------------------------------------------------------------


def video_upload(mocked: responses.RequestsMock, **answer: Any) -> None:
    exp = str(int(NOW) + 1800)
    mocked.get(f"{PDS}/com.atproto.server.getServiceAuth", json={"token": "service-token"}, match=[
        matchers.query_param_matcher({"aud": "did:web:morel.us-east.host.bsky.network",
                                      "lxm": "com.atproto.repo.uploadBlob", "exp": exp}),
        matchers.header_matcher({"Authorization": "Bearer access-1"})])
    mocked.post(f"{VIDEO}/app.bsky.video.uploadVideo", match=[
        matchers.query_param_matcher({"did": DID, "name": "tgt_1.mp4"}),
        matchers.header_matcher({"Authorization": "Bearer service-token", "Content-Type": "video/mp4"})],
        **(answer or {"json": {"jobId": "jb_4o7kPrq", "did": DID, "state": "JOB_STATE_CREATED"}}))


def job_status(mocked: responses.RequestsMock, **status: Any) -> None:
    mocked.get(f"{VIDEO}/app.bsky.video.getJobStatus", match=[matchers.query_param_matcher({"jobId": "jb_4o7kPrq"})],
               json={"jobStatus": {"jobId": "jb_4o7kPrq", "did": DID, **status}})


def test_video_goes_through_the_video_service_and_is_checked_in_the_processing_phase(
    adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media],
) -> None:
    video = serve_media("https://cdn.example.com/v.mp4", body=MP4, content_type="video/mp4", kind="video")
    login(mocked)
    video_upload(mocked)
    request = PublishRequest("tgt_1", "Watch", media=[video], progress=Progress())
    with pytest.raises(StillProcessing) as caught:
        adapter.publish(ACCOUNT, request)
    assert caught.value.check_after == 5.0
    assert request.state["video_job"] == "jb_4o7kPrq"
    assert next(c for c in mocked.calls if "uploadVideo" in c.request.url).request.body == MP4

    job_status(mocked, state="JOB_STATE_ENCODING", progress=40)
    with pytest.raises(StillProcessing, match=r"JOB_STATE_ENCODING \(40%\)"):
        adapter.publish(ACCOUNT, request)

    job_status(mocked, state="JOB_STATE_COMPLETED", progress=100, blob=VIDEO_BLOB)
    record_call(mocked, {**text_record("Watch"), "embed": {"$type": "app.bsky.embed.video", "video": VIDEO_BLOB}})
    adapter.publish(ACCOUNT, request)
    assert sum("uploadVideo" in c.request.url for c in mocked.calls) == 1
    assert not any("/com.atproto.repo.uploadBlob" in c.request.url for c in mocked.calls)


def test_a_video_the_service_already_processed_is_posted_at_once(
    adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media],
) -> None:
    video = serve_media("https://cdn.example.com/v.mp4", body=MP4, content_type="video/mp4", kind="video")
    login(mocked)
    video_upload(mocked, status=409, json={"did": DID, "error": "already_exists", "jobId": "jb_4o7kPrq",
                                           "message": "Video already processed", "state": "JOB_STATE_COMPLETED",
                                           "blob": VIDEO_BLOB})
    record_call(mocked, {**text_record("Watch"), "embed": {"$type": "app.bsky.embed.video", "video": VIDEO_BLOB}})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Watch", media=[video]))


def test_a_failed_video_job_is_rejected_and_the_next_attempt_uploads_anew(
    adapter: Platform, mocked: responses.RequestsMock,
) -> None:
    job_status(mocked, state="JOB_STATE_FAILED", error="video processing error for job: jb_4o7kPrq",
               message="Failed to process video")
    progress = Progress({"video_job": "jb_4o7kPrq"})
    request = PublishRequest("tgt_1", "Watch", media=[Media("video", "https://cdn.example.com/v.mp4")], progress=progress)
    with pytest.raises(PlatformRejected, match="Failed to process video") as caught:
        adapter.publish(ACCOUNT, request)
    assert caught.value.code == "media_rejected"
    assert progress.state["video_job"] is None


def test_an_unconfirmed_email_refuses_the_upload_clearly(
    adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media],
) -> None:
    video = serve_media("https://cdn.example.com/v.mp4", body=MP4, content_type="video/mp4", kind="video")
    login(mocked)
    video_upload(mocked, status=400, json={"jobStatus": {"did": "", "error": "unconfirmed_email", "jobId": "", "state": ""}})
    with pytest.raises(PlatformRejected, match="unconfirmed_email"):
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Watch", media=[video]))
