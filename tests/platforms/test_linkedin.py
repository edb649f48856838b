"""LinkedIn adapter: preflight on escaped text, images API + /rest/posts, errors, DUPLICATE_POST recovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRateLimited, PlatformRejected, PlatformUnavailable
from postdodo_connect.platforms import Media, PublishRequest, validate
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.linkedin import escape

from .conftest import JPEG, make_account

API = "https://api.linkedin.com"
AUTHOR = "urn:li:person:8675309"
ACCOUNT = make_account("linkedin", "Alice Example", access_token="tok", author_urn=AUTHOR)
REST = {"Authorization": "Bearer tok", "LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}
URN = "urn:li:share:7141138937766391808"
CAPTION = "Launch day (beta)! Read more: https://example.com/blog #launch"


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("linkedin")


def post_body(commentary: str = CAPTION, content: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": AUTHOR, "commentary": escape(commentary), "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
    }
    if content:
        body["content"] = content
    return body


def posts_call(mocked: responses.RequestsMock, sent: dict[str, Any], **answer: Any) -> None:
    mocked.post(f"{API}/rest/posts", match=[matchers.json_params_matcher(sent), matchers.header_matcher(REST)],
                **(answer or {"status": 201, "body": "", "headers": {"x-restli-id": URN}}))


# -- preflight ---------------------------------------------------------------------------------


def test_escape_reserved_characters() -> None:
    assert escape("Launch (beta) #1 @bob_x") == r"Launch \(beta\) \#1 \@bob\_x"
    assert escape(r"a\b|{c}[d]<e>*f~") == r"a\\b\|\{c\}\[d\]\<e\>\*f\~"


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 3000, True), ("a" * 3001, False),
    ("a" * 2998 + "(", True), ("a" * 2999 + "(", False),  # "(" counts 2 once escaped
    ("😀" * 3000, True), ("日" * 3000, True), ("日" * 3001, False),
])
def test_caption_limits(caption: str, ok: bool) -> None:
    rules = [p.rule for p in validate("linkedin", caption, [])]
    assert rules == ([] if ok else ["linkedin.caption.max_length"])


def test_media_rules() -> None:
    assert [p.rule for p in validate("linkedin", "x", [Media("video", "https://cdn.example.com/v.mp4")])] == ["linkedin.media.kind"]
    images = [Media("image", f"https://cdn.example.com/{i}.jpg") for i in range(21)]
    assert validate("linkedin", "x", images[:20]) == []
    assert [p.rule for p in validate("linkedin", "x", images)] == ["linkedin.media.max_count"]


# -- publish -----------------------------------------------------------------------------------


def test_text_post_reads_the_urn_from_the_header(adapter: Platform, mocked: responses.RequestsMock) -> None:
    posts_call(mocked, post_body())
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert published.platform_post_id == URN
    assert published.permalink == f"https://www.linkedin.com/feed/update/{URN}/"


def test_author_defaults_to_the_tokens_member(adapter: Platform, mocked: responses.RequestsMock) -> None:
    account = make_account("linkedin", "Alice Example", access_token="tok")
    mocked.get(f"{API}/v2/userinfo", json={"sub": "8675309", "name": "Alice Example", "email_verified": True})
    posts_call(mocked, post_body())
    assert adapter.publish(account, PublishRequest("tgt_1", CAPTION)).platform_post_id == URN


def test_image_post_initializes_puts_and_references_the_image(adapter: Platform, mocked: responses.RequestsMock,
                                                              serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    upload_url = "https://www.linkedin.com/dms-uploads/sp/v2/C4E10AQFoyyAjHPMQuQ/uploaded-image/0?ca=vector_ads&cn=uploads"
    mocked.post(f"{API}/rest/images", match=[
        matchers.query_param_matcher({"action": "initializeUpload"}), matchers.header_matcher(REST),
        matchers.json_params_matcher({"initializeUploadRequest": {"owner": AUTHOR}})],
        json={"value": {"uploadUrlExpiresAt": 1650567510704, "uploadUrl": upload_url, "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ"}})
    mocked.put(upload_url, status=201, match=[matchers.header_matcher({"Authorization": "Bearer tok"})])
    posts_call(mocked, post_body(content={"media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ"}}))
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[image]))
    put = next(c for c in mocked.calls if c.request.method == "PUT")
    assert put.request.body == JPEG


def test_daily_throttle_retries_after_midnight_utc(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", "status": 429}
    posts_call(mocked, post_body(), status=429, json=body)
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.retry_after == 7200  # the fixed clock is 22:00 UTC


def test_revoked_token_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user"}
    posts_call(mocked, post_body(), status=401, json=body)
    with pytest.raises(PlatformAuthError, match="revoked by the user") as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.platform_error == body


def test_schema_error_is_rejected_with_the_platform_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"message": "ERROR :: /commentary :: field is required but not found and has no default value\n", "status": 422}
    posts_call(mocked, post_body(), status=422, json=body)
    with pytest.raises(PlatformRejected, match="field is required") as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.code == "rejected" and caught.value.platform_error == body


DUPLICATE = {"errorDetailType": "com.linkedin.common.error.BadRequest",
             "message": "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of "
                        "urn:li:share:7141138937766391808",
             "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
             "status": 422}


def test_duplicate_on_a_first_attempt_is_rejected(adapter: Platform, mocked: responses.RequestsMock) -> None:
    posts_call(mocked, post_body(), status=422, json=DUPLICATE)
    with pytest.raises(PlatformRejected) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.code == "duplicate_post"


@pytest.mark.parametrize("failure", [
    {"status": 504, "json": {"message": "Gateway Timeout", "status": 504}},
    {"body": requests.ReadTimeout("read timed out")},
])
def test_ambiguous_create_is_retried_and_the_duplicate_confirms_it(
    adapter: Platform, mocked: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    posts_call(mocked, post_body(), **failure)
    with pytest.raises(PlatformUnavailable) as caught:
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION))
    assert caught.value.retryable
    posts_call(mocked, post_body(), status=422, json=DUPLICATE)
    published = adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, attempt=2))
    assert published.platform_post_id == URN
    assert published.permalink == f"https://www.linkedin.com/feed/update/{URN}/"
    assert not adapter.has_lookup


def test_image_initialize_5xx_is_retryable(adapter: Platform, mocked: responses.RequestsMock,
                                           serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    mocked.post(f"{API}/rest/images", status=503, json={"message": "Service Unavailable", "status": 503})
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[image]))


def test_verify_credentials(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/v2/userinfo", match=[matchers.header_matcher({"Authorization": "Bearer tok"})],
               json={"sub": "8675309", "name": "Alice Example", "given_name": "Alice", "family_name": "Example"})
    profile = adapter.verify_credentials({"access_token": "tok"})
    assert (profile.handle, profile.display_name) == ("Alice Example", "Alice Example")


# -- versions: alt text and options ------------------------------------------------------------


def test_alt_text_is_the_image_alt_text_and_visibility_an_option(
        adapter: Platform, mocked: responses.RequestsMock, serve_media: Callable[..., Media]) -> None:
    image = serve_media()
    upload_url = "https://www.linkedin.com/dms-uploads/sp/v2/C4E10AQFoyyAjHPMQuQ/uploaded-image/0?ca=vector_ads&cn=uploads"
    mocked.post(f"{API}/rest/images", json={"value": {"uploadUrlExpiresAt": 1650567510704, "uploadUrl": upload_url,
                                                      "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ"}})
    mocked.put(upload_url, status=201)
    posts_call(mocked, post_body(content={"media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "A dodo"}})
               | {"visibility": "CONNECTIONS"})
    adapter.publish(ACCOUNT, PublishRequest("tgt_1", CAPTION, media=[Media("image", image.url, alt="A dodo")],
                                            options={"visibility": "CONNECTIONS"}))
