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
    Platform,
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
from .reconcile import same_text

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
#: a lookup reads this many of the newest posts (busy accounts post more than the old 5 within an hour)
LOOKUP_LIMIT = 25
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


class GraphPlatform(Platform):
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

    def graph_delete(self, token: str, object_id: str) -> None:
        """DELETE /{object-id}; Graph's "object does not exist" (code 100, subcode 33) means already gone."""
        try:
            self.graph(token, "DELETE", object_id)
        except PlatformRejected as exc:
            error = exc.platform_error.get("error") if isinstance(exc.platform_error, dict) else None
            if isinstance(error, dict) and error.get("code") == 100 and error.get("error_subcode") == 33:
                return
            raise

    def find_recent(self, token: str, path: str, fields: str, text_key: str, time_key: str,
                    request: PublishRequest) -> dict[str, Any] | None:
        """A post on an edge with exactly this request's text, made in the window around its recorded call, in
        reply to what the request answers (`replied_to`, where the edge gives it)."""
        listing = self.graph(token, "GET", path, {"fields": fields, "limit": LOOKUP_LIMIT})
        for item in listing.get("data") or []:
            if (same_text(item.get(text_key), request.caption) and self.matches_time(request, item.get(time_key))
                    and self.replies_as_asked(request, (item.get("replied_to") or {}).get("id"))):
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
    #: when to check a container again: Meta suggests about once a minute for video, images finish in seconds
    check_after_image: ClassVar[float] = 5.0
    check_after_video: ClassVar[float] = 30.0
    processing_budget: ClassVar[float] = 900.0  # a reel may process for up to 15 minutes
    #: whether a video container takes `alt_text` too (Threads does; Instagram only for images)
    video_alt: ClassVar[bool] = False

    def post_params(self, request: PublishRequest, *, single: bool) -> dict[str, Any]:
        """The options' container parameters for the post's own container (none unless a platform says)."""
        return {}

    def item_params(self, item: Media, *, child: bool) -> dict[str, Any]:
        """Container parameters for one media item (standalone or carousel child)."""
        image = item.type == "image"
        params: dict[str, Any] = {"image_url" if image else "video_url": item.url}
        if item.alt and (image or self.video_alt):
            params["alt_text"] = item.alt
        kind = self.image_type if image else ("VIDEO" if child else self.single_video_type)
        if kind:
            params["media_type"] = kind
        if child:
            params["is_carousel_item"] = "true"
        return params

    def container(self, token: str, user_id: str, params: dict[str, Any]) -> str:
        """Create one container; containers stay invisible until published, so this is safe to repeat."""
        return str(self.graph(token, "POST", f"{user_id}/{self.create_edge}", params)["id"])

    def check_ready(self, token: str, container_id: str, check_after: float) -> None:
        """One status read: FINISHED returns, ERROR is final, IN_PROGRESS means "check again later"."""
        fields = f"{self.status_field},{self.detail_field}" if self.detail_field != self.status_field else self.status_field
        state = self.graph(token, "GET", container_id, {"fields": fields})
        status = state.get(self.status_field)
        if status in ("FINISHED", "PUBLISHED"):
            return
        if status == "ERROR":
            raise PlatformRejected(f"{self.label} could not process the media: {state.get(self.detail_field) or 'ERROR'}", code="media_rejected", platform_error=state)
        if status == "EXPIRED":
            raise PlatformUnavailable(f"{self.label} container expired before publishing", code="container_expired", platform_error=state)
        raise self.processing(f"container {container_id} is {status or 'IN_PROGRESS'}", check_after,
                              handles={"container_id": container_id, "status": status})

    def build(self, request: PublishRequest, token: str, user_id: str) -> str:
        """Every container the post needs, each created once (saved at once) and checked ready; returns the one to publish."""
        media, caption, state = list(request.media), request.caption, request.state
        check_after = self.check_after_video if any(m.type == "video" for m in media) else self.check_after_image
        ready = set(state.get("ready") or ())
        if len(media) > 1:
            children: list[str] = list(state.get("children") or ())
            for item in media[len(children):]:
                children.append(self.container(token, user_id, self.item_params(item, child=True)))
                request.save(children=children)
            for child_id in children:
                if child_id not in ready:
                    self.check_ready(token, child_id, check_after)
                    ready.add(child_id)
                    request.save(ready=sorted(ready))
            params = {"media_type": "CAROUSEL", "children": ",".join(children), self.caption_param: caption}
        elif media:
            params = {**self.item_params(media[0], child=False), self.caption_param: caption}
        else:
            params = {"media_type": "TEXT", self.caption_param: caption}
        params |= self.post_params(request, single=len(media) == 1)
        container_id = state.get("container_id")
        if not container_id:
            container_id = self.container(token, user_id, params)
            request.save(container_id=container_id)
        if media and container_id not in ready:  # text containers are ready at once
            self.check_ready(token, container_id, check_after)
            request.save(ready=sorted(ready | {container_id}))
        return str(container_id)

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
        """Container(s) (resumed from the saved ids), ready checks, publish, then the post's own permalink."""
        token, user_id = self.ids(account.credentials)
        try:
            container_id = self.build(request, token, user_id)
        except PlatformUnavailable as exc:
            if exc.code == "container_expired":  # containers live 24 h: the next attempt makes new ones
                request.save(children=[], container_id=None, ready=[])
            raise
        self.calling(request)
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
        request.save(media_id=media_id)
        link = self.permalink_field(token, media_id, "permalink", self.profile_url(account.handle))
        return Published(platform_post_id=media_id, permalink=link)

    def lookup_edge(self, request: PublishRequest) -> tuple[str, str]:
        """The edge listing the account's posts a lookup searches, and the fields it reads."""
        return self.create_edge, f"id,permalink,{self.caption_param},timestamp"

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """By the saved media id; else a container not PUBLISHED means nothing was posted; else our exact text
        among the account's posts made around the recorded call (containers themselves cannot be listed)."""
        token, user_id = self.ids(account.credentials)
        if media_id := request.state.get("media_id"):
            return Published(platform_post_id=str(media_id),
                             permalink=self.permalink_field(token, str(media_id), "permalink", self.profile_url(account.handle)))
        container_id = request.state.get("container_id")
        if container_id and self.container_status(token, str(container_id)) in ("FINISHED", "IN_PROGRESS", "ERROR"):
            return None  # the container never published: publishing it now is safe
        edge, fields = self.lookup_edge(request)
        item = self.find_recent(token, f"{user_id}/{edge}", fields, self.caption_param, "timestamp", request)
        if item is None:
            return None
        return Published(platform_post_id=str(item["id"]), permalink=str(item.get("permalink") or self.profile_url(account.handle)))
