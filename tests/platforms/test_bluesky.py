"""Bluesky adapter: preflight, createSession/uploadBlob/createRecord, errors, reconcile by rkey."""

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
)
from postdodo_connect.platforms import Media, Progress, PublishRequest, validate
from postdodo_connect.platforms import bluesky as bsky
from postdodo_connect.platforms.base import Platform

from .conftest import JPEG, NOW, make_account

SERVICE = "https://bsky.social/xrpc"
PDS = "https://morel.us-east.host.bsky.network/xrpc"
DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
RKEY = bsky.tid_for("tgt_1")
URI = f"at://{DID}/app.bsky.feed.post/{RKEY}"
SESSION = {
    "did": DID, "handle": "alice.bsky.social", "email": "alice@example.com", "emailConfirmed": True,
    "accessJwt": "access-1", "refreshJwt": "refresh-1", "active": True,
    "didDoc": {"id": DID, "alsoKnownAs": ["at://alice.bsky.social"],
               "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                            "serviceEndpoint": "https://morel.us-east.host.bsky.network"}]},
}
CREATED = {"uri": URI, "cid": "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm",
           "commit": {"cid": "bafyreihnbm3qx7kqv2ehzo3m2g2axdkrb3qtpcmg7ydeoyxkbg5ccaiqbu", "rev": "3lbtxqy2xoy2s"},
           "validationStatus": "valid"}
BLOB = {"$type": "blob", "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"},
        "mimeType": "image/jpeg", "size": len(JPEG)}
ACCOUNT = make_account("bluesky", "alice.bsky.social", identifier="alice.bsky.social", app_password="abcd-efgh-ijkl-mnop")
CREATED_AT = "2026-08-21T22:00:00.000Z"  # the fixed clock


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("bluesky")


def login(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{SERVICE}/com.atproto.server.createSession", json=SESSION, match=[
        matchers.json_params_matcher({"identifier": "alice.bsky.social", "password": "abcd-efgh-ijkl-mnop"})])


def record_call(mocked: responses.RequestsMock, record: dict[str, Any], **answer: Any) -> None:
    body = {"repo": DID, "collection": "app.bsky.feed.post", "rkey": RKEY, "record": record}
    mocked.post(f"{PDS}/com.atproto.repo.createRecord", match=[
        matchers.json_params_matcher(body), matchers.header_matcher({"Authorization": "Bearer access-1"})],
        **(answer or {"json": CREATED}))


def text_record(text: str = "Hello Bluesky") -> dict[str, Any]:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": CREATED_AT}


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "rules"), [
    ("a" * 300, []),
    ("a" * 301, ["bluesky.caption.max_graphemes"]),
    ("😀" * 300, []),
    ("😀" * 301, ["bluesky.caption.max_graphemes"]),
    ("日" * 300, []),
    ("日" * 301, ["bluesky.caption.max_graphemes"]),
    ("https://example.com/" + "p" * 280, []),  # URLs count in full on Bluesky
    ("https://example.com/" + "p" * 281, ["bluesky.caption.max_graphemes"]),
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466" * 120, []),  # 3000 bytes
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466" * 121, ["bluesky.caption.max_bytes"]),
])
def test_caption_limits(caption: str, rules: list[str]) -> None:
    assert [p.rule for p in validate("bluesky", caption, [])] == rules


def test_media_rules() -> None:
    images = [Media("image", f"https://cdn.example.com/{i}.jpg") for i in range(5)]
    assert validate("bluesky", "x", images[:4]) == []
    assert [p.rule for p in validate("bluesky", "x", images)] == ["bluesky.media.max_count"]
    video = Media("video", "https://cdn.example.com/v.mp4")
    assert validate("bluesky", "x", [video]) == []
    assert [p.rule for p in validate("bluesky", "x", [video, images[0]])] == ["bluesky.media.video_alone"]


