"""Slack channels through a bot token and chat.postMessage; OAuth v2 whose consent screen picks the channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import regex

from ..errors import PlatformError
from .base import (
    Account,
    OutcomeUnknown,
    Platform,
    PlatformAuthError,
    PlatformRejected,
    PlatformUnavailable,
    Profile,
    Published,
    PublishRequest,
)
from .grants import refused, require_scopes, token_fields
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec
from .reconcile import CLOCK_SKEW, LOOKUP_WINDOW, seed_digits, seed_int

_CLUSTER = regex.compile(r"\X")
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
# Slack's docs say these "may have partially succeeded": on chat.postMessage the message may exist
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout"})
RETRYABLE_ERRORS = frozenset({"service_unavailable"})


def escape(text: str) -> str:
    """Slack's required escaping of &, < and >, which also keeps captions from pinging <!channel>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sections(text: str, limit: int) -> list[str]:
    """Escaped text cut into pieces of at most `limit` characters, never inside a cluster or entity."""
    pieces, current = [], ""
    for cluster in _CLUSTER.findall(text):
        part = escape(cluster)
        if current and len(current) + len(part) > limit:
            pieces.append(current)
            current = ""
        current += part
    return [*pieces, current] if current else pieces


class Slack(Platform):
    """Slack: top-level `text` for plain posts; with images, section blocks of the text plus image blocks."""

    name: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack"
    # `text` is displayed in full up to 40,000 characters; with images the caption goes into section
    # blocks (3,000 each) and is split across as many as needed, so 40,000 holds in both cases
    max_caption: ClassVar[int] = 40000
    section_max: ClassVar[int] = 3000
    max_media: ClassVar[int] = 10  # 14 sections + 10 images stay under the 50-block cap
    can_delete: ClassVar[bool] = True
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image"})  # image blocks only
    has_lookup: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("bot_token", "channel")
    api_url: ClassVar[str] = "https://slack.com/api"
    # incoming-webhook makes the consent screen ask for the channel; chat:write.public posts there without
    # joining; channels:history is for `lookup`. PKCE would turn the app into a public client: left off.
    oauth = OAuthSpec(authorize_url="https://slack.com/oauth/v2/authorize", token_url="https://slack.com/api/oauth.v2.access",
                      scopes=("chat:write", "chat:write.public", "channels:history", "incoming-webhook"),
                      pkce=False, scope_separator=",")

    caption_unit = "characters once escaped"

    def caption_length(self, caption: str) -> int:
        """Characters as Slack receives them, after escaping."""
        return len(escape(caption))

    def permalink(self, handle: str, post_id: str) -> str:
        """https://<workspace>.slack.com/archives/<channel>/p<ts without dot> (channel derived from the handle)."""
        return archive_link(handle, "C0" + seed_digits(handle, 9), post_id)

    def sample_post_id(self, seed: str) -> str:
        """A message `ts` like 1503435956.000247."""
        number = seed_int(seed)
        return f"{1700000000 + number % 100000000}.{number % 1000000:06d}"

    def api(self, token: str, method: str, *, creates: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One Web API method; Slack answers HTTP 200 with `ok: false` for everything but throttling."""
        http_method = "POST" if "json" in kwargs else "GET"
        headers = {"Authorization": f"Bearer {token}"}
        body = self.json(self.call(http_method, f"{self.api_url}/{method}", creates=creates, headers=headers, **kwargs), creates=creates)
        if body.get("ok") is True:
            return body
        error = str(body.get("error") or "unknown_error")
        message = f"Slack {method}: {error}"
        if error in AUTH_ERRORS:
            raise PlatformAuthError(message, code="auth_expired", platform_error=body)
        if error in AMBIGUOUS_ERRORS and creates:
            raise OutcomeUnknown(message, code="outcome_unknown", platform_error=body)
        if error in AMBIGUOUS_ERRORS | RETRYABLE_ERRORS:
            raise PlatformUnavailable(message, code="platform_unavailable", platform_error=body)
        raise PlatformRejected(message, code="rejected", platform_error=body)

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """auth.test names the workspace; its subdomain is the handle."""
        me = self.api(self.credential(credentials, "bot_token"), "auth.test", json={})
        url = str(me.get("url") or "")
        workspace = url.removeprefix("https://").split(".slack.com")[0] if ".slack.com" in url else str(me.get("team_id") or "")
        return Profile(handle=workspace, display_name=str(me.get("team") or ""))

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """chat.postMessage, then chat.getPermalink (falling back to the archive URL recipe)."""
        token, channel = self.credential(account.credentials, "bot_token"), self.credential(account.credentials, "channel")
        payload: dict[str, Any] = {"channel": channel, "text": escape(request.caption), "unfurl_links": True}
        if request.media:
            # with blocks, `text` is only the notification fallback, so the caption is shown as sections
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in sections(request.caption, self.section_max)]
            blocks += [{"type": "image", "image_url": item.url, "alt_text": item.alt or "image"} for item in request.media]
            payload["blocks"] = blocks
        if request.options.get("username"):  # honoured for apps with chat:write.customize
            payload["username"] = request.options["username"]
        self.calling(request)
        sent = self.api(token, "chat.postMessage", json=payload, creates=True)
        return self.confirmed(token, account.handle, str(sent["channel"]), str(sent["ts"]))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """chat.delete of the message `ts` in the account's channel; `message_not_found` means already gone."""
        token, channel = self.credential(account.credentials, "bot_token"), self.credential(account.credentials, "channel")
        try:
            self.api(token, "chat.delete", json={"channel": channel, "ts": platform_post_id})
        except PlatformRejected as exc:
            if isinstance(exc.platform_error, dict) and exc.platform_error.get("error") == "message_not_found":
                return
            raise

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The channel's recent bot message with this text (needs the channels:history scope)."""
        token, channel = self.credential(account.credentials, "bot_token"), self.credential(account.credentials, "channel")
        # from just before the recorded call start (else the last day) on
        oldest = request.call_started - CLOCK_SKEW if request.call_started is not None else self.clock() - LOOKUP_WINDOW
        params = {"channel": channel, "oldest": f"{oldest:.6f}", "limit": 20}
        history = self.api(token, "conversations.history", params=params)
        wanted = escape(request.caption)
        for message in history.get("messages") or []:
            if message.get("bot_id") and message.get("text") == wanted and self.matches_time(request, message.get("ts")):
                return self.confirmed(token, account.handle, channel, str(message["ts"]))
        return None

    def confirmed(self, token: str, workspace: str, channel: str, ts: str) -> Published:
        """The message's permalink; the message exists, so a failed read falls back to the recipe."""
        try:
            link = str(self.api(token, "chat.getPermalink", params={"channel": channel, "message_ts": ts}).get("permalink") or "")
        except PlatformError:
            link = ""
        return Published(platform_post_id=ts, permalink=link or archive_link(workspace, channel, ts))


    # -- connect ---------------------------------------------------------------------------------

    def grant_from(self, body: Mapping[str, Any]) -> Grant:
        """oauth.v2.access answers HTTP 200 with `ok: false` when it refuses the code."""
        if body.get("ok") is not True:
            raise refused(self.label, str(body.get("error") or "unknown_error"))
        return super().grant_from(body)

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """One account: the channel picked on the consent screen, posted to with the bot token."""
        require_scopes(self.label, grant, ("chat:write", "incoming-webhook"))
        hook = grant.raw.get("incoming_webhook")
        if not isinstance(hook, dict) or not hook.get("channel_id"):
            raise refused(self.label, "no_channel", "Slack answered without the channel picked for the app")
        team = grant.raw.get("team") or {}
        # the workspace's subdomain is the handle (as verify_credentials says), only auth.test tells it
        profile = self.verify_credentials({"bot_token": grant.access_token})
        channel = str(hook.get("channel") or hook["channel_id"])
        return [ConnectOption(
            id=str(hook["channel_id"]), handle=profile.handle, display_name=f"{channel} ({team.get('name') or profile.display_name})",
            external_user_id=str((grant.raw.get("authed_user") or {}).get("id") or ""), kind="channel",
            expires_at=grant.expires_at,
            credentials={"bot_token": grant.access_token, "channel": str(hook["channel_id"]), **token_fields(grant)})]


def archive_link(workspace: str, channel: str, ts: str) -> str:
    """Slack's offline permalink recipe."""
    return f"https://{workspace}.slack.com/archives/{channel}/p{ts.replace('.', '')}"

