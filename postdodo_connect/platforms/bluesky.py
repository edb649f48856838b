"""Bluesky (AT Protocol): app-password session, uploadBlob, createRecord with a pre-chosen rkey."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import regex
import requests

from .base import (
    Account,
    Media,
    Platform,
    PlatformAuthError,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    Problem,
    Profile,
    Published,
    PublishRequest,
    error_body,
)
from .oauth import ConnectOption, FormField
from .text import graphemes, url_spans, utf8_bytes

SERVICE = "https://bsky.social"
COLLECTION = "app.bsky.feed.post"
MAX_BYTES = 3000
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
# rkeys are TIDs (53-bit microsecond time + 10-bit clock id); ours place the time in 2023-2024 so
# they are plausible, never in the future, and a function of the target alone
_TID_EPOCH_US, _TID_SPAN_US = 1_672_531_200_000_000, 2 * 365 * 86_400_000_000
_TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")
_TAG = regex.compile(r"(?<!\S)#(?P<tag>[^\s#\p{P}](?:[^\s#]*[^\s#\p{P}])?)")

# One session per (service, identifier, password) for the process: createSession is limited to
# 30 per 5 minutes and 300 per day per account, so it must not run per post.
_SESSIONS: dict[tuple[str, str, str], dict[str, str]] = {}
_LOCK = threading.Lock()


def forget_sessions() -> None:
    """Drop every cached login (tests; credentials rotated)."""
    with _LOCK:
        _SESSIONS.clear()


def tid_for(seed: str) -> str:
    """A valid TID derived only from `seed`, so every attempt of one target uses the same rkey."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    value = (_TID_EPOCH_US + (digest >> 10) % _TID_SPAN_US) << 10 | (digest & 0x3FF)
    return "".join(_TID_CHARS[(value >> shift) & 31] for shift in range(60, -1, -5))