def test_rkey_is_a_valid_deterministic_tid() -> None:
    import re

    tids = {bsky.tid_for(f"tgt_{i}") for i in range(500)}
    assert len(tids) == 500
    assert all(re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", t) for t in tids)
    assert bsky.tid_for("tgt_1") == RKEY


def test_facets_use_utf8_byte_offsets() -> None:
    text = "😀 see https://example.com/a and #launch"
    link, tag = bsky.facets(text)
    assert link["index"] == {"byteStart": 9, "byteEnd": 30}
    assert link["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a"}]
    assert tag["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "launch"}]
    assert text.encode()[tag["index"]["byteStart"]:tag["index"]["byteEnd"]] == b"#launch"


# -- publish -----------------------------------------------------------------------------------


def test_text_post_uses_the_target_rkey_and_builds_the_permalink(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    record_call(mocked, text_record())
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert published.platform_post_id == URI
    assert published.permalink == f"https://bsky.app/profile/alice.bsky.social/post/{RKEY}"


def test_session_is_reused_between_posts(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    record_call(mocked, text_record())
    record_call(mocked, text_record())
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert sum("createSession" in c.request.url for c in mocked.calls) == 1


def test_image_post_uploads_the_blob(adapter: Platform, mocked: responses.RequestsMock,
                                     serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    login(mocked)
    mocked.post(f"{PDS}/com.atproto.repo.uploadBlob", json={"blob": BLOB}, match=[
        matchers.header_matcher({"Content-Type": "image/jpeg", "Authorization": "Bearer access-1"})])
    record = {**text_record("Photo"), "embed": {"$type": "app.bsky.embed.images",
                                                "images": [{"alt": "", "image": BLOB}]}}
    record_call(mocked, record)
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Photo", media=[image]))
    upload = next(c for c in mocked.calls if "uploadBlob" in c.request.url)
    assert upload.request.body == JPEG


def test_a_later_attempt_reuses_the_saved_blob(adapter: Platform, mocked: responses.RequestsMock,
                                               serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    login(mocked)
    mocked.post(f"{PDS}/com.atproto.repo.uploadBlob", json={"blob": BLOB})
    record = {**text_record("Photo"), "embed": {"$type": "app.bsky.embed.images",
                                                "images": [{"alt": "", "image": BLOB}]}}
    record_call(mocked, record, status=502, json={"error": "UpstreamFailure", "message": "Upstream Failure"})
    request = PublishRequest("tgt_1", "Photo", media=[image], progress=Progress())
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, request)
    mocked.get(f"{PDS}/com.atproto.repo.getRecord", status=400,
               json={"error": "RecordNotFound", "message": f"Could not locate record: {URI}"})
    record_call(mocked, record)
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Photo", media=[image], attempt=2, progress=request.progress))
    assert sum("uploadBlob" in c.request.url for c in mocked.calls) == 1


def test_expired_token_is_refreshed_once_within_the_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    body = {"repo": DID, "collection": "app.bsky.feed.post", "rkey": RKEY, "record": text_record()}
    mocked.post(f"{PDS}/com.atproto.repo.createRecord", status=400,
                json={"error": "ExpiredToken", "message": "Token has expired"})
    mocked.post(f"{SERVICE}/com.atproto.server.refreshSession", json={**SESSION, "accessJwt": "access-2"},
                match=[matchers.header_matcher({"Authorization": "Bearer refresh-1"})])
    mocked.post(f"{PDS}/com.atproto.repo.createRecord", json=CREATED, match=[
        matchers.json_params_matcher(body), matchers.header_matcher({"Authorization": "Bearer access-2"})])
    assert adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky")).platform_post_id == URI


def test_token_still_refused_after_refresh_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    invalid = {"error": "InvalidToken", "message": "Token could not be verified"}
    mocked.post(f"{PDS}/com.atproto.repo.createRecord", status=400, json=invalid)
    mocked.post(f"{SERVICE}/com.atproto.server.refreshSession", json=SESSION)
    mocked.post(f"{PDS}/com.atproto.repo.createRecord", status=400, json=invalid)
    with pytest.raises(PlatformAuthError) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert caught.value.code == "auth_expired"
    assert caught.value.platform_error == invalid


def test_wrong_app_password_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    mocked.post(f"{SERVICE}/com.atproto.server.createSession", status=401, json=body)
    with pytest.raises(PlatformAuthError, match="Invalid identifier or password"):
        adapter.verify_credentials(dict(ACCOUNT.credentials))


def test_verify_credentials_returns_the_handle(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    assert adapter.verify_credentials(dict(ACCOUNT.credentials)).handle == "alice.bsky.social"


def test_rate_limit_hint_comes_from_ratelimit_reset(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW) + 95),
               "ratelimit-policy": "3000;w=300"}
    record_call(mocked, text_record(), status=429, headers=headers,
                json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert caught.value.retry_after == 95
    assert caught.value.retryable


def test_invalid_record_is_rejected_with_the_platform_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    body = {"error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}
    record_call(mocked, text_record(), status=400, json=body)
    with pytest.raises(PlatformRejected, match="must not be longer than 300 graphemes") as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert caught.value.platform_error == body
    assert not caught.value.retryable


def test_blob_upload_5xx_is_retryable(adapter: Platform, mocked: responses.RequestsMock,
                                      serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    login(mocked)
    mocked.post(f"{PDS}/com.atproto.repo.uploadBlob", status=502, json={"error": "UpstreamFailure", "message": "Upstream Failure"})
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Photo", media=[image]))


@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"error": "InternalServerError", "message": "Internal Server Error"}},
    {"body": requests.ReadTimeout("read timed out")},
])
def test_ambiguous_create_is_unknown_and_lookup_finds_the_record(
    adapter: Platform, mocked: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    login(mocked)
    record_call(mocked, text_record(), **failure)
    request = PublishRequest("tgt_1", "Hello Bluesky")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, request)
    mocked.get(f"{PDS}/com.atproto.repo.getRecord", json={"uri": URI, "cid": CREATED["cid"], "value": text_record()},
               match=[matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": RKEY})])
    found = adapter.lookup(ACCOUNT, request)
    assert found is not None and found.platform_post_id == URI
    assert adapter.has_lookup


def test_lookup_returns_none_when_the_record_does_not_exist(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    mocked.get(f"{PDS}/com.atproto.repo.getRecord", status=400,
               json={"error": "RecordNotFound", "message": f"Could not locate record: {URI}"})
    assert adapter.lookup(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky")) is None


def test_retry_confirms_an_existing_record_instead_of_recreating_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    mocked.get(f"{PDS}/com.atproto.repo.getRecord", json={"uri": URI, "cid": CREATED["cid"], "value": text_record()})
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky", attempt=2))
    assert published.platform_post_id == URI
    assert not any("createRecord" in c.request.url for c in mocked.calls)


def test_collected_blob_is_retryable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    login(mocked)
    record_call(mocked, text_record(), status=400,
                json={"error": "BlobNotFound", "message": "Could not find blob: bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"})
    with pytest.raises(PlatformUnavailable) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Hello Bluesky"))
    assert caught.value.code == "media_expired"


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_and_langs_reach_the_record(adapter: Platform, mocked: responses.RequestsMock,
                                             serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    login(mocked)
    mocked.post(f"{PDS}/com.atproto.repo.uploadBlob", json={"blob": BLOB})
    record = {**text_record("Photo"), "langs": ["en", "de"],
              "embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "A dodo on a beach", "image": BLOB}]}}
    record_call(mocked, record)
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", "Photo", media=[Media("image", image.url, alt="A dodo on a beach")],
                                            options={"langs": ["en", "de"]}))


def test_alt_text_longer_than_bluesky_takes_is_refused() -> None:
    image = Media("image", "https://cdn.example.com/a.jpg", alt="a" * 2001)
    assert [p.rule for p in validate("bluesky", "x", [image])] == ["bluesky.media.alt_max_length"]
    assert validate("bluesky", "x", [Media("image", image.url, alt="a" * 2000)]) == []
