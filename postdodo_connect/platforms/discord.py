"""Discord channels through an incoming webhook (the webhook URL is the credential), made by OAuth `webhook.incoming`."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import requests

from .base import Account, Platform, PlatformAuthError, PlatformError, Profile, Published, PublishRequest, error_body
from .grants import refused, require_scopes
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec
from .reconcile import seed_digits

# only Discord's own webhook endpoints: the URL comes from the user and must not point elsewhere
_WEBHOOK = re.compile(r"https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d+/[\w-]+")
API = "https://discord.com/api/v10"
UNKNOWN_MESSAGE = 10008  # JSON error code of a message that does not exist (any more)


class Discord(Platform):
    """Discord: the caption as `content`, images as embeds, always with wait=true to get the message."""

    name: ClassVar[str] = "discord"
    label: ClassVar[str] = "Discord"
    max_caption: ClassVar[int] = 2000
    max_media: ClassVar[int] = 10  # one image embed each, ten embeds per message
    can_delete: ClassVar[bool] = True
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image"})  # embeds show images, not videos
    credential_fields: ClassVar[tuple[str, ...]] = ("webhook_url",)
    # webhook.incoming: the consent screen asks for server and channel and the token answer carries the
    # new webhook; identify names the user (a reconnect must come from the same one). No PKCE documented.
    oauth = OAuthSpec(authorize_url="https://discord.com/oauth2/authorize", token_url="https://discord.com/api/oauth2/token",
                      scopes=("identify", "webhook.incoming"), pkce=False)

    def permalink(self, handle: str, post_id: str) -> str:
        """A /channels/<guild>/<channel>/<message> link (guild and channel derived from the handle)."""
        return f"https://discord.com/channels/{seed_digits('guild:' + handle, 18)}/{seed_digits('channel:' + handle, 18)}/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """A 19-digit snowflake like 1276530019999990000."""
        return "12" + seed_digits(seed, 17)

    def webhook_url(self, credentials: dict[str, Any]) -> str:
        """The webhook URL, refused unless it is a Discord webhook endpoint."""
        url = self.credential(credentials, "webhook_url").split("?")[0].rstrip("/")
        if not _WEBHOOK.fullmatch(url):
            raise PlatformAuthError("webhook_url is not a Discord webhook URL", code="auth_expired")
        return url

    def retry_after(self, response: requests.Response) -> float | None:
        """The body's float `retry_after` is more precise than the rounded Retry-After header."""
        body = error_body(response)
        hint = body.get("retry_after") if isinstance(body, dict) else None
        return float(hint) if isinstance(hint, (int, float)) else super().retry_after(response)

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """A deleted webhook (404 Unknown Webhook) means the account is gone, like a bad token."""
        if response.status_code == 404:
            return PlatformAuthError(f"Discord: {self.error_message(response)}", code="auth_expired", platform_error=error_body(response))
        return super().classify(response, creates=creates)

    def hook(self, method: str, url: str, *, creates: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One request to the webhook, its JSON answer."""
        return self.json(self.call(method, url, creates=creates, **kwargs), creates=creates)

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """GET on the webhook (no auth beyond its token) names it."""
        hook = self.hook("GET", self.webhook_url(credentials))
        return Profile(handle=str(hook.get("name") or hook.get("id")), display_name=str(hook.get("name") or ""))

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Read the webhook for its guild (safe to retry), then execute it once."""
        url = self.webhook_url(account.credentials)
        guild_id = self.hook("GET", url).get("guild_id")  # messages carry the channel but not the guild
        payload: dict[str, Any] = {"content": request.caption, "allowed_mentions": {"parse": []}}  # never ping @everyone
        if request.media:
            payload["embeds"] = [{"image": {"url": item.url}} for item in request.media]
        if request.options.get("username"):
            payload["username"] = request.options["username"]
        self.calling(request)
        message = self.hook("POST", url, params={"wait": "true"}, json=payload, creates=True)
        link = f"https://discord.com/channels/{guild_id or '@me'}/{message['channel_id']}/{message['id']}"
        return Published(platform_post_id=str(message["id"]), permalink=link)

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /webhooks/{id}/{token}/messages/{message.id}; Unknown Message (10008) means already gone."""
        url = self.webhook_url(account.credentials)
        response = self.http("DELETE", f"{url}/messages/{platform_post_id}")
        body = error_body(response)
        if response.status_code == 404 and isinstance(body, dict) and body.get("code") == UNKNOWN_MESSAGE:
            return
        if response.status_code >= 300:
            raise self.classify(response)

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """One account: the webhook the consent made; its URL never expires, so the OAuth tokens are not kept."""
        require_scopes(self.label, grant, ("identify", "webhook.incoming"))
        hook = grant.raw.get("webhook")
        if not isinstance(hook, dict) or not hook.get("url"):
            raise refused(self.label, "no_webhook", "Discord answered without the webhook it created")
        url = self.webhook_url({"webhook_url": hook["url"]})
        me = self.json(self.call("GET", f"{API}/users/@me", headers={"Authorization": f"Bearer {grant.access_token}"}))
        name = str(hook.get("name") or hook.get("id") or "")
        return [ConnectOption(id=str(hook.get("id") or url.rsplit("/", 2)[-2]), handle=name, display_name=name,
                              external_user_id=str(me["id"]), kind="webhook", credentials={"webhook_url": url})]
