"""The catalogue: every automation action and trigger of PostDodo, defined once for all shells (docs/automation.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..client import Client
from ..client._calls import media_with_alt
from ..content import OPTIONS
from ..errors import NotFoundError
from ..models import Post, format_time
from .model import Action, Field, Http, Output, Trigger

__all__ = ["ACTIONS", "CATALOGUE_VERSION", "PLATFORMS", "TRIGGERS", "action", "event_items", "platform_versions",
           "split_lines", "split_values", "trigger"]

#: the platforms a per-platform caption may name (those with typed options: every platform PostDodo knows)
PLATFORMS = tuple(sorted(OPTIONS))
_PLATFORM_LABELS = {"x": "X (Twitter)", "tiktok": "TikTok", "linkedin": "LinkedIn"}

CATALOGUE_VERSION = 1
RECENT = 25  # items a trigger shows as examples / looks at per poll

# -- inputs from shells arrive as strings: normalise them once -------------------------------------------


def split_values(value: Any) -> list[str]:
    """Several values from a list or a comma/semicolon/space separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,;]+", value) if v]
    return [str(v).strip() for v in value if str(v).strip()]


def split_lines(value: Any) -> list[str]:
    """Several texts from a list, or from a string holding one text per line (texts have spaces and commas)."""
    if value is None or value == "":
        return []
    items = value.splitlines() if isinstance(value, str) else [str(v) for v in value if v is not None]
    return [item.strip() for item in items if item.strip()]


def _alts(value: Any) -> list[str]:
    """Alt texts in media order: unlike other lists, an empty one keeps its place (the media item gets none)."""
    if value is None or value == "":
        return []
    items = value.splitlines() if isinstance(value, str) else ["" if v is None else str(v) for v in value]
    while items and not items[-1].strip():
        items.pop()
    return [item.strip() for item in items]


def platform_versions(value: Any) -> dict[str, dict[str, str]] | None:
    """Per-platform captions ({platform: caption}) as the API's per-platform versions; blank captions are left out."""
    if value is None or value == "":
        return None
    if not isinstance(value, Mapping):
        raise ValueError("per-platform captions are pairs of a platform name and its caption")
    versions = {}
    for name, caption in value.items():
        platform = str(name).strip().lower()
        if caption is None or not str(caption).strip():
            continue
        if platform not in PLATFORMS:
            raise ValueError(f"per-platform captions: {name!r} is not a platform (one of {', '.join(PLATFORMS)})")
        versions[platform] = {"caption": str(caption)}
    return versions or None


def _blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _post(post: Post) -> dict[str, Any]:
    return post.model_dump(mode="json")


# -- actions ----------------------------------------------------------------------------------------------


def create_post(client: Client, *, caption: str = "", account_ids: Any = None, scheduled_at: Any = None,
                media: Any = None, media_alt: Any = None, platform_captions: Any = None, first_comment: Any = None,
                thread: Any = None, idempotency_key: Any = None) -> dict[str, Any]:
    """Create a post, now or at ``scheduled_at``."""
    return _post(client.posts.create(
        caption or "", split_values(account_ids), _blank(scheduled_at),
        media_with_alt(split_values(media), _alts(media_alt)) or None, _blank(idempotency_key),
        platforms=platform_versions(platform_captions), first_comment=_blank(first_comment),
        thread=split_lines(thread) or None))


def cancel_post(client: Client, *, post_id: str) -> dict[str, Any]:
    """Cancel the targets of a post that have not started."""
    return _post(client.posts.cancel(post_id.strip()))


def get_post(client: Client, *, post_id: str) -> list[dict[str, Any]]:
    """Find a post by id: one item, or none."""
    try:
        return [_post(client.posts.get(post_id.strip()))]
    except NotFoundError:
        return []


def list_accounts(client: Client) -> list[dict[str, Any]]:
    """The workspace's connected accounts, each with a readable ``label``."""
    return [a.model_dump(mode="json") | {"label": f"{a.display_name or a.handle} ({a.platform} @{a.handle})"}
            for a in client.accounts.list()]


# -- triggers: one event envelope -> flat items that every shell can map -----------------------------------


