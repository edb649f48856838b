"""Meta Graph API plumbing shared by Instagram, Facebook Pages and Threads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from ..errors import PlatformError
from .base import (
    Account,
    Media,
    OutcomeUnknown,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    Profile,
    Published,
    PublishRequest,
    error_body,
)
from .oauth import Refreshed
from .support import Adapter

#: app/user/page throttling codes (Graph rate-limiting guide)
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
#: "posting too fast" is a throttle even though its code is not
THROTTLE_SUBCODES = frozenset({1390008})
#: service-side hiccups Meta documents as "try again" (IG media download/processing, FB unavailable)
RETRYABLE_SUBCODES = frozenset({2207001, 2207003, 2207020, 2207032, 2207053, 1363047, 1609010})
#: spam/restriction answers that reuse a throttle code (4/2207051) but must never be retried
RESTRICTED_SUBCODES = frozenset({2207050, 2207051, 4279013})
DUPLICATE_CODES = frozenset({506})
DUPLICATE_SUBCODES = frozenset({1366051})
#: 190 invalid/expired token, 102 session invalid
AUTH_CODES = frozenset({102, 190})
#: Instagram's rolling 24 h cap of API-published posts (code 9, subcode 2207042)
PUBLISH_CAP = (9, 2207042)
DAY = 86400.0
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage")


def _regain_minutes(value: Any) -> list[float]:
    """Every `estimated_time_to_regain_access` found anywhere in a usage header's JSON."""
    if isinstance(value, Mapping):
        found = [float(v) for k, v in value.items() if k == "estimated_time_to_regain_access" and isinstance(v, (int, float))]
        return found + [m for v in value.values() for m in _regain_minutes(v)]
    if isinstance(value, list):
        return [m for v in value for m in _regain_minutes(v)]
    return []


def usage_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns, from Meta's usage headers (which count in minutes)."""
    minutes: list[float] = []
    for name in USAGE_HEADERS:
        try:
            minutes += _regain_minutes(json.loads(headers.get(name) or "null"))
        except ValueError:
            continue
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def graph_error(resp: requests.Response, body: Any, *, creates: bool, label: str) -> PlatformError | None:
    """The error an answer carrying a Graph `error` envelope means; None when there is no envelope."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"{label} answered HTTP {resp.status_code}")
    if error.get("error_user_msg"):
        message = f"{message} ({error['error_user_msg']})"
    if code in AUTH_CODES:
        return PlatformAuthError(message, code="auth_expired", platform_error=body)
    hint = usage_retry_after(resp.headers)
    if (code, subcode) == PUBLISH_CAP:
        # a rolling 24 h window: come back when the usage header says, else in a day
        return PlatformRateLimited(message, code="publish_limit", retry_after=hint or DAY, platform_error=body)
    if subcode in RESTRICTED_SUBCODES:
        return PlatformRejected(message, code="restricted", platform_error=body)
    if code in THROTTLE_CODES or subcode in THROTTLE_SUBCODES:
        return PlatformRateLimited(message, code="rate_limited", retry_after=hint, platform_error=body)
    transient = error.get("is_transient") is True or code in (1, 2) or subcode in RETRYABLE_SUBCODES
    if resp.status_code >= 500 or transient:
        # on the publishing call a server error may come after the post was stored (Threads: 500 code 10)
        if creates:
            return OutcomeUnknown(message, code="outcome_unknown", platform_error=body)
        return PlatformUnavailable(message, code="platform_unavailable", platform_error=body)
    if code in DUPLICATE_CODES or subcode in DUPLICATE_SUBCODES:
        return PlatformRejected(message, code="duplicate_post", platform_error=body)
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return PlatformRejected(message, code="permission_denied", platform_error=body)
    return PlatformRejected(message, code="rejected", platform_error=body)


class GraphPlatform(Adapter):
    """An adapter speaking a Graph API host: token as a parameter, errors in the `error` envelope."""

    graph_url: ClassVar[str] = "https://graph.facebook.com/v23.0"

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """Graph errors are told apart by code and subcode, not by HTTP status."""
        found = graph_error(response, error_body(response), creates=creates, label=self.label)
        return found or super().classify(response, creates=creates)

    def graph(self, token: str, method: str, path: str, params: dict[str, Any] | None = None, *, creates: bool = False) -> dict[str, Any]:
        """One Graph call; POST parameters go in the form body so long captions never hit URL limits."""
        fields = {**(params or {}), "access_token": token}
        where = {"data": fields} if method == "POST" else {"params": fields}
        return self.json(self.call(method, f"{self.graph_url}/{path}", creates=creates, **where), creates=creates)

    def find_recent(self, token: str, path: str, fields: str, text_key: str, time_key: str, caption: str) -> dict[str, Any] | None:
        """The newest post on an edge whose text is `caption` and that is recent enough to be ours."""
        listing = self.graph(token, "GET", path, {"fields": fields, "limit": 5})
        for item in listing.get("data") or []:
            if (item.get(text_key) or "").strip() == caption.strip() and self.recent(item.get(time_key)):
                return dict(item)
        return None

    def permalink_field(self, token: str, post_id: str, field_name: str, fallback: str) -> str:
        """The post's own permalink; the post is live, so a failed read falls back instead of failing."""
        try:
            return str(self.graph(token, "GET", post_id, {"fields": field_name}).get(field_name) or fallback)
        except PlatformError:
            return fallback

    def refresh_long_lived(self, url: str, grant_type: str, credentials: Mapping[str, Any]) -> Refreshed:
        """Meta's long-lived token refresh (a GET with the token itself): a new token for another 60 days."""
        token = credentials.get("access_token")
        if not token:
            raise PlatformAuthError(f"{self.label} credentials lack access_token", code="refresh_refused")
        response = self.token_request("GET", url, params={"grant_type": grant_type, "access_token": str(token)})
        return self.refreshed(credentials, self.token_answer(response))


