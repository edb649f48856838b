"""Per-platform and per-account versions: each target's effective content, and its preflight."""

from __future__ import annotations

from typing import Any

from .. import netguard, platforms
from ..content import check_options
from ..errors import UnsafeURLError
from ..models import Media, PostCreate, Version
from .webhooks import url_policy


def stored_versions(body: PostCreate) -> dict[str, Any] | None:
    """The versions as given, for the post row (None when the post has none)."""
    versions: dict[str, Any] = {}
    for name in ("platforms", "accounts"):
        given: dict[str, Version] | None = getattr(body, name)
        if given:
            versions[name] = {key: v.model_dump(mode="json", exclude_none=True) for key, v in given.items()}
    if body.first_comment is not None:
        versions["first_comment"] = body.first_comment
    if body.thread is not None:
        versions["thread"] = [item.model_dump(mode="json", exclude_none=True) for item in body.thread]
    return versions or None


def _layers(body: PostCreate, account: dict[str, Any]) -> list[tuple[str, Version]]:
    """The versions that apply to one account, weakest first (platform, then account), with where they came from."""
    layers = []
    if body.platforms and (by_platform := body.platforms.get(account["platform"])) is not None:
        layers.append((f"platforms.{account['platform']}", by_platform))
    if body.accounts and (by_account := body.accounts.get(account["id"])) is not None:
        layers.append((f"accounts.{account['id']}", by_account))
    return layers


def effective(body: PostCreate, account: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """What one account's target publishes ({caption, media, options, first_comment, thread}) and its option problems."""
    caption, media, first_comment, thread = body.caption, body.media, body.first_comment, body.thread
    raw_options: dict[str, Any] = {}
    where = "options"
    for prefix, version in _layers(body, account):
        caption = caption if version.caption is None else version.caption
        media = media if version.media is None else version.media
        first_comment = first_comment if version.first_comment is None else version.first_comment
        thread = thread if version.thread is None else version.thread
        if version.options is not None:
            raw_options |= version.options  # an account's option beats its platform's, one by one
            where = f"{prefix}.options"
    options, problems = check_options(account["platform"], raw_options, where)
    content = {"caption": caption, "media": [m.model_dump(mode="json", exclude_none=True) for m in media],
               "options": options, "first_comment": first_comment,
               "thread": [item.model_dump(mode="json", exclude_none=True) for item in thread or ()]}
    return content, problems


def version_keys_problems(body: PostCreate, found: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """A version for a platform or account the post does not target is refused: it would silently do nothing."""
    problems: list[dict[str, str]] = []
    targeted = {a["platform"] for a in found.values()}
    for name in body.platforms or {}:
        if name not in platforms.NAMES:
            problems.append({"field": f"platforms.{name}", "rule": "post.platforms.unknown",
                             "message": f"no platform {name!r} (known: {', '.join(platforms.NAMES)})"})
        elif name not in targeted:
            problems.append({"field": f"platforms.{name}", "rule": "post.platforms.untargeted",
                             "message": f"no account of this post is on {name}"})
    for account_id in body.accounts or {}:
        if account_id not in body.account_ids:
            problems.append({"field": f"accounts.{account_id}", "rule": "post.accounts.untargeted",
                             "message": f"{account_id} is not in account_ids"})
    return problems


def media_url_problems(body: PostCreate) -> list[dict[str, str]]:
    """The URL rules for every media item, the versions' too (no DNS here: the publish-time fetch checks that)."""
    lists: list[tuple[str, list[Media]]] = [("media", body.media)]
    lists += [(f"thread[{i}].media", item.media) for i, item in enumerate(body.thread or ())]
    for name in ("platforms", "accounts"):
        for key, version in (getattr(body, name) or {}).items():
            if version.media is not None:
                lists.append((f"{name}.{key}.media", version.media))
            lists += [(f"{name}.{key}.thread[{i}].media", item.media) for i, item in enumerate(version.thread or ())]
    problems = []
    for prefix, items in lists:
        for index, item in enumerate(items):
            try:
                netguard.check_url(item.url, url_policy(), resolve=False)
            except UnsafeURLError as exc:
                problems.append({"field": f"{prefix}.{index}.url", "rule": "post.media.url_not_allowed",
                                 "message": str(exc)})
    return problems


def target_problems(account: dict[str, Any], content: dict[str, Any]) -> list[dict[str, str]]:
    """The platform's rules on one target's effective content."""
    media = [platforms.Media(type=m.get("type", "image"), url=m["url"], alt=m.get("alt") or "")
             for m in content["media"]]
    adapter = platforms.adapter_class(account["platform"])()
    found = adapter.validate(content["caption"], media) + adapter.validate_options(content["options"], media)
    problems = [p.as_detail() for p in found]
    if not content["caption"].strip() and not media:  # without versions the post-wide rule said so already
        problems.insert(0, {"field": "caption", "platform": account["platform"], "rule": "post.content.required",
                            "message": f"the {account['platform']} version needs a caption or at least one media item"})
    return problems


def thread_problems(account: dict[str, Any], content: dict[str, Any]) -> list[dict[str, str]]:
    """A thread asked of a platform without threads, or with a first comment; else the platform's rules per item."""
    name, items = account["platform"], content.get("thread") or []
    if not items:
        return []
    cls = platforms.adapter_class(name)
    if not cls.has_thread:
        return [{"field": "thread", "platform": name, "rule": f"{name}.thread.unsupported",
                 "message": f"{cls.label or name} has no threads (X, Bluesky, Threads and Mastodon have)"}]
    problems: list[dict[str, str]] = []
    if content.get("first_comment"):
        # on these platforms a first comment is a self-reply too: two replies under one post is never meant
        problems.append({"field": "first_comment", "platform": name, "rule": "post.thread.first_comment_conflict",
                         "message": "a post with a thread takes no first comment; make it the thread's last item"})
    adapter = cls()
    for index, item in enumerate(items):
        where = f"thread[{index}]"
        media = [platforms.Media(type=m.get("type", "image"), url=m["url"], alt=m.get("alt") or "")
                 for m in item.get("media") or ()]
        if not item.get("caption", "").strip() and not media:
            problems.append({"field": where, "platform": name, "rule": "post.thread.item_empty",
                             "message": f"thread item {index + 1} ({where}) needs a caption or at least one media item"})
            continue
        for found in adapter.validate(item.get("caption", ""), media) + adapter.validate_options(content["options"], media):
            problems.append(found.as_detail() | {"field": f"{where}.{found.field}"})
    return problems
