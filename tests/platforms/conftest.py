"""Shared fixtures for platform adapter tests: a fixed clock, mocked HTTP, fake DNS, media to fetch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from postdodo_connect.platforms import Account, Media, Platform, get
from postdodo_connect.platforms.bluesky import forget_sessions

#: 2026-08-21T22:00:00Z: two hours before a UTC midnight, so daily-quota hints are easy to read
NOW = 1_787_349_600.0
#: what the fake resolver answers for every host (public, so the SSRF guard lets it through)
PUBLIC_IP = "93.184.216.34"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200
IMAGE_URL = "https://cdn.example.com/p.jpg"


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_cached_sessions() -> Iterator[None]:
    """Bluesky's logins are cached per process: no test may see a session another test made."""
    forget_sessions()
    yield
    forget_sessions()


def fake_resolver(host: str, port: int) -> list[str]:
    """Every host resolves to one public address, without touching DNS."""
    return [PUBLIC_IP]


@pytest.fixture
def clock() -> FakeClock:
    """The injected "now" (NOW unless a test moves it)."""
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    """Every delay an adapter asked to sleep, instead of sleeping."""
    return []


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """All HTTP mocked; every registered answer must be used (so request shapes are asserted)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def make_adapter(clock: FakeClock, sleeps: list[float]) -> Callable[[str], Platform]:
    """A registry adapter wired to the fake clock, the sleep recorder and the fake resolver."""
    def make(name: str) -> Platform:
        adapter = get(name)
        adapter.clock = clock
        adapter.sleep = sleeps.append
        adapter.resolver = fake_resolver
        return adapter

    return make


def make_account(platform: str, handle: str, settings: dict[str, Any] | None = None, **credentials: Any) -> Account:
    """An Account with the given credentials."""
    return Account(id=f"acct_{platform}", platform=platform, handle=handle, credentials=credentials, settings=settings or {})


@pytest.fixture
def serve_media(mocked: responses.RequestsMock) -> Callable[..., Media]:
    """Register a media URL on the mocked CDN and return the Media item pointing at it."""
    def serve(url: str = IMAGE_URL, body: bytes = JPEG, content_type: str = "image/jpeg",
              kind: str = "image", status: int = 200, headers: dict[str, str] | None = None) -> Media:
        mocked.get(url, body=body, status=status, content_type=content_type, headers=headers or {})
        return Media(type=kind, url=url)

    return serve
