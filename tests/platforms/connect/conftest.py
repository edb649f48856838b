"""Shared pieces of the connect tests: our client app, the code the callback got, request assertions."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from postdodo_connect.platforms.oauth import ClientApp

REDIRECT_URI = "https://postdodo.example/v1/connect/callback"
APP = ClientApp(client_id="cid-1234", client_secret="csecret-s3cr3t-5678", redirect_uri=REDIRECT_URI)
CODE = "AQcode-from-the-callback-9f8e7d"
STATE = "signed.state.value"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def with_options(**options: object) -> ClientApp:
    """APP with session options (e.g. LinkedIn's organizations, TikTok's privacy_level)."""
    return ClientApp(client_id=APP.client_id, client_secret=APP.client_secret, redirect_uri=APP.redirect_uri, options=options)


def basic_auth(app: ClientApp = APP) -> dict[str, str]:
    """The HTTP Basic header a token endpoint sees for our client."""
    pair = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def query(url: str) -> dict[str, str]:
    """An authorize URL's parameters (each once)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {name: values[0] for name, values in parsed.items()}


def endpoint(url: str) -> str:
    """An authorize URL without its query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    """Neither our client secret, nor the code, nor any given token appears in the error's words."""
    words = f"{exc} {getattr(exc, 'message', '')}"
    for secret in (APP.client_secret, CODE, *secrets):
        assert secret not in words, f"{secret!r} leaked into {words!r}"


def no_auth_header(headers: Iterable[str]) -> bool:
    """Whether a request went without an Authorization header."""
    return "Authorization" not in set(headers)
