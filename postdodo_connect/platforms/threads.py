"""Threads through graph.threads.net: container, publish, permalink read; connect with a long-lived token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import regex

from .base import Account, Published, PublishRequest
from .grants import refused, token_fields
from .graph import ContainerPlatform
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec, Refreshed
from .reconcile import seed_digits, seed_int, shortcode
from .text import utf8_bytes

_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3")


class Threads(ContainerPlatform):
    """Threads: text, image, video or carousel posts of up to 500 characters."""

    name: ClassVar[str] = "threads"
    label: ClassVar[str] = "Threads"
    max_caption: ClassVar[int] = 500
    max_alt: ClassVar[int] = 1000  # alt text, per media item
    max_media: ClassVar[int] = 20  # carousels take 2-20 items per the Threads posts reference
    has_lookup: ClassVar[bool] = True
    can_delete: ClassVar[bool] = True  # needs the threads_delete permission
    has_first_comment: ClassVar[bool] = True
    comment_is_post: ClassVar[bool] = True
    has_thread: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "user_id")

    graph_url: ClassVar[str] = "https://graph.threads.net/v1.0"
    create_edge: ClassVar[str] = "threads"
    publish_edge: ClassVar[str] = "threads_publish"
    status_field: ClassVar[str] = "status"
    detail_field: ClassVar[str] = "error_message"
    caption_param: ClassVar[str] = "text"
    # no PKCE in the Threads docs; the client secret travels in the form body
    oauth = OAuthSpec(authorize_url="https://threads.net/oauth/authorize",
                      token_url="https://graph.threads.net/oauth/access_token",
                      scopes=("threads_basic", "threads_content_publish"), pkce=False, scope_separator=",",
                      client_auth="body")
    long_lived_url: ClassVar[str] = "https://graph.threads.net/access_token"
    video_alt: ClassVar[bool] = True

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """A self-reply: a TEXT container with `reply_to_id`, then threads_publish."""
        token, user_id = self.ids(account.credentials)
        container_id = self.container(token, user_id, {"media_type": "TEXT", "text": text, "reply_to_id": platform_post_id})
        reply_id = self.publish_container(token, user_id, container_id)
        return Published(platform_post_id=reply_id, permalink="")

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /{threads-media-id}."""
        token, _ = self.ids(account.credentials)
        self.graph_delete(token, platform_post_id)

    def lookup_edge(self, request: PublishRequest) -> tuple[str, str]:
        """A thread item is among the account's replies (the threads edge lists top-level posts only), with the
        post it answers."""
        if request.reply_to is None:
            return super().lookup_edge(request)
        return "replies", f"id,permalink,{self.caption_param},timestamp,replied_to"

    def post_params(self, request: PublishRequest, *, single: bool) -> dict[str, Any]:
        """Options as container parameters: the topic tag and who may reply; a thread item only its `reply_to_id`."""
        if request.reply_to is not None:  # the options belong to the first post: its replies follow its settings
            return {"reply_to_id": request.reply_to.parent.platform_post_id}
        return {name: request.options[name] for name in ("topic_tag", "reply_control") if request.options.get(name)}

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

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """The code buys a one-hour token; that one is traded at once for a 60-day token."""
        short = super().exchange_code(app, code, code_verifier)
        params = {"grant_type": "th_exchange_token", "client_secret": app.client_secret, "access_token": short.access_token}
        long = self.json(self.call("GET", self.long_lived_url, params=params))
        if not long.get("access_token"):
            raise refused(self.label, "no_access_token", "Threads answered the long-lived exchange without a token")
        # the long-lived answer does not repeat who granted it; Threads reports no scopes at all
        return self.grant_from({**long, "user_id": short.raw.get("user_id")})

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """One account: the Threads profile that granted access."""
        me = self.graph(grant.access_token, "GET", "me", {"fields": "id,username,name"})
        user_id = str(me.get("id") or grant.raw.get("user_id") or "")
        if not user_id:
            raise refused(self.label, "no_user", "Threads did not say which profile granted access")
        handle = str(me.get("username") or user_id)
        return [ConnectOption(id=user_id, handle=handle, display_name=str(me.get("name") or handle),
                              external_user_id=user_id, kind="user", expires_at=grant.expires_at,
                              credentials={"access_token": grant.access_token, "user_id": user_id, **token_fields(grant)})]
    # -- token lifecycle: long-lived tokens (60 days) renew themselves with th_refresh_token ----------

    refresh_ahead: ClassVar[float] = 7 * 86400.0

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """A long-lived token (one with a stated expiry) can be refreshed while it is still valid."""
        return bool(credentials.get("access_token") and self.token_expires_at(credentials))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """GET /refresh_access_token?grant_type=th_refresh_token (the token must be a day old and unexpired)."""
        return self.refresh_long_lived(f"{REFRESH_HOST}/refresh_access_token", "th_refresh_token", credentials)


REFRESH_HOST = "https://graph.threads.net"
