"""Fetch media by URL, through the SSRF guard, for platforms that only take uploaded bytes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin

import requests

from ..errors import PlatformRejected, PlatformUnavailable, UnsafeURLError

if TYPE_CHECKING:
    from ..netguard import Resolver, URLPolicy

__all__ = ["MAX_REDIRECTS", "download", "policy_for", "sniff"]

#: each hop is checked by the guard again; CDNs rarely chain more than this
MAX_REDIRECTS = 3
TIMEOUT = (5.0, 30.0)


class HasSettings(Protocol):
    """Anything that carries account settings (an adapter's `Account`)."""

    @property
    def settings(self) -> Mapping[str, Any]: ...

# magic numbers for bodies served without a useful Content-Type
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"avif", "image/avif"),
    (8, b"heic", "image/heic"),
    (8, b"qt  ", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
)


def policy_for(account: HasSettings) -> URLPolicy:
    """The account's `settings["url_policy"]` when set, else the policy from the environment."""
    from ..netguard import URLPolicy, policy_from_env

    policy = account.settings.get("url_policy")
    return policy if isinstance(policy, URLPolicy) else policy_from_env()


def sniff(data: bytes) -> str | None:
    """The MIME type the first bytes announce, if any we know."""
    for offset, magic, mime in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return mime
    return None


def download(
    url: str,
    *,
    policy: URLPolicy | None = None,
    max_bytes: int,
    allowed_types: Collection[str],
    resolver: Resolver | None = None,
    session: requests.Session | None = None,
) -> tuple[bytes, str]:
    """GET `url` (redirects re-checked), capped at `max_bytes`; returns (bytes, content type)."""
    from ..netguard import policy_from_env, read_capped

    policy = policy or policy_from_env()
    # a session of its own: the platform session's cookies and auth never travel to a media host
    session = session or requests.Session()
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(session, url, policy, resolver)
        if response.is_redirect and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        break
    else:
        raise PlatformRejected(f"media {url} redirects too often", code="media_unreachable")
    try:
        _check_status(response, url)
        declared = response.headers.get("Content-Length", "")
        if max_bytes and declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(url, max_bytes)
        try:
            data, truncated = read_capped(response, max_bytes) if max_bytes else (response.content, False)
        except requests.RequestException as exc:
            raise PlatformUnavailable(f"media {url} could not be read: {exc.__class__.__name__}", code="media_unreachable") from exc
    finally:
        response.close()
    if truncated:
        raise _too_large(url, max_bytes)
    if not data:
        raise PlatformRejected(f"media {url} is empty", code="media_unreachable")
    content_type = _content_type(response, data)
    if allowed_types and content_type not in allowed_types:
        raise PlatformRejected(
            f"media {url} is {content_type or 'of unknown type'}; allowed: {', '.join(sorted(allowed_types))}",
            code="media_type_unsupported",
        )
    return data, content_type


def _get(session: requests.Session, url: str, policy: URLPolicy, resolver: Resolver | None) -> requests.Response:
    """One guarded GET; guard refusals are permanent, network failures retryable."""
    from ..netguard import safe_request

    kwargs: dict[str, Any] = {"policy": policy, "resolver": resolver, "stream": True, "timeout": TIMEOUT}
    try:
        return safe_request(session, "GET", url, **kwargs)
    except UnsafeURLError as exc:
        raise PlatformRejected(f"media {url} refused: {exc}", code="media_unreachable") from exc
    except requests.RequestException as exc:
        raise PlatformUnavailable(f"media {url} unreachable: {exc.__class__.__name__}", code="media_unreachable") from exc


def _check_status(response: requests.Response, url: str) -> None:
    """A media host's 5xx/429 may pass; any other non-2xx will not."""
    status = response.status_code
    if status < 300:
        return
    message = f"media {url} answered HTTP {status}"
    if status >= 500 or status in (408, 429):
        raise PlatformUnavailable(message, code="media_unreachable")
    raise PlatformRejected(message, code="media_unreachable")


def _content_type(response: requests.Response, data: bytes) -> str:
    """The declared type, or the sniffed one when the host declares nothing useful."""
    declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", "binary/octet-stream"):
        return "image/jpeg" if declared == "image/jpg" else declared
    return sniff(data) or declared


def _too_large(url: str, max_bytes: int) -> PlatformRejected:
    """The error for a body over the platform's cap."""
    return PlatformRejected(f"media {url} is larger than {max_bytes} bytes", code="media_too_large")
