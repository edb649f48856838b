"""The composer's form as typed (a Draft): read from a request or a stored post, turned into the API's request model,
and the API's refusals placed back beside the fields they concern.

No rule lives here: every check is the API's preflight (`api.posts.validation`, `create_post`, `update_post`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from flask import request

from .. import platforms
from ..errors import APIError, InvalidRequestError
from ..models import PostCreate
from . import options_form, thread_form
from .forms import MediaRow, parse
from .localtime import local, parse_local, utc_iso, zone_named

MEDIA_ROWS = 4  # media URL rows on a new form; an edited post with more gets a row per item
MAX_MEDIA_ROWS = 20  # the API's own cap on media items
# the form's names for the API's fields, to say which one a message is about
FIELD_NAMES = {"caption": "Caption", "account_ids": "Accounts", "media": "Media", "scheduled_at": "When",
               "first_comment": "First comment", "thread": "Thread"}
SLOTS = {"caption": "caption", "account_ids": "accounts", "media": "media", "scheduled_at": "when",
         "first_comment": "first_comment", "thread": "thread"}


def _rows(count: int = MEDIA_ROWS) -> list[MediaRow]:
    return [MediaRow() for _ in range(count)]


def new_key() -> str:
    """A fresh idempotency key for one form render."""
    return secrets.token_urlsafe(18)


@dataclass
class Draft:
    """The composer form as typed (re-shown as is when the post is refused)."""

    caption: str = ""
    account_ids: list[str] = field(default_factory=list)
    media: list[MediaRow] = field(default_factory=_rows)
    when: str = "now"
    scheduled_local: str = ""
    timezone: str = ""
    #: per-platform caption overrides as typed (empty: the platform publishes the main caption)
    versions: dict[str, str] = field(default_factory=dict)
    #: per-platform options as chosen (defaults left out)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_comment: str = ""
    #: the thread's item boxes as typed (empty ones are not sent)
    thread: list[thread_form.ThreadBox] = field(default_factory=thread_form.empty_boxes)
    #: this form render's idempotency key: a double submit of it creates (or edits) once
    key: str = field(default_factory=new_key)

    def used_rows(self) -> list[int]:
        """The media rows that hold a URL, in order (media[i] of the post is row used_rows()[i])."""
        return [i for i, row in enumerate(self.media) if row.url]


def _text(value: str) -> str:
    return value.replace("\r\n", "\n")  # browsers send CRLF line ends; the counters count what the person typed


def read_form(platform_names: list[str]) -> Draft:
    """The submitted form; `platform_names` are the platforms whose versions and options the form offered."""
    form = request.form
    urls, kinds, alts = form.getlist("media_url"), form.getlist("media_type"), form.getlist("media_alt")
    count = min(max(len(urls), MEDIA_ROWS), MAX_MEDIA_ROWS)
    media = [MediaRow((urls[i] if i < len(urls) else "").strip(), kinds[i] if i < len(kinds) else "image",
                      _text(alts[i] if i < len(alts) else "").strip()) for i in range(count)]
    versions = {name: _text(form.get(f"version_caption.{name}", "")) for name in platform_names}
    return Draft(caption=_text(form.get("caption", "")), account_ids=form.getlist("account_ids"), media=media,
                 when=form.get("when", "now"), scheduled_local=form.get("scheduled_local", "").strip(),
                 timezone=form.get("timezone", ""), versions={k: v for k, v in versions.items() if v.strip()},
                 options={name: options_form.read(name, form) for name in platform_names},
                 first_comment=_text(form.get("first_comment", "")).strip(), thread=thread_form.read(form),
                 key=form.get("idempotency_key", ""))


def from_post(post: dict[str, Any], tz: tzinfo, timezone: str) -> Draft:
    """A stored post as the form that would have made it (the edit page), its time in the browser's zone."""
    stored = (post.get("versions") or {}).get("platforms") or {}
    media = [MediaRow.stored(m) for m in post["media"]]
    media += _rows(max(MEDIA_ROWS - len(media), 0))
    scheduled = post["scheduled_at"]
    when_local = ""
    if scheduled is not None:
        at = local(scheduled, tz)
        when_local = at.strftime("%Y-%m-%dT%H:%M:%S" if at.second else "%Y-%m-%dT%H:%M")
    return Draft(caption=post["caption"], account_ids=[t["account_id"] for t in post["targets"]], media=media,
                 when="later" if scheduled is not None else "now", scheduled_local=when_local, timezone=timezone,
                 versions={name: v["caption"] for name, v in stored.items() if v.get("caption")},
                 options={name: dict(v.get("options") or {}) for name, v in stored.items()},
                 first_comment=(post.get("versions") or {}).get("first_comment") or "",
                 thread=thread_form.from_stored((post.get("versions") or {}).get("thread")))


def picked_platforms(draft: Draft, accounts: list[dict[str, Any]]) -> list[str]:
    """The platforms of the accounts the draft posts to, sorted."""
    return sorted({a["platform"] for a in accounts if a["id"] in draft.account_ids})