def facets(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets; Bluesky indexes them by UTF-8 byte offsets."""
    def span(start: int, end: int) -> dict[str, int]:
        return {"byteStart": utf8_bytes(text[:start]), "byteEnd": utf8_bytes(text[:end])}

    found = []
    for start, end, url in url_spans(text):
        uri = url if "://" in url else f"https://{url}"
        found.append({"index": span(start, end), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})
    for match in _TAG.finditer(text):
        if graphemes(match["tag"]) <= 64 and not match["tag"].isdigit():
            found.append({"index": span(match.start(), match.end()),
                          "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": match["tag"]}]})
    return found


class Bluesky(Platform):
    """Bluesky posts: 300 graphemes and 3000 bytes, up to 4 images or one video."""

    name = "bluesky"
    label = "Bluesky"
    max_caption = 300
    max_media = 4
    video_alone = True
    has_lookup = True
    credential_fields = ("identifier", "app_password", "service")
    guarded = True  # `service` is user input and the PDS address comes from its answer
    # 1 MB is the documented image cap (the lexicon now says 2 MB); the PDS refuses blobs over 50 MB
    media_max_bytes: ClassVar[dict[str, int]] = {"image": 1_000_000, "video": 50_000_000}
    media_types: ClassVar[dict[str, frozenset[str]]] = {
        "image": frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}), "video": frozenset({"video/mp4"})}

    # -- preflight -------------------------------------------------------------------------------

    caption_rule = "caption.max_graphemes"
    caption_unit = "characters (graphemes)"

    def caption_length(self, caption: str) -> int:
        """Graphemes, the unit of the 300 limit."""
        return graphemes(caption)

    def caption_length_at_most(self, caption: str) -> int:
        """A grapheme holds at least one code point."""
        return len(caption)

    def validate(self, caption: str, media: Sequence[Media]) -> list[Problem]:
        """Both text limits of the post lexicon, then the media rules."""
        problems = super().validate(caption, media)
        if (size := utf8_bytes(caption)) > MAX_BYTES:
            problems.insert(0, self.problem("caption.max_bytes", "caption",
                                            f"caption is {size} bytes in UTF-8; Bluesky allows {MAX_BYTES}"))
        return problems

    def permalink(self, handle: str, post_id: str) -> str:
        """bsky.app link; `post_id` may be the rkey or the whole at:// URI."""
        return f"https://bsky.app/profile/{handle}/post/{post_id.rsplit('/', 1)[-1]}"

    def sample_post_id(self, seed: str) -> str:
        """A TID like a real post's rkey."""
        return tid_for(seed)

    # -- live calls ------------------------------------------------------------------------------

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """Log in with the app password (createSession)."""
        session = self._session(credentials, fresh=True)
        return Profile(handle=session["handle"])

    connect_form = (
        FormField("identifier", "Handle", help="Your Bluesky handle, e.g. alice.bsky.social"),
        FormField("app_password", "App password", secret=True,
                  help="Settings → Privacy and security → App passwords; never your account password"),
    )

    def connect_with_form(self, values: Mapping[str, str]) -> list[ConnectOption]:
        """Log in once with the app password (createSession): the account is the DID it answers."""
        credentials = {"identifier": values.get("identifier", "").strip().lstrip("@"),
                       "app_password": values.get("app_password", "").strip(), "service": SERVICE}
        session = self._session(credentials, fresh=True)
        return [ConnectOption(id=session["did"], handle=session["handle"], display_name=session["handle"],
                              external_user_id=session["did"], credentials=credentials)]

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Upload blobs, then create the record under the target's own rkey."""
        creds = account.credentials
        rkey = tid_for(request.target_id)
        if request.attempt > 1 and (earlier := self.lookup(account, request)):
            return earlier  # re-creating an existing rkey answers 500, so look first
        record: dict[str, Any] = {"$type": COLLECTION, "text": request.caption, "createdAt": self._now_iso()}
        if found := facets(request.caption):
            record["facets"] = found
        if request.media:
            record["embed"] = self._embed(account, request.media)
        session = self._session(creds)
        body = {"repo": session["did"], "collection": COLLECTION, "rkey": rkey, "record": record}
        answer = self._xrpc(creds, "POST", "com.atproto.repo.createRecord", creates=True, json=body).json()
        return Published(platform_post_id=answer["uri"], permalink=self.permalink(self._session(creds)["handle"], rkey))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """getRecord by the pre-chosen rkey: found means the post exists."""
        creds = account.credentials
        session = self._session(creds)
        rkey = tid_for(request.target_id)
        params = {"repo": session["did"], "collection": COLLECTION, "rkey": rkey}
        try:
            answer = self._xrpc(creds, "GET", "com.atproto.repo.getRecord", params=params).json()
        except PlatformRejected as exc:
            if isinstance(exc.platform_error, dict) and exc.platform_error.get("error") == "RecordNotFound":
                return None
            raise
        return Published(platform_post_id=answer["uri"], permalink=self.permalink(session["handle"], rkey))

    # -- plumbing --------------------------------------------------------------------------------

    def _embed(self, account: Account, media: Sequence[Media]) -> dict[str, Any]:
        """An images or video embed from freshly uploaded blobs."""
        blobs = []
        for item in media:
            data, content_type = self.fetch_media(account, item)
            answer = self._xrpc(account.credentials, "POST", "com.atproto.repo.uploadBlob",
                                data=data, headers={"Content-Type": content_type})
            blobs.append(answer.json()["blob"])
        if media[0].type == "video":
            return {"$type": "app.bsky.embed.video", "video": blobs[0]}
        return {"$type": "app.bsky.embed.images", "images": [{"alt": "", "image": blob} for blob in blobs]}

    def _now_iso(self) -> str:
        """`createdAt` in the millisecond UTC form the app writes."""
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def _session(self, creds: dict[str, Any], *, fresh: bool = False) -> dict[str, str]:
        """The cached session for these credentials, logging in when there is none (or `fresh`)."""
        key = _key(creds)
        with _LOCK:
            if not fresh and key in _SESSIONS:
                return _SESSIONS[key]
        body = {"identifier": key[1], "password": creds.get("app_password", "")}
        answer = self.call("POST", f"{key[0]}/xrpc/com.atproto.server.createSession", json=body).json()
        return self._store(key, answer)

    def _store(self, key: tuple[str, str, str], answer: dict[str, Any], pds: str | None = None) -> dict[str, str]:
        """Cache a login/refresh answer; later calls go to the PDS its DID document names."""
        pds = next((s.get("serviceEndpoint") for s in (answer.get("didDoc") or {}).get("service", [])
                    if str(s.get("id", "")).endswith("#atproto_pds")), pds)
        session = {"access": answer["accessJwt"], "refresh": answer["refreshJwt"], "did": answer["did"],
                   "handle": answer.get("handle") or answer["did"], "pds": str(pds or key[0]).rstrip("/")}
        with _LOCK:
            _SESSIONS[key] = session
        return session

    def _refresh(self, creds: dict[str, Any], session: dict[str, str]) -> dict[str, str]:
        """A new access token from the refresh token; a full login when that is refused too."""
        response = self.http("POST", f"{_key(creds)[0]}/xrpc/com.atproto.server.refreshSession",
                             headers={"Authorization": f"Bearer {session['refresh']}"})
        if response.status_code in (400, 401):
            return self._session(creds, fresh=True)
        if response.status_code >= 300:
            raise self.classify(response)
        return self._store(_key(creds), response.json(), session["pds"])

    def _xrpc(self, creds: dict[str, Any], method: str, nsid: str, *, creates: bool = False, **kwargs: Any) -> requests.Response:
        """An authenticated XRPC call to the PDS; an expired token is refreshed and the call repeated once."""
        headers = dict(kwargs.pop("headers", {}))
        session = self._session(creds)
        for last in (False, True):
            headers["Authorization"] = f"Bearer {session['access']}"
            response = self.http(method, f"{session['pds']}/xrpc/{nsid}", creates=creates, headers=headers, **kwargs)
            if last or _token_error(response) is None:
                break
            session = self._refresh(creds, session)
        if response.status_code >= 300:
            raise self.classify(response, creates=creates)
        return response

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """Token errors that survived a refresh are auth failures; the rest as the base says."""
        body = error_body(response)
        if _token_error(response):
            return PlatformAuthError(f"Bluesky: {self.error_message(response)}", code="auth_expired", platform_error=body)
        if isinstance(body, dict) and body.get("error") == "BlobNotFound":
            # the blob was collected before the record referenced it: the next attempt uploads anew
            return PlatformUnavailable(f"Bluesky: {self.error_message(response)}", code="media_expired", platform_error=body)
        return super().classify(response, creates=creates)

    def error_message(self, response: requests.Response) -> str:
        """XRPC errors: `{"error": Name, "message": text}`."""
        body = error_body(response)
        if isinstance(body, dict) and body.get("error"):
            return f"{body['error']}: {body.get('message') or body['error']}"
        return super().error_message(response)

    def retry_after(self, response: requests.Response) -> float | None:
        """`ratelimit-reset` is an epoch second."""
        seconds = self.seconds_until(response.headers.get("ratelimit-reset"))
        return super().retry_after(response) if seconds is None else seconds


def _key(creds: dict[str, Any]) -> tuple[str, str, str]:
    """Session cache key: service, identifier, and a hash so a new app password means a new login."""
    service = str(creds.get("service") or SERVICE).rstrip("/")
    secret = hashlib.sha256(str(creds.get("app_password", "")).encode()).hexdigest()
    return service, str(creds.get("identifier", "")), secret


def _token_error(response: requests.Response) -> str | None:
    """`ExpiredToken` / `InvalidToken` when the answer says the access token is no good."""
    body = error_body(response) if response.status_code in (400, 401) else None
    return str(body["error"]) if isinstance(body, dict) and body.get("error") in _TOKEN_ERRORS else None