class ContainerPlatform(GraphPlatform):
    """The create-container, wait, publish flow of Instagram and Threads."""

    create_edge: ClassVar[str] = ""  # "media" | "threads"
    publish_edge: ClassVar[str] = ""  # "media_publish" | "threads_publish"
    status_field: ClassVar[str] = ""  # "status_code" | "status"
    detail_field: ClassVar[str] = ""  # where ERROR explains itself
    caption_param: ClassVar[str] = ""  # "caption" | "text"
    user_field: ClassVar[str] = "user_id"  # the credential naming the publishing account
    image_type: ClassVar[str] = "IMAGE"  # Instagram wants none for images
    single_video_type: ClassVar[str] = "VIDEO"  # Instagram: "REELS"
    #: first poll is immediate; then wait this long, this many times, before giving up for now
    poll_interval: ClassVar[float] = 3.0
    poll_attempts: ClassVar[int] = 10

    def item_params(self, item: Media, *, child: bool) -> dict[str, Any]:
        """Container parameters for one media item (standalone or carousel child)."""
        image = item.type == "image"
        params: dict[str, Any] = {"image_url" if image else "video_url": item.url}
        kind = self.image_type if image else ("VIDEO" if child else self.single_video_type)
        if kind:
            params["media_type"] = kind
        if child:
            params["is_carousel_item"] = "true"
        return params

    def container(self, token: str, user_id: str, params: dict[str, Any]) -> str:
        """Create one container; containers stay invisible until published, so this is safe to repeat."""
        return str(self.graph(token, "POST", f"{user_id}/{self.create_edge}", params)["id"])

    def wait_ready(self, token: str, container_id: str) -> None:
        """Poll a container until it can be published; ERROR is final, slow processing is retried later."""
        fields = f"{self.status_field},{self.detail_field}" if self.detail_field != self.status_field else self.status_field
        for attempt in range(self.poll_attempts + 1):
            if attempt:
                self.sleep(self.poll_interval)
            state = self.graph(token, "GET", container_id, {"fields": fields})
            status = state.get(self.status_field)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise PlatformRejected(f"{self.label} could not process the media: {state.get(self.detail_field) or 'ERROR'}", code="media_rejected", platform_error=state)
            if status == "EXPIRED":
                raise PlatformUnavailable(f"{self.label} container expired before publishing", code="platform_unavailable", platform_error=state)
        raise PlatformUnavailable(f"{self.label} is still processing the media", code="media_processing", retry_after=60.0, platform_error={"container_id": container_id})

    def build(self, token: str, user_id: str, caption: str, media: list[Media]) -> str:
        """Every container the post needs, ready to publish; returns the one to publish."""
        if len(media) > 1:
            children = [self.container(token, user_id, self.item_params(item, child=True)) for item in media]
            for child_id in children:
                self.wait_ready(token, child_id)
            params = {"media_type": "CAROUSEL", "children": ",".join(children), self.caption_param: caption}
        elif media:
            params = {**self.item_params(media[0], child=False), self.caption_param: caption}
        else:
            params = {"media_type": "TEXT", self.caption_param: caption}
        container_id = self.container(token, user_id, params)
        if media:  # text containers are ready at once
            self.wait_ready(token, container_id)
        return container_id

    def publish_container(self, token: str, user_id: str, container_id: str) -> str:
        """The one call that makes the post public; any doubt about it becomes OutcomeUnknown."""
        try:
            body = self.graph(token, "POST", f"{user_id}/{self.publish_edge}", {"creation_id": container_id}, creates=True)
        except OutcomeUnknown as exc:
            exc.platform_error = {"container_id": container_id, "error": exc.platform_error}
            raise
        return str(body["id"])

    def container_status(self, token: str, container_id: str) -> str | None:
        """The container's status, or None when even that cannot be read."""
        try:
            return str(self.graph(token, "GET", container_id, {"fields": self.status_field}).get(self.status_field))
        except PlatformError:
            return None

    def profile_url(self, handle: str) -> str:
        """Where a post's permalink falls back to when it cannot be read."""
        raise NotImplementedError

    def ids(self, credentials: dict[str, Any]) -> tuple[str, str]:
        """(token, user id) from an account's credentials."""
        return self.credential(credentials, "access_token"), self.credential(credentials, self.user_field)

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """Read the profile the token publishes as."""
        token, user_id = self.ids(credentials)
        me = self.graph(token, "GET", user_id, {"fields": "id,username,name"})
        return Profile(handle=str(me.get("username") or user_id), display_name=str(me.get("name") or ""))

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Container(s), wait until ready, publish, then the post's own permalink."""
        token, user_id = self.ids(account.credentials)
        container_id = self.build(token, user_id, request.caption, list(request.media))
        try:
            media_id = self.publish_container(token, user_id, container_id)
        except OutcomeUnknown:
            # a container publishes once: PUBLISHED proves the post is live (Threads even answers 500 then)
            if self.container_status(token, container_id) == "PUBLISHED":
                try:
                    found = self.lookup(account, request)
                except PlatformError:
                    found = None  # keep the unknown outcome: the engine's lookup tries again later
                if found is not None:
                    return found
            raise
        link = self.permalink_field(token, media_id, "permalink", self.profile_url(account.handle))
        return Published(platform_post_id=media_id, permalink=link)

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The account's recent posts carrying this caption (containers themselves cannot be listed)."""
        token, user_id = self.ids(account.credentials)
        fields = f"id,permalink,{self.caption_param},timestamp"
        item = self.find_recent(token, f"{user_id}/{self.create_edge}", fields, self.caption_param, "timestamp", request.caption)
        if item is None:
            return None
        return Published(platform_post_id=str(item["id"]), permalink=str(item.get("permalink") or self.profile_url(account.handle)))
