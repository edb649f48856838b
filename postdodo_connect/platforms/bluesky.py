"""Bluesky (AT Protocol): app-password session, uploadBlob, createRecord with a pre-chosen rkey; mentions resolved to DIDs."""

from __future__ import annotations

import base64
import hashlib
import json
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
from .bluesky_embeds import BLOB_REUSE, link_card, video_blob
from .oauth import ClientApp, ConnectOption, FormField, Refreshed
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
# a handle is a domain name: labels of letters, digits and inner hyphens; after a space, "(" or the start
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_MENTION = regex.compile(r"(?:(?<=^)|(?<=[\s(]))@(?P<handle>" + _LABEL + r"(?:\." + _LABEL + r")+)")

# createSession is limited to 30 per 5 minutes and 300 per day per account, so it must not run per post.
# Under the engine the session is stored (sealed) with the account's credentials and shared by every
# worker; an adapter used alone keeps one session per (service, identifier, password) for the process.
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


def mentions(text: str) -> list[str]:
    """The handles `@handle` names in `text`, lowercased, each once, in order."""
    return list(dict.fromkeys(match["handle"].lower() for match in _MENTION.finditer(text)))


def facets(text: str, dids: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Link, hashtag and mention facets (a mention only with its handle's DID in `dids`), by UTF-8 byte offsets."""
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
    for match in _MENTION.finditer(text):
        if did := (dids or {}).get(match["handle"].lower()):
            found.append({"index": span(match.start(), match.end()),
                          "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    return sorted(found, key=lambda facet: facet["index"]["byteStart"])


class Bluesky(Platform):
    """Bluesky posts: 300 graphemes and 3000 bytes, up to 4 images or one video."""

    name = "bluesky"
    label = "Bluesky"
    max_caption = 300
    max_alt: ClassVar[int] = 2000  # alt text, per media item
    max_media = 4
    can_delete = True
    has_first_comment = True
    comment_is_post = True
    has_thread = True
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
        session = self._login(credentials)
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
        session = self._login(credentials)
        # the session is kept with the credentials: the first post needs no second login
        return [ConnectOption(id=session["did"], handle=session["handle"], display_name=session["handle"],
                              external_user_id=session["did"], credentials=credentials | {"session": session})]

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Upload blobs, then create the record under the target's own rkey."""
        creds = dict(account.credentials)
        rkey = tid_for(request.target_id)
        if request.attempt > 1 and (earlier := self._lookup(account, creds, request)):
            return earlier  # re-creating an existing rkey answers 500, so look first
        record: dict[str, Any] = {"$type": COLLECTION, "text": request.caption, "createdAt": self._now_iso()}
        if found := facets(request.caption, self._resolve(account, creds, mentions(request.caption))):
            record["facets"] = found
        if langs := request.options.get("langs"):
            record["langs"] = list(langs)
        if request.reply_to is not None:  # a thread item: root is the first post, parent the item before
            record["reply"] = {"root": self._ref(account, creds, request.reply_to.root),
                               "parent": self._ref(account, creds, request.reply_to.parent)}
        if request.media:
            record["embed"] = self._embed(account, creds, request)
        elif card := link_card(self, account, creds, request):
            record["embed"] = card
        session = self._session(account, creds)
        body = {"repo": session["did"], "collection": COLLECTION, "rkey": rkey, "record": record}
        self.calling(request)
        answer = self._xrpc(account, creds, "POST", "com.atproto.repo.createRecord", creates=True, json=body).json()
        return Published(platform_post_id=answer["uri"], permalink=self.permalink(session["handle"], rkey),
                         cid=str(answer.get("cid") or ""))

    def _ref(self, account: Account, creds: dict[str, Any], post: Published) -> dict[str, str]:
        """A strong ref {uri, cid}; a cid we did not keep (the first post's) is read with getRecord."""
        if post.cid:
            return {"uri": post.platform_post_id, "cid": post.cid}
        repo, collection, rkey = post.platform_post_id.removeprefix("at://").split("/", 2)
        found = self._xrpc(account, creds, "GET", "com.atproto.repo.getRecord",
                           params={"repo": repo, "collection": collection, "rkey": rkey}).json()
        return {"uri": str(found["uri"]), "cid": str(found["cid"])}

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """A self-reply: the post's cid from getRecord, then a record whose `reply` names it as root and parent."""
        creds = dict(account.credentials)
        repo, collection, rkey = platform_post_id.removeprefix("at://").split("/", 2)
        parent = self._xrpc(account, creds, "GET", "com.atproto.repo.getRecord",
                            params={"repo": repo, "collection": collection, "rkey": rkey}).json()
        ref = {"uri": parent["uri"], "cid": parent["cid"]}
        record: dict[str, Any] = {"$type": COLLECTION, "text": text, "createdAt": self._now_iso(),
                                  "reply": {"root": ref, "parent": ref}}
        if found := facets(text):
            record["facets"] = found
        session = self._session(account, creds)
        answer = self._xrpc(account, creds, "POST", "com.atproto.repo.createRecord",
                            json={"repo": session["did"], "collection": COLLECTION, "record": record}).json()
        return Published(platform_post_id=answer["uri"], permalink=self.permalink(session["handle"], answer["uri"]))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """deleteRecord of the post's record (`at://did/collection/rkey`); deleting a missing record succeeds."""
        creds = dict(account.credentials)
        repo, collection, rkey = platform_post_id.removeprefix("at://").split("/", 2)
        self._xrpc(account, creds, "POST", "com.atproto.repo.deleteRecord",
                   json={"repo": repo, "collection": collection, "rkey": rkey})

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """getRecord by the pre-chosen rkey: found means the post exists."""
        return self._lookup(account, dict(account.credentials), request)

    def _lookup(self, account: Account, creds: dict[str, Any], request: PublishRequest) -> Published | None:
        session = self._session(account, creds)
        rkey = tid_for(request.target_id)
        params = {"repo": session["did"], "collection": COLLECTION, "rkey": rkey}
        try:
            answer = self._xrpc(account, creds, "GET", "com.atproto.repo.getRecord", params=params).json()
        except PlatformRejected as exc:
            if isinstance(exc.platform_error, dict) and exc.platform_error.get("error") == "RecordNotFound":
                return None
            raise
        return Published(platform_post_id=answer["uri"], permalink=self.permalink(session["handle"], rkey),
                         cid=str(answer.get("cid") or ""))

    # -- session lifecycle: the session is part of the account's credentials -----------------------

    #: access JWTs live minutes to hours: renew shortly before the `exp` they carry
    refresh_ahead: ClassVar[float] = 300.0

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """An app password can always open a new session (refreshSession first, so no login is spent)."""
        return bool(credentials.get("identifier") and credentials.get("app_password"))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """A new session: refreshSession with the stored refresh JWT, a login (createSession) when there is none or it is refused."""
        stored = credentials.get("session")
        session: dict[str, str] | None = None
        if isinstance(stored, dict) and stored.get("refresh"):
            response = self.token_request("POST", f"{_key(credentials)[0]}/xrpc/com.atproto.server.refreshSession",
                                 headers={"Authorization": f"Bearer {stored['refresh']}"})
            if response.status_code >= 300 and response.status_code not in (400, 401):
                raise self.classify(response)
            if response.status_code < 300:
                session = self._store(_key(credentials), response.json(), stored.get("pds"))
        elif not stored:
            with _LOCK:  # a login this process just made (checking the app password at connect) is reused
                session = _SESSIONS.get(_key(credentials))
        if session is None:
            session = self._login(credentials)
        expires_at = _jwt_expiry(session["access"])
        fresh = {k: v for k, v in credentials.items() if k != "expires_at"} | {"session": session}
        return Refreshed(credentials=fresh | ({"expires_at": expires_at} if expires_at else {}), expires_at=expires_at)

    # -- plumbing --------------------------------------------------------------------------------

    def _embed(self, account: Account, creds: dict[str, Any], request: PublishRequest) -> dict[str, Any]:
        """An images or video embed from uploaded blobs (each saved at once: a later attempt reuses them)."""
        media = request.media
        if media[0].type == "video":
            # through the video service, as the app does: an uploadBlob'd video shows "Video not found"
            video = video_blob(self, account, creds, request)
            return {"$type": "app.bsky.embed.video", "video": video, **({"alt": media[0].alt} if media[0].alt else {})}
        blobs: list[dict[str, Any]] = list(request.state.get("blobs") or ())
        since = float(request.state.get("blobs_at") or 0)
        if self.clock() - since > BLOB_REUSE:
            blobs, since = [], self.clock()  # a PDS drops blobs no record refers to: old ones may be gone
        for item in media[len(blobs):]:
            data, content_type = self.fetch_media(account, item)
            answer = self._xrpc(account, creds, "POST", "com.atproto.repo.uploadBlob",
                                data=data, headers={"Content-Type": content_type})
            blobs.append(answer.json()["blob"])
            request.save(blobs=blobs, blobs_at=since)
        # `alt` is required on each image ("" when the caller gave none)
        return {"$type": "app.bsky.embed.images",
                "images": [{"alt": item.alt, "image": blob} for item, blob in zip(media, blobs, strict=True)]}

    def _resolve(self, account: Account, creds: dict[str, Any], handles: Sequence[str]) -> dict[str, str]:
        """handle -> DID by resolveHandle, once per handle in this attempt; one that does not resolve is left out."""
        dids: dict[str, str] = {}
        for handle in handles:
            try:
                answer = self._xrpc(account, creds, "GET", "com.atproto.identity.resolveHandle", params={"handle": handle})
            except PlatformRejected:
                continue  # no such handle (400 "Unable to resolve handle"): the mention stays plain text
            did = answer.json().get("did")
            if isinstance(did, str) and did.startswith("did:"):
                dids[handle] = did
        return dids

    def _now_iso(self) -> str:
        """`createdAt` in the millisecond UTC form the app writes."""
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def _session(self, account: Account, creds: dict[str, Any]) -> dict[str, str]:
        """The session stored with the credentials; else (no engine) this process's cache; else a renewal."""
        session = creds.get("session")
        if isinstance(session, dict) and session.get("access"):
            return session
        if self.renewer is None:
            with _LOCK:
                cached = _SESSIONS.get(_key(creds))
            if cached is not None:
                creds["session"] = cached
                return cached
        # through the engine: one login per account for every worker and process, stored sealed
        creds.update(self.renew(account, creds))
        renewed: dict[str, str] = creds["session"]
        return renewed

    def _login(self, creds: Mapping[str, Any]) -> dict[str, str]:
        """createSession with the app password (limited to 30 per 5 minutes and 300 a day per account)."""
        key = _key(creds)
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

    def _xrpc(self, account: Account, creds: dict[str, Any], method: str, nsid: str, *, creates: bool = False,
              **kwargs: Any) -> requests.Response:
        """An authenticated XRPC call to the PDS; an expired token is renewed and the call repeated once."""
        headers = dict(kwargs.pop("headers", {}))
        for last in (False, True):
            session = self._session(account, creds)
            headers["Authorization"] = f"Bearer {session['access']}"
            response = self.http(method, f"{session['pds']}/xrpc/{nsid}", creates=creates, headers=headers, **kwargs)
            if last or _token_error(response) is None:
                break
            creds.update(self.renew(account, creds))
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


def _key(creds: Mapping[str, Any]) -> tuple[str, str, str]:
    """Session cache key: service, identifier, and a hash so a new app password means a new login."""
    service = str(creds.get("service") or SERVICE).rstrip("/")
    secret = hashlib.sha256(str(creds.get("app_password", "")).encode()).hexdigest()
    return service, str(creds.get("identifier", "")), secret


def _jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, read without verifying it (only to know when to renew)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) else None


def _token_error(response: requests.Response) -> str | None:
    """`ExpiredToken` / `InvalidToken` when the answer says the access token is no good."""
    body = error_body(response) if response.status_code in (400, 401) else None
    return str(body["error"]) if isinstance(body, dict) and body.get("error") in _TOKEN_ERRORS else None
