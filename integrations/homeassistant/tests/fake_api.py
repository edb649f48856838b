"""A small in-memory PostDodo API behind Home Assistant's ``aioclient_mock`` (the client speaks aiohttp)."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker, AiohttpClientMockResponse
from yarl import URL

from custom_components.postdodo._postdodo_client.signing import delivery_headers, generate_secret

BASE = "http://192.168.1.20:8080"
KEY = "pd_test_goodkey"
ACCOUNTS = [
    {"id": "acct_insta00000000001", "platform": "instagram", "handle": "dodo_bakery", "display_name": "Dodo Bakery",
     "mode": "sandbox", "status": "active", "created_at": "2030-01-01T09:00:00Z"},
    {"id": "acct_bsky000000000002", "platform": "bluesky", "handle": "dodo.bsky.social", "display_name": "",
     "mode": "sandbox", "status": "active", "created_at": "2030-01-02T09:00:00Z"},
    {"id": "acct_mast000000000003", "platform": "mastodon", "handle": "dodo_bakery", "display_name": "Dodo",
     "mode": "sandbox", "status": "expired", "created_at": "2030-01-03T09:00:00Z"},
]

Answer = tuple[int, dict[str, str], str]


def _error(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> Answer:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": "req_test"}
    if details:
        body["details"] = details
    return status, {"Content-Type": "application/json"}, json.dumps({"error": body})


def _ok(body: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json", "X-Request-Id": "req_test"}, json.dumps(body)


class FakePostDodo:
    """Accounts, posts and webhook endpoints of one workspace, served at ``base``."""

    def __init__(self, mock: AiohttpClientMocker, base: str = BASE) -> None:
        self.mock = mock
        self.base = base
        self.keys = {KEY}
        self.accounts = [dict(a) for a in ACCOUNTS]
        self.posts: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.deleted_webhooks: list[str] = []
        self.refuse_webhook_url: str | None = None  # an error message: POST /v1/webhooks answers 400
        self.fail_with: int | None = None  # every call answers this status (5xx)
        self.webhook_conflicts = 0  # the next n POST /v1/webhooks answer 409 (endpoint limit reached)
        self.created_bodies: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        api = re.escape(base)
        routes = [
            ("GET", r"/v1/accounts", self._accounts),
            ("GET", r"/v1/posts", self._list_posts),
            ("POST", r"/v1/posts", self._create_post),
            ("GET", r"/v1/posts/([^/?]+)", self._get_post),
            ("DELETE", r"/v1/posts/([^/?]+)", self._cancel_post),
            ("POST", r"/v1/webhooks", self._create_webhook),
            ("GET", r"/v1/webhooks/([^/?]+)", self._get_webhook),
            ("DELETE", r"/v1/webhooks/([^/?]+)", self._delete_webhook),
            ("POST", r"/v1/webhooks/([^/?]+)/enable", self._enable_webhook),
        ]
        for method, path, handler in routes:
            mock.request(method, re.compile("^" + api + path + r"(\?.*)?$"), side_effect=self._wrap(method, handler))

    def _wrap(self, method: str, handler: Any) -> Any:
        async def side_effect(_method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
            # the mocker records each call (with its headers) just before it asks us for the answer
            headers = self.mock.mock_calls[-1][3] or {}
            if self.fail_with:
                status, answer_headers, text = _error(self.fail_with, "internal_error", "boom")
            elif headers.get("Authorization", "").removeprefix("Bearer ") not in self.keys:
                status, answer_headers, text = _error(401, "unauthorized", "invalid API key (revoked, rotated or mistyped)")
            else:
                match = re.search(r"/v1/\w+/([^/?]+)", str(url))
                body = json.loads(data) if isinstance(data, str | bytes) else data
                status, answer_headers, text = handler(match.group(1) if match else None, body)
            return AiohttpClientMockResponse(method, url, status=status, text=text, headers=answer_headers)
        return side_effect

    # -- resources ---------------------------------------------------------------------------------------

    def _accounts(self, _: Any, __: Any) -> Answer:
        return _ok({"data": self.accounts, "has_more": False, "next_cursor": None})

    def _list_posts(self, _: Any, __: Any) -> Answer:
        newest = sorted(self.posts.values(), key=lambda p: p["created_at"], reverse=True)
        return _ok({"data": newest, "has_more": False, "next_cursor": None})

    def add_post(self, account_ids: list[str], status: str = "scheduled", target_status: str = "scheduled",
                 permalink: str | None = None, created_at: str = "2030-02-01T09:00:00Z",
                 caption: str = "hello") -> dict[str, Any]:
        """A post as the API returns it."""
        post_id = f"post_{next(self._ids):016d}"
        platforms = {a["id"]: a["platform"] for a in self.accounts}
        post = {"id": post_id, "status": status, "caption": caption, "scheduled_at": None, "media": [],
                "created_at": created_at, "updated_at": created_at,
                "targets": [{"account_id": a, "platform": platforms.get(a, "instagram"), "status": target_status,
                             "permalink": permalink, "attempts": 0} for a in account_ids]}
        self.posts[post_id] = post
        return post

    def _create_post(self, _: Any, body: dict[str, Any]) -> Answer:
        self.created_bodies.append(body)
        if not body.get("caption"):
            # as the real API words it: the message sums up the first problem, details list them all
            return _error(400, "invalid_request", "post refused: a caption is required (and 1 more)",
                          [{"field": "caption", "platform": "bluesky", "rule": "caption.empty",
                            "message": "a caption is required"},
                           {"field": "caption", "platform": "instagram", "rule": "instagram.media.required",
                            "message": "Instagram needs at least one image or video"}])
        scheduled = body.get("scheduled_at")
        post = self.add_post(body["account_ids"], status="scheduled" if scheduled else "publishing",
                             target_status="scheduled" if scheduled else "publishing", caption=body["caption"],
                             created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        post["scheduled_at"], post["media"] = scheduled, body.get("media", [])
        return _ok(post, 201)

    def _get_post(self, post_id: str, _: Any) -> Answer:
        if post_id not in self.posts:
            return _error(404, "not_found", f"no post {post_id}")
        return _ok(self.posts[post_id])

    def _cancel_post(self, post_id: str, _: Any) -> Answer:
        post = self.posts.get(post_id)
        if post is None:
            return _error(404, "not_found", f"no post {post_id}")
        if post["status"] != "scheduled":
            return _error(409, "conflict", "no target of this post can be canceled any more")
        post["status"] = "canceled"
        for target in post["targets"]:
            target["status"] = "canceled"
        return _ok(post)

    def _create_webhook(self, _: Any, body: dict[str, Any]) -> Answer:
        if self.refuse_webhook_url:
            return _error(400, "url_not_allowed", self.refuse_webhook_url)
        if self.webhook_conflicts:
            self.webhook_conflicts -= 1
            return _error(409, "conflict", "a workspace may have at most 20 webhook endpoints")
        endpoint = {"id": f"wh_{next(self._ids):016d}", "url": body["url"], "events": sorted(body.get("events") or []),
                    "status": "enabled", "description": body.get("description"), "secret": generate_secret()}
        self.webhooks[endpoint["id"]] = endpoint
        return _ok(endpoint, 201)

    def _get_webhook(self, endpoint_id: str, _: Any) -> Answer:
        if endpoint_id not in self.webhooks:
            return _error(404, "not_found", f"no webhook endpoint {endpoint_id}")
        return _ok({k: v for k, v in self.webhooks[endpoint_id].items() if k != "secret"})

    def _delete_webhook(self, endpoint_id: str, _: Any) -> Answer:
        endpoint = self.webhooks.pop(endpoint_id, None)
        if endpoint is None:
            return _error(404, "not_found", f"no webhook endpoint {endpoint_id}")
        self.deleted_webhooks.append(endpoint_id)
        return _ok({k: v for k, v in endpoint.items() if k != "secret"})

    def _enable_webhook(self, endpoint_id: str, _: Any) -> Answer:
        self.webhooks[endpoint_id]["status"] = "enabled"
        return self._get_webhook(endpoint_id, None)

    # -- deliveries ----------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> dict[str, Any]:
        """The one registered webhook endpoint."""
        (endpoint,) = self.webhooks.values()
        return endpoint

    def delivery(self, event: str, data: dict[str, Any], event_id: str | None = None,
                 secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A signed delivery (body and headers) as the PostDodo sender makes it."""
        event_id = event_id or f"evt_{next(self._ids):016d}"
        body = json.dumps({"id": event_id, "event": event, "created_at": "2030-02-01T09:00:05Z",
                           "data": data}).encode()
        headers = delivery_headers([secret or self.endpoint["secret"]], event_id, int(time.time()), body)
        return body, {**headers, "Content-Type": "application/json"}
