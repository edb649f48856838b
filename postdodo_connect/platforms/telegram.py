"""Telegram channels and groups through the Bot API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from .base import (
    Account,
    Media,
    Platform,
    PlatformAuthError,
    PlatformRejected,
    Problem,
    Profile,
    Published,
    PublishRequest,
    error_body,
)
from .oauth import ConnectOption, FormField
from .reconcile import seed_int


class Telegram(Platform):
    """Telegram: sendMessage, sendPhoto/sendVideo by URL, or sendMediaGroup for 2-10 items."""

    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram"
    max_caption: ClassVar[int] = 4096
    max_caption_with_media: ClassVar[int] = 1024
    max_media: ClassVar[int] = 10  # a media group holds 2-10 items
    can_delete: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("bot_token", "chat_id")
    api_url: ClassVar[str] = "https://api.telegram.org"

    def validate(self, caption: str, media: Sequence[Media]) -> list[Problem]:
        """The generic rules plus the shorter caption Telegram allows under media."""
        problems = super().validate(caption, media)
        length = self.caption_length(caption)
        if media and self.max_caption_with_media < length <= self.max_caption:
            problems.append(self.problem(
                "caption.max_length_with_media", "caption",
                f"caption is {length} long; Telegram allows {self.max_caption_with_media} under media",
            ))
        return problems

    def permalink(self, handle: str, post_id: str) -> str:
        """t.me/<username>/<id> for public chats, t.me/c/<id>/<id> (members only) for private ones."""
        chat = handle.lstrip("@")
        if chat.lstrip("-").isdigit():
            return f"https://t.me/c/{chat.removeprefix('-100').lstrip('-')}/{post_id}"
        return f"https://t.me/{chat}/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """A per-chat message id: a small integer."""
        return str(1 + seed_int(seed) % 50000)

    def retry_after(self, response: requests.Response) -> float | None:
        """Telegram puts its flood-wait in the body (`parameters.retry_after`), not in a header."""
        body = error_body(response)
        hint = (body.get("parameters") or {}).get("retry_after") if isinstance(body, dict) else None
        return float(hint) if isinstance(hint, (int, float)) else super().retry_after(response)

    def bot(self, token: str, method: str, payload: dict[str, Any], *, creates: bool = False) -> Any:
        """One Bot API method's `result`; 400s (too long, chat not found) and 403s (bot removed) are final."""
        return self.json(self.call("POST", f"{self.api_url}/bot{token}/{method}", json=payload, creates=creates), creates=creates).get("result")

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """getChat checks the token and that the bot can see the chat in one call."""
        chat = self.bot(self.credential(credentials, "bot_token"), "getChat", {"chat_id": self.credential(credentials, "chat_id")})
        return Profile(handle=str(chat.get("username") or chat["id"]), display_name=str(chat.get("title") or ""))

    connect_form = (
        FormField("bot_token", "Bot token", secret=True, help="From @BotFather, e.g. 123456789:AA..."),
        FormField("chat_id", "Chat", help="@channelname, or the numeric id of the channel or group (-100...); "
                                          "the bot must be an administrator allowed to post there"),
    )

    def connect_with_form(self, values: Mapping[str, str]) -> list[ConnectOption]:
        """getMe checks the token, getChat that the bot sees the chat: the account is that chat."""
        token, chat_id = values.get("bot_token", "").strip(), values.get("chat_id", "").strip()
        if not token or not chat_id:
            raise PlatformAuthError("both the bot token and the chat are required", code="invalid_credentials")
        me = self.bot(token, "getMe", {})
        chat = self.bot(token, "getChat", {"chat_id": chat_id})
        handle = f"@{chat['username']}" if chat.get("username") else str(chat["id"])
        return [ConnectOption(id=str(chat["id"]), handle=handle, display_name=str(chat.get("title") or handle),
                              external_user_id=str(me["id"]), kind="channel",
                              credentials={"bot_token": token, "chat_id": str(chat["id"])})]

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """One send call; Telegram downloads media URLs itself."""
        token, chat_id = self.credential(account.credentials, "bot_token"), self.credential(account.credentials, "chat_id")
        media = list(request.media)
        # only the flags set: an unchanged request body for posts without options
        flags = {name: True for name in ("disable_notification", "protect_content") if request.options.get(name)}
        self.calling(request)  # every branch below makes the one call that sends the message
        if len(media) > 1:
            items = [{"type": _kind(item), "media": item.url} for item in media]
            items[0]["caption"] = request.caption  # a group shows the first item's caption
            result = self.bot(token, "sendMediaGroup", {"chat_id": chat_id, "media": items, **flags}, creates=True)
            message = result[0]  # one message per item; the first stands for the post
        elif media:
            kind = _kind(media[0])
            method = "sendPhoto" if kind == "photo" else "sendVideo"
            message = self.bot(token, method, {"chat_id": chat_id, kind: media[0].url, "caption": request.caption, **flags},
                               creates=True)
        else:
            message = self.bot(token, "sendMessage", {"chat_id": chat_id, "text": request.caption, **flags}, creates=True)
        return Published(platform_post_id=str(message["message_id"]), permalink=_message_link(message))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """deleteMessage; a bot may delete its messages in groups for 48 h only, and Telegram refuses older ones."""
        token, chat_id = self.credential(account.credentials, "bot_token"), self.credential(account.credentials, "chat_id")
        try:
            self.bot(token, "deleteMessage", {"chat_id": chat_id, "message_id": int(platform_post_id)})
        except PlatformRejected as exc:
            if "message to delete not found" in exc.message:
                return  # already gone: what was asked
            raise


def _kind(item: Media) -> str:
    """The Bot API's name for a media item's type."""
    return "photo" if item.type == "image" else "video"


def _message_link(message: dict[str, Any]) -> str:
    """The message's t.me link; empty for private chats and basic groups, which have none."""
    chat, message_id = message.get("chat") or {}, message["message_id"]
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id.removeprefix('-100')}/{message_id}"
    return ""