def to_body(draft: Draft, accounts: list[dict[str, Any]]) -> PostCreate:
    """The draft as the API's request model; InvalidRequestError with one detail per problem.

    Versions and options are sent only for platforms of picked accounts: the form shows them for every
    platform of the workspace (without JavaScript nothing hides the others), and the others would do nothing.
    """
    data: dict[str, Any] = {"caption": draft.caption, "account_ids": draft.account_ids, "media": [
        {"url": row.url, "type": row.kind, **({"alt": row.alt} if row.alt else {})}
        for row in (draft.media[i] for i in draft.used_rows())]}
    versions: dict[str, Any] = {}
    for name in picked_platforms(draft, accounts):
        version: dict[str, Any] = {}
        if draft.versions.get(name):
            version["caption"] = draft.versions[name]
        if draft.options.get(name):
            version["options"] = draft.options[name]
        if version:
            versions[name] = version
    if versions:
        data["platforms"] = versions
    if draft.first_comment:
        data["first_comment"] = draft.first_comment
    if thread := thread_form.to_items(draft.thread):
        data["thread"] = thread
    if draft.when == "later":
        data["scheduled_at"] = scheduled_at(draft)
        if data["scheduled_at"] is None:
            message = "pick a date and time to schedule it, or choose to publish now"
            raise InvalidRequestError(message, param="scheduled_at", details=[
                {"field": "scheduled_at", "rule": "dashboard.schedule.missing", "message": message}])
    return parse(PostCreate, data)


def scheduled_at(draft: Draft) -> str | None:
    """The draft's schedule in UTC (ISO), None when it names no valid local time."""
    try:
        return utc_iso(parse_local(draft.scheduled_local, zone_named(draft.timezone)))
    except ValueError:
        return None


def _row(rest: str, draft: Draft) -> int | None:
    """The form row of `media[0]...` / `media.0...` (the post's n-th item is the n-th row that holds a URL)."""
    found = re.match(r"^[.\[]?(\d+)", rest)
    rows = draft.used_rows()
    if found and int(found.group(1)) < len(rows):
        return rows[int(found.group(1))]
    return None


def slot(detail: dict[str, str], draft: Draft) -> str:
    """Which part of the form a detail is about: "caption", "media-1", "alt-1", "version-x", "when"..."""
    name, platform = detail.get("field") or "", detail.get("platform") or ""
    head = re.split(r"[.\[]", name, maxsplit=1)[0]
    if head == "media" and name != "media":
        row = _row(name[len("media"):], draft)
        if row is not None:
            return f"alt-{row}" if name.endswith("alt") else f"media-{row}"
    if head == "thread":
        return thread_form.slot(name, draft.thread)
    if head == "platforms":
        return f"version-{name.split('.')[1]}" if name.count(".") >= 1 else "form"
    if head == "caption" and platform and draft.versions.get(platform):
        return f"version-{platform}"  # the platform publishes its own caption: the problem is in that one
    return SLOTS.get(head, "form")


def problems(details: list[dict[str, str]], draft: Draft) -> list[dict[str, str]]:
    """API `details` as messages for the form: where each goes, and a label for the platform it concerns."""
    shown = []
    for detail in details:
        platform = detail.get("platform") or ""
        label = (platforms.adapter_class(platform).label or platform.title()) if platform in platforms.REGISTRY else ""
        message, head = detail["message"], re.split(r"[.\[]", detail.get("field") or "", maxsplit=1)[0]
        # a platform's message names the platform; the API's own ("needs at least 1 item") needs its field named
        if not platform and head in FIELD_NAMES and head != "media":
            message = f"{FIELD_NAMES[head]}: {message}"
        shown.append({"slot": slot(detail, draft), "platform": platform, "label": label,
                      "rule": detail.get("rule", ""), "message": message})
    return shown


def refusal(error: APIError | dict[str, Any], draft: Draft) -> list[dict[str, str]]:
    """An APIError (or its JSON body) as form messages."""
    body = error.to_body()["error"] if isinstance(error, APIError) else error
    details = body.get("details") or [{"field": body.get("param") or "", "message": body["message"]}]
    return problems(details, draft)


def counters(accounts: list[dict[str, Any]], draft: Draft) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Caption length against each picked platform's limit, in its own unit: the main caption's platforms, and
    the platforms that publish their own version."""
    media = [platforms.Media(type=draft.media[i].kind, url=draft.media[i].url) for i in draft.used_rows()]
    main: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    for name in picked_platforms(draft, accounts):
        if name not in platforms.REGISTRY:
            continue
        adapter = platforms.get(name)
        caption = draft.versions.get(name) or draft.caption
        limit, length = adapter.caption_limit(media), adapter.caption_length(caption)
        counter = {"platform": name, "label": adapter.label or name.title(), "length": length, "limit": limit,
                   "unit": adapter.caption_unit or "characters", "over": bool(limit and length > limit)}
        (own if draft.versions.get(name) else main).append(counter)
    return main, own
