"""Threads through graph.threads.net: container, publish, permalink read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import regex

from .graph import ContainerPlatform
from .oauth import ClientApp, Refreshed
from .reconcile import seed_digits, seed_int, shortcode
from .text import utf8_bytes

_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3")


class Threads(ContainerPlatform):
    """Threads: text, image, video or carousel posts of up to 500 characters."""

    name: ClassVar[str] = "threads"
    label: ClassVar[str] = "Threads"
    max_caption: ClassVar[int] = 500
    max_media: ClassVar[int] = 20  # carousels take 2-20 items per the Threads posts reference
    has_lookup: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "user_id")

    graph_url: ClassVar[str] = "https://graph.threads.net/v1.0"
    create_edge: ClassVar[str] = "threads"
    publish_edge: ClassVar[str] = "threads_publish"
    status_field: ClassVar[str] = "status"
    detail_field: ClassVar[str] = "error_message"
    caption_param: ClassVar[str] = "text"

    def caption_length(self, caption: str) -> int:
        """Meta counts an emoji as its UTF-8 bytes; other characters count one per code point."""
        return sum(utf8_bytes(c) if _EMOJI.search(c) else len(c) for c in _CLUSTER.findall(caption))

    def permalink(self, handle: str, post_id: str) -> str:
        """A /@handle/post/<code> link; the code is derived from the media id (sandbox only)."""
        return f"https://www.threads.net/@{handle.lstrip('@')}/post/{shortcode(seed_int(post_id))}"

    def sample_post_id(self, seed: str) -> str:
        """A 17-digit Threads media id like 18073912352326148."""
        return "18" + seed_digits(seed, 15)

    def profile_url(self, handle: str) -> str:
        """The profile page, the permalink of last resort."""
        return f"https://www.threads.net/@{handle.lstrip('@')}"

    # -- token lifecycle: long-lived tokens (60 days) renew themselves with th_refresh_token ----------

    refresh_ahead: ClassVar[float] = 7 * 86400.0

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """A long-lived token (one with a stated expiry) can be refreshed while it is still valid."""
        return bool(credentials.get("access_token") and self.token_expires_at(credentials))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """GET /refresh_access_token?grant_type=th_refresh_token (the token must be a day old and unexpired)."""
        return self.refresh_long_lived(f"{REFRESH_HOST}/refresh_access_token", "th_refresh_token", credentials)


REFRESH_HOST = "https://graph.threads.net"
