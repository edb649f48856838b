"""The composer's Thread section: item boxes as typed, the API's `thread` they make, and where a refusal goes.

Form names carry the box's number (`thread.<i>.caption`, `thread.<i>.media_url`, ...) so an item's media stay
with it whatever the page's script adds or removes. Empty boxes are not items: the post's `thread[n]` is the
n-th box that holds a caption or a media URL. No rule lives here; each item is checked by the API's preflight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from .. import platforms
from ..models import MAX_THREAD
from .forms import MediaRow

BOXES = 3  # empty item boxes on a new form: enough to write a thread without JavaScript
MAX_BOXES = 2 * MAX_THREAD  # boxes read from a form; beyond the API's 25 items the API itself says too many
_NAME = re.compile(r"^thread\.(\d+)\.caption$")


@dataclass
class ThreadBox:
    """One thread item box as typed."""

    caption: str = ""
    media: list[MediaRow] = field(default_factory=lambda: [MediaRow()])

    def used(self) -> bool:
        """Whether the box is an item (a caption or a media URL); empty boxes are ignored."""
        return bool(self.caption.strip() or any(m.url for m in self.media))

    def used_media(self) -> list[MediaRow]:
        """The media rows that hold a URL."""
        return [m for m in self.media if m.url]


def empty_boxes(count: int = BOXES) -> list[ThreadBox]:
    """Empty item boxes for a new form."""
    return [ThreadBox() for _ in range(count)]


def read(form: MultiDict[str, str]) -> list[ThreadBox]:
    """The thread boxes of a submitted form, in their number's order (at least BOXES, empty ones kept)."""
    numbers = sorted({int(found.group(1)) for name in form if (found := _NAME.match(name))})[:MAX_BOXES]
    boxes = []
    for i in numbers:
        urls, kinds = form.getlist(f"thread.{i}.media_url"), form.getlist(f"thread.{i}.media_type")
        alts = form.getlist(f"thread.{i}.media_alt")
        media = [MediaRow(url.strip(), kinds[k] if k < len(kinds) else "image",
                             (alts[k] if k < len(alts) else "").replace("\r\n", "\n").strip())
                 for k, url in enumerate(urls[:20])] or [MediaRow()]
        boxes.append(ThreadBox(form.get(f"thread.{i}.caption", "").replace("\r\n", "\n"), media))
    return boxes + empty_boxes(max(BOXES - len(boxes), 0))


def from_stored(items: list[dict[str, Any]] | None) -> list[ThreadBox]:
    """A stored thread as boxes (the edit page), with empty boxes after it up to BOXES."""
    boxes = [ThreadBox(item.get("caption") or "", [MediaRow.stored(m) for m in item.get("media") or ()] or [MediaRow()])
             for item in items or ()]
    return boxes + empty_boxes(max(BOXES - len(boxes), 0) or 1)  # always a free box to write the next item in


def to_items(boxes: list[ThreadBox]) -> list[dict[str, Any]]:
    """The used boxes as the API's `thread` items, in order."""
    return [{"caption": box.caption, "media": [{"url": m.url, "type": m.kind, **({"alt": m.alt} if m.alt else {})}
                                               for m in box.used_media()]} for box in boxes if box.used()]


def slot(name: str, boxes: list[ThreadBox]) -> str:
    """The form slot of a problem with `thread...` in its field: the section, or an item's caption/media/alt."""
    found = re.match(r"^thread[.\[](\d+)\]?(.*)$", name)
    used = [i for i, box in enumerate(boxes) if box.used()]
    if not found or int(found.group(1)) >= len(used):
        return "thread"
    box, rest = used[int(found.group(1))], found.group(2)
    if rest.lstrip(".").startswith("media"):
        return f"thread-{box}-alt" if rest.endswith("alt") else f"thread-{box}-media"
    return f"thread-{box}"


def counters(boxes: list[ThreadBox], picked: list[str]) -> list[dict[str, Any]]:
    """Each used item's caption length against each picked platform that threads, in its own unit."""
    found = []
    threading = [platforms.get(name) for name in picked
                 if name in platforms.REGISTRY and platforms.adapter_class(name).has_thread]
    for i, box in enumerate(boxes):
        if not box.used():
            continue
        media = [platforms.Media(type=m.kind, url=m.url) for m in box.used_media()]
        for adapter in threading:
            limit, length = adapter.caption_limit(media), adapter.caption_length(box.caption)
            found.append({"item": i, "platform": adapter.name, "label": adapter.label or adapter.name.title(),
                          "length": length, "limit": limit, "unit": adapter.caption_unit or "characters",
                          "over": bool(limit and length > limit)})
    return found
