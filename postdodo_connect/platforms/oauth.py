"""What connecting an account asks of a platform: its OAuth 2 endpoints and scopes, the code exchange, the picker.

The connect sessions (`postdodo_connect.connect`) run the flow; each platform module only states its own
facts (social-core style): `oauth = OAuthSpec(...)`, and overrides `exchange_code` / `connect_options` where
its answers differ from plain RFC 6749. Platforms connected with credentials instead of OAuth (Bluesky app
passwords, a Telegram bot token) list the fields of their hosted form in `connect_form` and override
`connect_with_form`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from ..errors import PlatformAuthError
from .plumbing import Plumbing


@dataclass(frozen=True)
class OAuthSpec:
    """A platform's OAuth 2 authorization-code endpoints and the scopes posting needs."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    #: PKCE S256 (RFC 7636) wherever the platform supports it
    pkce: bool = True
    scope_separator: str = " "
    #: how the client authenticates at the token endpoint: HTTP Basic, or id and secret in the form body
    client_auth: str = "basic"  # "basic" | "body"
    #: the authorize URL's name for the client id (TikTok says `client_key`)
    client_id_param: str = "client_id"
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientApp:
    """Our registered app on the platform, and where it sends the browser back."""

    client_id: str
    client_secret: str
    redirect_uri: str
    #: the session's `options` (e.g. Mastodon's `instance_url`)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """What the token endpoint answered: never logged, sealed before it is stored."""

    # repr=False: a Grant in a log line or a traceback must not show its tokens
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds
    scopes: tuple[str, ...] = ()  # as granted, which may be fewer than asked
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ConnectOption:
    """One publishable target a grant reaches (the member, a Page, a board, a channel): an account to be."""

    id: str  # the platform's id of the target
    handle: str
    display_name: str
    #: the platform user who granted access: a reconnect must come from the same one
    external_user_id: str
    #: what `publish` needs for this target (sealed at rest; never in a repr)
    credentials: Mapping[str, Any] = field(repr=False)
    kind: str = "user"  # user | page | instagram_business | organization | board | channel | webhook
    expires_at: float | None = None
    #: the account's platform when it is not the session's (an Instagram account reached through Facebook Login)
    platform: str = ""
    #: account settings the new account starts with (TikTok's `privacy_level`)
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FormField:
    """One field of a hosted credential form."""

    name: str
    label: str
    secret: bool = False
    help: str = ""


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Connectable(Plumbing):
    """The connect half of `Platform`: defaults follow RFC 6749; platforms override what differs."""

    oauth: ClassVar[OAuthSpec | None] = None
    #: the hosted form's fields, for platforms connected with credentials instead of OAuth
    connect_form: ClassVar[tuple[FormField, ...]] = ()

    def authorization_url(self, app: ClientApp, state: str, code_challenge: str | None) -> str:
        """Where the browser goes to consent."""
        spec = self._spec()
        params = {"response_type": "code", spec.client_id_param: app.client_id, "redirect_uri": app.redirect_uri,
                  "scope": spec.scope_separator.join(spec.scopes), "state": state, **spec.extra_authorize_params}
        if spec.pkce and code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{spec.authorize_url}?{urlencode(params)}"

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """Trade the authorization code for tokens at the token endpoint."""
        spec = self._spec()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        if spec.pkce and code_verifier:
            form["code_verifier"] = code_verifier
        auth: tuple[str, str] | None = (app.client_id, app.client_secret)
        if spec.client_auth == "body":
            form |= {"client_id": app.client_id, "client_secret": app.client_secret}
            auth = None
        body = self.call("POST", spec.token_url, data=form, auth=auth, headers={"Accept": "application/json"}).json()
        return self.grant_from(body)

    def grant_from(self, body: Mapping[str, Any]) -> Grant:
        """A Grant from a standard token answer (RFC 6749 §5.1)."""
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PlatformAuthError(f"{self.label or self.name} answered no access token", code="connect_failed")
        expires_in = body.get("expires_in")
        scope = body.get("scope")
        # platforms answer the granted scopes space- or comma-separated
        scopes = tuple(s for s in re.split(r"[\s,]+", scope) if s) if isinstance(scope, str) else ()
        return Grant(access_token=token, refresh_token=body.get("refresh_token") or None,
                     expires_at=self.clock() + float(expires_in) if isinstance(expires_in, (int, float)) else None,
                     scopes=scopes, raw=dict(body))

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """Every target this grant can publish to (one: the account is created at once; several: a picker)."""
        raise NotImplementedError(f"{self.name} cannot be connected with OAuth yet")

    def connect_with_form(self, values: Mapping[str, str]) -> list[ConnectOption]:
        """Check a hosted form's credentials with the platform and say what they reach."""
        raise NotImplementedError(f"{self.name} has no hosted connect form")

    def _spec(self) -> OAuthSpec:
        if self.oauth is None:
            raise NotImplementedError(f"{self.name} is not connected with OAuth")
        return self.oauth