def event_items(envelope: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A delivery as one flat item: the event id, type and time, then the event's data."""
    data = envelope.get("data") if isinstance(envelope.get("data"), Mapping) else {}
    return [{"id": envelope.get("id"), "event": envelope.get("event"), "created_at": envelope.get("created_at"),
             **dict(data or {})}]


def _target_items(post: Post, status: str, event: str) -> list[dict[str, Any]]:
    """Event-shaped items for a post's targets in ``status`` (examples: real event ids exist only in deliveries)."""
    items = []
    for target in post.targets:
        if target.status != status:
            continue
        item: dict[str, Any] = {"id": f"{post.id}.{target.account_id}", "event": event,
                                "created_at": format_time(post.updated_at or post.created_at),
                                "post_id": post.id, "account_id": target.account_id, "platform": target.platform,
                                "status": target.status, "sequence": None}  # known only to the delivered event
        if status == "confirmed":
            item |= {"permalink": target.permalink, "platform_post_id": target.platform_post_id}
        else:
            item["error"] = target.error.model_dump(mode="json") if target.error else None
        items.append(item)
    return items


def _recent(client: Client) -> list[Post]:
    return list(client.posts.list(limit=RECENT))


def recent_published(client: Client) -> list[dict[str, Any]]:
    """Examples for post_published from recent posts."""
    return [i for p in _recent(client) for i in _target_items(p, "confirmed", "post.published")]


def recent_failed(client: Client) -> list[dict[str, Any]]:
    """Examples for post_failed from recent posts."""
    return [i for p in _recent(client) for i in _target_items(p, "failed", "post.failed")]


def recent_completed(client: Client) -> list[dict[str, Any]]:
    """Examples for post_completed from recent final posts."""
    items = []
    for post in _recent(client):
        if post.status not in ("published", "partially_published", "failed"):
            continue
        items.append({"id": post.id, "event": "post.completed",
                      "created_at": format_time(post.updated_at or post.created_at),
                      "post_id": post.id, "status": post.status, "sequence": None,
                      "targets": [{"account_id": t.account_id, "platform": t.platform, "status": t.status,
                                   "permalink": t.permalink} for t in post.targets]})
    return items


def new_posts(client: Client, *, status: Any = None) -> list[dict[str, Any]]:
    """The newest posts (newest first); shells deduplicate by ``id``."""
    return [_post(p) for p in client.posts.list(status=_blank(status), limit=RECENT)]


def _subscriber(event: str) -> Any:
    def subscribe(client: Client, url: str) -> dict[str, Any]:
        endpoint = client.webhooks.create(url, events=[event], description=f"automation: {event}")
        return endpoint.model_dump(mode="json")

    subscribe.__doc__ = f"Register ``url`` for {event} deliveries."
    return subscribe


def unsubscribe(client: Client, subscription_id: str) -> None:
    """Remove the endpoint a subscribe made; one already gone is fine."""
    try:
        client.webhooks.delete(subscription_id)
    except NotFoundError:
        pass


# -- the definitions --------------------------------------------------------------------------------------

_ACCOUNT_IDS = Field("account_ids", "Accounts", "string", True,
                     "The connected accounts to post to (acct_... ids); one post goes to each.",
                     dynamic="accounts", multiple=True, example="acct_kK8v03Wn5VtZA0pC")
_POST_ID = Field("post_id", "Post ID", "string", True, "The post's id (post_...).", example="post_KtMy2FRPdfd7VPEg")

_POST_SAMPLE: dict[str, Any] = {
    "id": "post_KtMy2FRPdfd7VPEg", "status": "scheduled", "caption": "Our spring menu is here!",
    "scheduled_at": "2030-04-01T09:00:00Z",
    "media": [{"type": "image", "url": "https://example.com/menu.jpg", "alt": None}],
    "platforms": None, "accounts": None, "first_comment": None, "thread": None,
    "targets": [{"account_id": "acct_kK8v03Wn5VtZA0pC", "platform": "instagram", "status": "scheduled",
                 "permalink": None, "platform_post_id": None, "attempts": 0,
                 "next_attempt_at": "2030-04-01T09:00:00Z", "error": None,
                 "content": {"caption": "Our spring menu is here!", "first_comment": None,
                             "media": [{"type": "image", "url": "https://example.com/menu.jpg", "alt": None}],
                             "options": {"kind": "feed", "collaborators": [], "share_to_feed": True},
                             "thread": []}}],
    "created_at": "2030-03-30T17:12:03Z", "updated_at": "2030-03-30T17:12:03Z",
}
_POST_OUTPUTS = (
    Output("id", "Post ID", primary=True), Output("status", "Post Status"), Output("caption", "Caption"),
    Output("scheduled_at", "Scheduled At", "datetime"), Output("created_at", "Created At", "datetime"),
    Output("targets[]account_id", "Target Account ID"), Output("targets[]platform", "Target Platform"),
    Output("targets[]status", "Target Status"), Output("targets[]permalink", "Target Permalink"),
)
_EVENT_OUTPUTS = (
    Output("id", "Event ID", primary=True), Output("event", "Event Type"), Output("created_at", "Occurred At", "datetime"),
    Output("post_id", "Post ID"), Output("account_id", "Account ID"), Output("platform", "Platform"),
    Output("status", "Target Status"),
)

ACTIONS: tuple[Action, ...] = (
    Action(
        key="create_post", noun="Post", label="Create Post", kind="create",
        description="Publishes a post to one or more connected accounts now, or schedules it for a later time.",
        fields=(
            Field("caption", "Caption", "text", True, "The text of the post. Each platform's length rules apply.",
                  example="Our spring menu is here!"),
            _ACCOUNT_IDS,
            Field("scheduled_at", "Publish At", "datetime", False,
                  "When to publish, with a timezone (2030-04-01T09:00:00Z). Leave empty to publish now.",
                  example="2030-04-01T09:00:00Z"),
            Field("media", "Media URLs", "string", False,
                  "Public http(s) URLs of images or videos (.mp4, .mov, .webm count as video). "
                  "Instagram needs at least one.", multiple=True, example="https://example.com/menu.jpg"),
            Field("media_alt", "Media Alt Texts", "text", False,
                  "Alt text for screen readers, one per media URL in the same order (leave one empty to skip "
                  "that item). Sent where the platform takes it (Bluesky, Mastodon, X, LinkedIn, Pinterest, "
                  "Instagram, Threads).", multiple=True, example="A chalkboard menu with five spring dishes"),
            Field("platform_captions", "Per-Platform Captions", "dict", False,
                  "Another caption for some platforms, used instead of Caption there: the platform name "
                  f"({', '.join(PLATFORMS)}) and its text. Only for platforms this post goes to.",
                  choices=tuple((p, _PLATFORM_LABELS.get(p, p.capitalize())) for p in PLATFORMS),
                  example="Spring menu, now on the site!"),
            Field("first_comment", "First Comment", "text", False,
                  "A comment posted under the post once it is live (Instagram, Facebook, LinkedIn; a self-reply "
                  "where that is the platform's way). Its failure never fails the post.",
                  example="Full menu: https://example.com/menu"),
            Field("thread", "Thread", "text", False,
                  "Posts that follow the first one as replies in a thread, one per item, in order (X, Bluesky, "
                  "Threads, Mastodon).", multiple=True, example="2/ The asparagus comes from down the road."),
            Field("idempotency_key", "Idempotency Key", "string", False,
                  "Optional: any unique text; a repeat with the same key returns the first post instead of a "
                  "second one. Leave empty and one is derived for you, so a retried step never posts twice."),
        ),
        sample=_POST_SAMPLE, run=create_post, outputs=_POST_OUTPUTS,
        http=Http("POST", "/v1/posts", body=("caption", "account_ids", "scheduled_at", "media", "platform_captions",
                                              "first_comment", "thread"),
                  renamed=(("platform_captions", "platforms"),)),
    ),
    Action(
        key="cancel_post", noun="Post", label="Cancel Post", kind="create",
        description="Cancels every target of a post that has not started publishing yet.",
        fields=(_POST_ID,), sample=_POST_SAMPLE | {"status": "canceled", "targets": [
            _POST_SAMPLE["targets"][0] | {"status": "canceled", "next_attempt_at": None}]},
        run=cancel_post, outputs=_POST_OUTPUTS, http=Http("DELETE", "/v1/posts/{post_id}"),
    ),
    Action(
        key="get_post", noun="Post", label="Find Post", kind="search",
        description="Finds a post by its id, with each target's status and permalink.",
        fields=(_POST_ID,), sample=_POST_SAMPLE | {"status": "published", "scheduled_at": None, "targets": [
            _POST_SAMPLE["targets"][0] | {"status": "confirmed", "attempts": 1, "next_attempt_at": None,
                                          "permalink": "https://www.instagram.com/p/C4mT1bXr2Qa/",
                                          "platform_post_id": "17985123456789012"}]},
        run=get_post, outputs=_POST_OUTPUTS, http=Http("GET", "/v1/posts/{post_id}"),
    ),
    Action(
        key="list_accounts", noun="Account", label="List Accounts", kind="list",
        description="Lists the connected social accounts of the workspace.",
        fields=(), sample={"id": "acct_kK8v03Wn5VtZA0pC", "platform": "instagram", "handle": "cafe_dodo",
                           "display_name": "Café Dodo", "mode": "live", "status": "active",
                           "created_at": "2030-03-01T10:00:00Z",
                           "health": {"token_expires_at": "2030-04-30T10:00:00Z", "scopes_granted": None,
                                      "scopes_needed": [], "last_published_at": "2030-03-02T09:00:04Z",
                                      "last_error": None, "needs_reconnect": False},
                           "label": "Café Dodo (instagram @cafe_dodo)"},
        run=list_accounts, http=Http("GET", "/v1/accounts", list_response=True),
        outputs=(Output("id", "Account ID", primary=True), Output("platform", "Platform"),
                 Output("handle", "Handle"), Output("display_name", "Display Name"), Output("status", "Status")),
    ),
)

_PUBLISHED_SAMPLE = {"id": "evt_3kq3smkozzfzl0aa", "event": "post.published", "created_at": "2030-04-01T09:00:04Z",
                     "post_id": "post_KtMy2FRPdfd7VPEg", "account_id": "acct_kK8v03Wn5VtZA0pC",
                     "platform": "instagram", "status": "confirmed",
                     "permalink": "https://www.instagram.com/p/C4mT1bXr2Qa/", "platform_post_id": "17985123456789012",
                     "sequence": 1}

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        key="post_published", label="Post Published", event="post.published",
        description="Triggers when a post is confirmed live on one account, with its permalink.",
        sample=_PUBLISHED_SAMPLE, outputs=(*_EVENT_OUTPUTS, Output("permalink", "Permalink")),
        subscribe=_subscriber("post.published"), unsubscribe=unsubscribe, perform=event_items, poll=recent_published,
    ),
    Trigger(
        key="post_failed", label="Post Failed", event="post.failed",
        description="Triggers when a post could not be published on one account, with the reason.",
        sample={k: v for k, v in _PUBLISHED_SAMPLE.items() if k not in ("permalink", "platform_post_id")} | {
            "id": "evt_5ab8wq1mz0c3d9e2", "event": "post.failed", "status": "failed",
            "error": {"code": "media_rejected", "message": "Instagram refused the image (aspect ratio 4:1)",
                      "retryable": False, "platform_error": None}},
        outputs=(*_EVENT_OUTPUTS, Output("error__code", "Error Code"), Output("error__message", "Error Message")),
        subscribe=_subscriber("post.failed"), unsubscribe=unsubscribe, perform=event_items, poll=recent_failed,
    ),
    Trigger(
        key="post_completed", label="Post Completed", event="post.completed",
        description="Triggers when every account of a post is done: published, partially published or failed.",
        sample={"id": "evt_9zq2lk4ma7b1c0d3", "event": "post.completed", "created_at": "2030-04-01T09:00:05Z",
                "post_id": "post_KtMy2FRPdfd7VPEg", "status": "published", "sequence": 2,
                "targets": [{"account_id": "acct_kK8v03Wn5VtZA0pC", "platform": "instagram", "status": "confirmed",
                             "permalink": "https://www.instagram.com/p/C4mT1bXr2Qa/"}]},
        outputs=(Output("id", "Event ID", primary=True), Output("event", "Event Type"),
                 Output("created_at", "Occurred At", "datetime"), Output("post_id", "Post ID"),
                 Output("status", "Post Status"), Output("targets[]platform", "Target Platform"),
                 Output("targets[]permalink", "Target Permalink")),
        subscribe=_subscriber("post.completed"), unsubscribe=unsubscribe, perform=event_items, poll=recent_completed,
    ),
    Trigger(
        key="new_post", label="New Post", kind="polling",
        description="Triggers when a new post is created in the workspace (checked by polling, newest first).",
        fields=(Field("status", "Status", "string", False, "Only posts in this status.",
                      choices=tuple((s, s.replace("_", " ").capitalize()) for s in (
                          "scheduled", "publishing", "published", "partially_published", "failed", "canceled"))),),
        sample=_POST_SAMPLE, outputs=_POST_OUTPUTS, poll=new_posts,
        http=Http("GET", "/v1/posts", query=("status",), list_response=True),
    ),
)


def action(key: str) -> Action:
    """The action called ``key``."""
    return next(a for a in ACTIONS if a.key == key)


def trigger(key: str) -> Trigger:
    """The trigger called ``key``."""
    return next(t for t in TRIGGERS if t.key == key)
