"""Media download through the SSRF guard: caps, types, redirects, refusals."""

from __future__ import annotations

import pytest
import requests
import responses

from postdodo_connect.errors import PlatformRejected, PlatformUnavailable
from postdodo_connect.netguard import URLPolicy
from postdodo_connect.platforms.base import Resolver
from postdodo_connect.platforms.media import download, policy_for

from .conftest import IMAGE_URL, JPEG, PNG, fake_resolver, make_account

IMAGES = frozenset({"image/jpeg", "image/png"})


def fetch(url: str = IMAGE_URL, max_bytes: int = 10_000, policy: URLPolicy | None = None,
          resolver: Resolver = fake_resolver) -> tuple[bytes, str]:
    return download(url, policy=policy or URLPolicy(), max_bytes=max_bytes, allowed_types=IMAGES, resolver=resolver)


def test_download_returns_bytes_and_type(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, body=JPEG, content_type="image/jpeg; charset=binary")
    assert fetch() == (JPEG, "image/jpeg")


def test_octet_stream_is_sniffed(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, body=PNG, content_type="application/octet-stream")
    assert fetch()[1] == "image/png"


def test_declared_length_over_the_cap_is_refused_before_reading(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, body=JPEG, content_type="image/jpeg", headers={"Content-Length": "999999"})
    with pytest.raises(PlatformRejected) as caught:
        fetch()
    assert caught.value.code == "media_too_large"


def test_streamed_body_over_the_cap_is_refused(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, body=JPEG, content_type="image/jpeg")
    with pytest.raises(PlatformRejected) as caught:
        fetch(max_bytes=len(JPEG) - 1)
    assert caught.value.code == "media_too_large"
    mocked.get(IMAGE_URL, body=JPEG, content_type="image/jpeg")
    assert fetch(max_bytes=len(JPEG))[0] == JPEG  # exactly the cap passes


def test_unsupported_type_is_refused(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, body=b"<html></html>", content_type="text/html")
    with pytest.raises(PlatformRejected) as caught:
        fetch()
    assert caught.value.code == "media_type_unsupported"


def test_missing_media_is_permanent_and_a_failing_host_is_retryable(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, status=404)
    with pytest.raises(PlatformRejected) as rejected:
        fetch()
    assert rejected.value.code == "media_unreachable"
    mocked.get(IMAGE_URL, status=503)
    with pytest.raises(PlatformUnavailable) as unavailable:
        fetch()
    assert unavailable.value.code == "media_unreachable" and unavailable.value.retryable
    mocked.get(IMAGE_URL, body=requests.ConnectionError("reset"))
    with pytest.raises(PlatformUnavailable):
        fetch()


def test_redirects_are_followed_and_checked_again(mocked: responses.RequestsMock) -> None:
    mocked.get(IMAGE_URL, status=302, headers={"Location": "https://img.example.net/real.jpg"})
    mocked.get("https://img.example.net/real.jpg", body=JPEG, content_type="image/jpeg")
    assert fetch()[0] == JPEG
    mocked.get(IMAGE_URL, status=302, headers={"Location": "http://10.0.0.5/internal.jpg"})
    with pytest.raises(PlatformRejected, match="refused"):
        fetch()


def test_private_addresses_are_refused_unless_the_policy_allows_them(mocked: responses.RequestsMock) -> None:
    def private(host: str, port: int) -> list[str]:
        return ["10.0.0.5"]

    with pytest.raises(PlatformRejected) as caught:
        fetch(resolver=private)
    assert caught.value.code == "media_unreachable"
    mocked.get(IMAGE_URL, body=JPEG, content_type="image/jpeg")
    assert fetch(policy=URLPolicy(allowed_hosts=frozenset({"cdn.example.com"})), resolver=private)[0] == JPEG


def test_policy_comes_from_the_account_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = URLPolicy(allow_private=True)
    assert policy_for(make_account("x", "a", settings={"url_policy": policy})) is policy
    monkeypatch.setenv("POSTDODO_WEBHOOK_ALLOWED_HOSTS", "media.lan")
    assert policy_for(make_account("x", "a")).allowed_hosts == frozenset({"media.lan"})
