"""Mastodon: media upload v2 (ids kept on the target), then a status posted under a stable Idempotency-Key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import requests

from .base import (
    Account,
    Media,
    Platform,
    PlatformError,
    PlatformRejected,
    Profile,
    Published,
    PublishRequest,
)
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec
from .reconcile import same_text, seed_digits
from .text import URL_LENGTH, mastodon_length

#: when to check again on media still processing (Mastodon gives no hint; small images finish in seconds)
PROCESSING_CHECK_AFTER = 5.0
#: how many of the account's newest statuses a lookup reads
LOOKUP_LIMIT = 40


class Mastodon(Platform):
    """Mastodon statuses: 500 characters (URLs 23), 4 images or one video."""

    name = "mastodon"
    label = "Mastodon"
    max_caption = 500
    max_alt: ClassVar[int] = 1500  # alt text, per media item
    max_media = 4
    can_delete = True
    has_first_comment = True
    comment_is_post = True
    has_thread = True
    video_alone = True
    # Within the hour the instance keeps an Idempotency-Key, an ambiguous create is simply sent again (the
    # replay answers with the original status); beyond it, the account's statuses are looked up.
    idempotency_horizon = 3300.0
    has_lookup = True
    processing_budget = 900.0  # video transcoding on a busy instance
    credential_fields = ("instance_url", "access_token")
    guarded = True  # the instance URL is user input: never let it reach a private address
    # Mastodon's defaults (configuration.media_attachments); forks may differ
    media_max_bytes: ClassVar[dict[str, int]] = {"image": 16_777_216, "video": 103_809_024}
    media_types: ClassVar[dict[str, frozenset[str]]] = {
        "image": frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"}),
        "video": frozenset({"video/mp4", "video/webm", "video/quicktime"}),
    }

    # every instance is its own authorization server: the paths below sit on the instance's base URL, and
    # our client is registered there on first use (POST /api/v1/apps). read:accounts, not 4.3's `profile`,
    # so older instances accept the request too.
    oauth = OAuthSpec(authorize_url="/oauth/authorize", token_url="/oauth/token", client_auth="body",
                      scopes=("read:accounts", "write:statuses", "write:media"))

    caption_unit = "characters (links count 23)"

    def caption_length(self, caption: str) -> int:
        """Graphemes, with URLs as 23 and remote mentions as `@user`."""
        return mastodon_length(caption)

    def caption_length_at_most(self, caption: str) -> int:
        """Code points, plus 23 for each "://" (a URL counts 23 whatever its length; mentions only shrink)."""
        return len(caption) + URL_LENGTH * caption.count("://")

    def permalink(self, handle: str, post_id: str) -> str:
        """`https://{instance}/@{user}/{id}` for a handle `user@instance`."""
        user, _, host = handle.lstrip("@").partition("@")
        return f"https://{host or 'mastodon.social'}/@{user}/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """An 18-digit snowflake-like id."""
        return seed_digits(seed, 18)

    # -- live calls ------------------------------------------------------------------------------

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """GET /api/v1/accounts/verify_credentials."""
        base = _base(credentials)
        me = self.call("GET", f"{base}/api/v1/accounts/verify_credentials", headers=_auth(credentials)).json()
        return Profile(handle=f"{me['username']}@{urlsplit(base).hostname}", display_name=me.get("display_name") or "")

    def client_issuer(self, options: Mapping[str, Any]) -> str:
        """The instance's base URL from `options.instance_url` (https://host[:port], nothing else)."""
        raw = options.get("instance_url")
        if not isinstance(raw, str) or not raw.strip():
            raise PlatformRejected("options.instance_url is required: the Mastodon instance, e.g. mastodon.social",
                                   code="invalid_options")
        try:
            parts = urlsplit(_base({"instance_url": raw}))
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
                or parts.password or parts.path not in ("", "/") or parts.query or any(c <= " " for c in raw):
            raise PlatformRejected("options.instance_url must be an instance's address, e.g. https://mastodon.social",
                                   code="invalid_options")
        return f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}"

    def register_client(self, issuer: str, redirect_uri: str) -> tuple[str, str]:
        """POST /api/v1/apps (through the SSRF guard: the instance is user input)."""
        assert self.oauth is not None
        body = {"client_name": "PostDodo", "redirect_uris": redirect_uri, "scopes": " ".join(self.oauth.scopes)}
        app = self.call("POST", f"{issuer}/api/v1/apps", json=body).json()
        return str(app["client_id"]), str(app["client_secret"])

    def authorization_url(self, app: ClientApp, state: str, code_challenge: str | None) -> str:
        """The instance's own consent page; PKCE S256 (Mastodon 4.3+ checks it, older ones ignore it)."""
        assert self.oauth is not None
        params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
                  "scope": " ".join(self.oauth.scopes), "state": state}
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{_base(app.options)}{self.oauth.authorize_url}?{urlencode(params)}"

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """POST /oauth/token on the instance; the token never expires and comes without a refresh token."""
        assert self.oauth is not None
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri,
                "client_id": app.client_id, "client_secret": app.client_secret}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self.grant_from(self.call("POST", f"{_base(app.options)}{self.oauth.token_url}", data=form).json())

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """The account that consented (verify_credentials): one account."""
        base = _base(app.options)
        me = self.call("GET", f"{base}/api/v1/accounts/verify_credentials",
                       headers=_auth({"access_token": grant.access_token})).json()
        host = urlsplit(base).hostname
        handle, user = f"{me['username']}@{host}", f"{me['id']}@{host}"  # ids are only unique per instance
        return [ConnectOption(id=user, handle=handle, display_name=me.get("display_name") or handle,
                              external_user_id=user,
                              credentials={"instance_url": base, "access_token": grant.access_token})]

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Upload each media item (once), check it is processed, then POST the status under the target id's key."""
        creds = account.credentials
        base = _base(creds)
        options = request.options
        body: dict[str, Any] = {"status": request.caption,
                                "visibility": options.get("visibility") or account.settings.get("visibility", "public")}
        for name in ("spoiler_text", "language", "sensitive"):
            if options.get(name):  # unset ones stay out: the instance's own defaults apply
                body[name] = options[name]
        if request.reply_to is not None:  # a thread item: a reply to the status before it
            body["in_reply_to_id"] = request.reply_to.parent.platform_post_id
        if request.media:
            body["media_ids"] = self._media_ids(account, request)
        headers = {**_auth(creds), "Idempotency-Key": request.target_id}
        self.calling(request)
        # the engine retries an unknown outcome with the same key within the horizon and looks it up beyond
        status = self.json(self.call("POST", f"{base}/api/v1/statuses", creates=True, json=body, headers=headers),
                           creates=True)
        return self._published(base, status)

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """A self-reply: POST /api/v1/statuses with `in_reply_to_id`, keyed so a repeat answers the same status."""
        creds = account.credentials
        base = _base(creds)
        body = {"status": text, "in_reply_to_id": platform_post_id,
                "visibility": account.settings.get("visibility", "public")}
        headers = {**_auth(creds), "Idempotency-Key": f"first-comment-{platform_post_id}"}
        return self._published(base, self.json(self.call("POST", f"{base}/api/v1/statuses", json=body, headers=headers)))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /api/v1/statuses/:id (a status already gone answers 404)."""
        creds = account.credentials
        self.call("DELETE", f"{_base(creds)}/api/v1/statuses/{platform_post_id}", headers=_auth(creds))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The account's status carrying our media ids, or our exact text made around the recorded call in reply
        to what the request answers."""
        creds = account.credentials
        base = _base(creds)
        me = self.call("GET", f"{base}/api/v1/accounts/verify_credentials", headers=_auth(creds)).json()
        listing = self.call("GET", f"{base}/api/v1/accounts/{me['id']}/statuses", headers=_auth(creds),
                            params={"limit": LOOKUP_LIMIT, "exclude_reblogs": "true"}).json()
        ours = {str(media_id) for media_id in request.state.get("media_ids") or ()}
        for status in listing if isinstance(listing, list) else []:
            attached = {str(m.get("id")) for m in status.get("media_attachments") or ()}
            if ours and ours == attached:
                return self._published(base, status)  # media ids are ours alone
            if (not ours and same_text(status.get("content"), request.caption, rendered=True)
                    and self.matches_time(request, status.get("created_at"))
                    and self.replies_as_asked(request, status.get("in_reply_to_id"))):
                return self._published(base, status)
        return None

    # -- plumbing --------------------------------------------------------------------------------

    def _published(self, base: str, status: dict[str, Any]) -> Published:
        url = status.get("url") or f"{base}/@{status['account']['acct']}/{status['id']}"
        return Published(platform_post_id=str(status["id"]), permalink=url)

    def _media_ids(self, account: Account, request: PublishRequest) -> list[str]:
        """Upload what no earlier attempt uploaded (each id saved at once), then ask whether all are processed."""
        ids: list[str] = list(request.state.get("media_ids") or ())
        ready = set(request.state.get("media_ready") or ())
        for item in request.media[len(ids):]:
            media_id, processed = self._upload(account, item)
            ids.append(media_id)
            ready |= {media_id} if processed else set()
            request.save(media_ids=ids, media_ready=sorted(ready))
        base, creds = _base(account.credentials), account.credentials
        for media_id in ids:
            if media_id in ready:
                continue
            response = self.call("GET", f"{base}/api/v1/media/{media_id}", headers=_auth(creds))
            if response.status_code == 206 or self.json(response).get("url") is None:
                raise self.processing(f"media {media_id} is still processing", PROCESSING_CHECK_AFTER,
                                      handles={"media_ids": ids})
            ready.add(media_id)
        if ready != set(request.state.get("media_ready") or ()):
            request.save(media_ready=sorted(ready))
        return ids

    def _upload(self, account: Account, item: Media) -> tuple[str, bool]:
        """POST /api/v2/media (v1 on old instances): (id, processed); 202 means it processes on (checked, never waited on)."""
        creds = account.credentials
        base = _base(creds)
        data, content_type = self.fetch_media(account, item)
        extension = content_type.rsplit("/", 1)[-1]
        files = {"file": (f"media.{extension}", data, content_type)}
        form = {"description": item.alt} if item.alt else None  # alt text
        response = self.http("POST", f"{base}/api/v2/media", headers=_auth(creds), files=files, data=form)
        if response.status_code == 404:  # instance older than 3.1.3: v1 is synchronous
            response = self.http("POST", f"{base}/api/v1/media", headers=_auth(creds), files=files, data=form)
        if response.status_code >= 300:
            raise self.classify(response)
        attachment = self.json(response)
        return str(attachment["id"]), response.status_code == 200 and attachment.get("url") is not None

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """422 "not finished processing" is worth a retry; the rest as the base says."""
        if response.status_code == 422 and "finished processing" in self.error_message(response):
            return self.processing(self.error_message(response), PROCESSING_CHECK_AFTER)
        return super().classify(response, creates=creates)

    def retry_after(self, response: requests.Response) -> float | None:
        """`X-RateLimit-Reset`: ISO 8601 on Mastodon, epoch seconds on GoToSocial."""
        seconds = self.seconds_until(response.headers.get("X-RateLimit-Reset"))
        return super().retry_after(response) if seconds is None else seconds


def _base(creds: Mapping[str, Any]) -> str:
    """The instance's base URL, https assumed when only a host was given."""
    url = str(creds.get("instance_url", "")).strip().rstrip("/")
    return url if "://" in url else f"https://{url}"


def _auth(creds: dict[str, Any]) -> dict[str, str]:
    """The bearer header of the user token."""
    return {"Authorization": f"Bearer {creds.get('access_token', '')}"}
