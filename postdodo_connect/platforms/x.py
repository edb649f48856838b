"""X (API v2): media upload, then POST /2/tweets; ambiguous creates are found on the timeline."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

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
    error_body,
    seed_digits,
)
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec, Refreshed
from .text import url_spans, x_weighted_length, x_weighted_length_at_most

API = "https://api.x.com"
#: video upload segment size (the API takes up to 5 MB; 1 MB is what clients use)
CHUNK = 1024 * 1024
#: when X gives no check_after_secs for a video still processing
PROCESSING_CHECK_AFTER = 5.0


class X(Platform):
    """X posts: 280 weighted characters, up to 4 images or one video."""

    name = "x"
    label = "X"
    max_caption = 280
    max_alt: ClassVar[int] = 1000  # alt text, per media item
    max_media = 4
    can_delete = True
    has_first_comment = True
    comment_is_post = True
    has_thread = True
    video_alone = True
    has_lookup = True
    # refresh_token and client_id (client_secret for confidential clients) are optional: with them
    # (or with POSTDODO_X_CLIENT_ID) tokens are refreshed ahead of expiry and once after a 401
    credential_fields = ("access_token", "refresh_token", "client_id")
    media_max_bytes: ClassVar[dict[str, int]] = {"image": 5 * 1024 * 1024, "video": 512 * 1024 * 1024}
    media_types: ClassVar[dict[str, frozenset[str]]] = {
        "image": frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
        "video": frozenset({"video/mp4", "video/quicktime"}),
    }

    # OAuth 2.0 with PKCE; offline.access brings the refresh token, media.write the v2 media upload
    oauth = OAuthSpec(authorize_url="https://x.com/i/oauth2/authorize", token_url=f"{API}/2/oauth2/token",
                      scopes=("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"))

    caption_rule = "caption.max_weighted_length"
    caption_unit = "weighted (CJK and emoji count 2, links 23)"

    def caption_length(self, caption: str) -> int:
        """twitter-text weighted length."""
        return x_weighted_length(caption)

    def caption_length_at_most(self, caption: str) -> int:
        """A bound that spares most captions the full twitter-text parse (the API checks every request)."""
        return x_weighted_length_at_most(caption)

    def permalink(self, handle: str, post_id: str) -> str:
        """`https://x.com/{username}/status/{id}`."""
        return f"https://x.com/{handle.lstrip('@')}/status/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """A 19-digit snowflake-like id."""
        return seed_digits(seed, 19)

    # -- live calls ------------------------------------------------------------------------------

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """GET /2/users/me."""
        me = self.call("GET", f"{API}/2/users/me", headers=_auth(credentials)).json()["data"]
        return Profile(handle=me["username"], display_name=me.get("name", ""))

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """A confidential client authenticates with Basic; a public one (no secret) names itself in the body."""
        if app.client_secret:
            return super().exchange_code(app, code, code_verifier)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri,
                "code_verifier": code_verifier or "", "client_id": app.client_id}
        return self.grant_from(self.call("POST", f"{API}/2/oauth2/token", data=form).json())

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """The user who consented (GET /2/users/me): one account, refreshable with the app's client."""
        me = self.call("GET", f"{API}/2/users/me", headers=_auth({"access_token": grant.access_token})).json()["data"]
        credentials: dict[str, Any] = {"access_token": grant.access_token, "refresh_token": grant.refresh_token,
                                       "client_id": app.client_id, "user_id": str(me["id"]),
                                       "expires_at": grant.expires_at}
        if app.client_secret:
            credentials["client_secret"] = app.client_secret
        return [ConnectOption(id=str(me["id"]), handle=me["username"], display_name=me.get("name") or me["username"],
                              external_user_id=str(me["id"]), credentials=_present(credentials),
                              expires_at=grant.expires_at)]

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Upload media, then create the post; a duplicate refusal on a retry means it went through."""
        creds = dict(account.credentials)
        body: dict[str, Any] = {"text": request.caption}
        if request.media:
            body["media"] = {"media_ids": self._media_ids(account, creds, request)}
        if request.reply_to is not None:  # a thread item: a reply to the item before it (who may reply: the root's)
            body["reply"] = {"in_reply_to_tweet_id": request.reply_to.parent.platform_post_id}
        elif reply_settings := request.options.get("reply_settings"):
            body["reply_settings"] = reply_settings
        self.calling(request)
        try:
            answer = self._api(account, creds, "POST", "/2/tweets", creates=True, json=body).json()
        except PlatformRejected as exc:
            if exc.code == "duplicate_post" and request.attempt > 1 and (earlier := self.lookup(account, request)):
                return earlier
            raise
        post_id = answer["data"]["id"]
        return Published(platform_post_id=post_id, permalink=self.permalink(account.handle, post_id))

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """A self-reply: POST /2/tweets with `reply.in_reply_to_tweet_id`."""
        body = {"text": text, "reply": {"in_reply_to_tweet_id": platform_post_id}}
        post_id = self._api(account, dict(account.credentials), "POST", "/2/tweets", json=body).json()["data"]["id"]
        return Published(platform_post_id=post_id, permalink=self.permalink(account.handle, post_id))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /2/tweets/:id (a post already gone answers 404)."""
        self._api(account, dict(account.credentials), "DELETE", f"/2/tweets/{platform_post_id}")

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The newest posts of the account, matched on their text (links aside: X rewrites them), their time and
        the post they reply to."""
        creds = dict(account.credentials)
        user_id = creds.get("user_id") or self._api(account, creds, "GET", "/2/users/me").json()["data"]["id"]
        answer = self._api(account, creds, "GET", f"/2/users/{user_id}/tweets",
                           params={"max_results": 25, "tweet.fields": "created_at,referenced_tweets"}).json()
        wanted = _comparable(request.caption)
        for post in answer.get("data") or []:
            replied_to = next((ref.get("id") for ref in post.get("referenced_tweets") or ()
                               if ref.get("type") == "replied_to"), None)
            if _comparable(post.get("text", "")) == wanted and self.replies_as_asked(request, replied_to) and (
                    "created_at" not in post or self.matches_time(request, post["created_at"])):
                return Published(platform_post_id=post["id"], permalink=self.permalink(account.handle, post["id"]))
        return None

    # -- plumbing --------------------------------------------------------------------------------

    def _media_ids(self, account: Account, creds: dict[str, Any], request: PublishRequest) -> list[str]:
        """Upload what no earlier attempt uploaded (each id saved at once); a video still processing is checked."""
        ids: list[str] = list(request.state.get("media_ids") or ())
        for item in request.media[len(ids):]:
            media_id = self._upload(account, creds, item, request)
            if item.alt:  # before the id is saved: a retry re-uploads rather than posting without the alt text
                self._api(account, creds, "POST", "/2/media/metadata",
                          json={"id": media_id, "metadata": {"alt_text": {"text": item.alt}}})
            ids.append(media_id)
            request.save(media_ids=ids)
        if pending := request.state.get("processing"):
            status = self._api(account, creds, "GET", "/2/media/upload", params={"command": "STATUS", "media_id": pending})
            self._check_processed(status.json()["data"].get("processing_info"), str(pending))
            request.save(processing=None)
        return ids

    def _upload(self, account: Account, creds: dict[str, Any], item: Media, request: PublishRequest) -> str:
        """One-shot upload for images; initialize/append/finalize for video (its processing checked, never waited on)."""
        data, content_type = self.fetch_media(account, item)
        if item.type != "video":
            files = {"media": ("media", data, content_type)}
            answer = self._api(account, creds, "POST", "/2/media/upload", files=files, data={"media_category": "tweet_image"})
            return str(answer.json()["data"]["id"])
        init = {"media_type": content_type, "total_bytes": len(data), "media_category": "tweet_video"}
        media_id = str(self._api(account, creds, "POST", "/2/media/upload/initialize", json=init).json()["data"]["id"])
        for index, start in enumerate(range(0, len(data), CHUNK)):
            self._api(account, creds, "POST", f"/2/media/upload/{media_id}/append",
                      files={"media": ("chunk", data[start:start + CHUNK], "application/octet-stream")},
                      data={"segment_index": str(index)})
        info = self._api(account, creds, "POST", f"/2/media/upload/{media_id}/finalize").json()["data"].get("processing_info")
        if info and info.get("state") in ("pending", "in_progress"):
            request.save(media_ids=[*(request.state.get("media_ids") or ()), media_id], processing=media_id)
        self._check_processed(info, media_id)
        return media_id

    def _check_processed(self, info: dict[str, Any] | None, media_id: str) -> None:
        """Nothing when processed; "check after the platform's check_after_secs" while it runs; failed is final."""
        state = (info or {}).get("state")
        if state in ("pending", "in_progress"):
            raise self.processing(f"video {media_id} is {state}", float((info or {}).get("check_after_secs") or PROCESSING_CHECK_AFTER),
                                  handles={"media_id": media_id, "state": state})
        if info and state == "failed":
            raise PlatformRejected(f"X could not process the video: {info.get('error', {}).get('message', 'failed')}",
                                   code="media_rejected", platform_error=info)

    def _api(self, account: Account, creds: dict[str, Any], method: str, path: str, *,
             creates: bool = False, **kwargs: Any) -> requests.Response:
        """A user-context call; a 401 is answered by one token renewal when the account allows it."""
        response = self.http(method, f"{API}{path}", creates=creates, headers=_auth(creds), **kwargs)
        if response.status_code == 401 and self.may_renew(creds):
            # the new pair is stored before it is used: X has already spent the old refresh token
            creds.update(self.renew(account, creds))
            response = self.http(method, f"{API}{path}", creates=creates, headers=_auth(creds), **kwargs)
        if response.status_code >= 300:
            raise self.classify(response, creates=creates)
        return response

    # -- token lifecycle -------------------------------------------------------------------------

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """With `offline.access` X grants a refresh token; the client is stored with it or configured."""
        return bool(credentials.get("refresh_token") and self.refresh_client(credentials, client))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """The refresh grant; X rotates the refresh token, so the answer's pair replaces the stored one."""
        return self.refresh_grant(f"{API}/2/oauth2/token", credentials, self.refresh_client(credentials, client))

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """Duplicate refusals and usage caps get their own codes; the rest as the base says."""
        message = self.error_message(response)
        body = error_body(response)
        if response.status_code == 403 and "duplicate content" in message:
            return PlatformRejected(f"X: {message}", code="duplicate_post", platform_error=body)
        if response.status_code == 429 and isinstance(body, dict) and "usage-capped" in str(body.get("type", "")):
            # a monthly product cap: retrying this run cannot succeed
            return PlatformRejected(f"X: {message}", code="usage_cap_exceeded", platform_error=body)
        return super().classify(response, creates=creates)

    def error_message(self, response: requests.Response) -> str:
        """The first `errors[].message` when present (it is the precise one), else `detail`."""
        body = error_body(response)
        if isinstance(body, dict) and body.get("errors") and isinstance(body["errors"], list):
            first = body["errors"][0]
            if isinstance(first, dict) and first.get("message"):
                return str(first["message"])
        return super().error_message(response)

    def retry_after(self, response: requests.Response) -> float | None:
        """The latest reset among the exhausted windows (15 min, user 24 h, app 24 h)."""
        headers = response.headers
        resets = [headers.get(f"{prefix}-reset") for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
                  if headers.get(f"{prefix}-remaining") == "0"] or [headers.get("x-rate-limit-reset")]
        waits = [s for s in (self.seconds_until(r) for r in resets) if s is not None]
        return max(waits) if waits else super().retry_after(response)


def _auth(creds: dict[str, Any]) -> dict[str, str]:
    """The OAuth 2.0 user-context bearer header."""
    return {"Authorization": f"Bearer {creds.get('access_token', '')}"}


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries that have a value."""
    return {k: v for k, v in values.items() if v is not None}


def _comparable(text: str) -> str:
    """Text as X echoes it, reduced for matching: unescaped, NFC, without links, spaces folded."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    for start, end, _ in reversed(url_spans(text)):
        text = text[:start] + text[end:]
    return " ".join(text.split())

