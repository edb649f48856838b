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
    """What one account's target publishes ({caption, media, options, first_comment}) and its option problems."""
    caption, media, first_comment = body.caption, body.media, body.first_comment
    raw_options: dict[str, Any] = {}
    where = "options"
    for prefix, version in _layers(body, account):
        caption = caption if version.caption is None else version.caption
        media = media if version.media is None else version.media
        first_comment = first_comment if version.first_comment is None else version.first_comment
        if version.options is not None:
            raw_options |= version.options  # an account's option beats its platform's, one by one
            where = f"{prefix}.options"
    options, problems = check_options(account["platform"], raw_options, where)
    content = {"caption": caption, "media": [m.model_dump(mode="json", exclude_none=True) for m in media],
               "options": options, "first_comment": first_comment}
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
    for name in ("platforms", "accounts"):
        for key, version in (getattr(body, name) or {}).items():
            if version.media is not None:
                lists.append((f"{name}.{key}.media", version.media))
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
