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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

import requests

from ..errors import OutcomeUnknown, PlatformAuthError, PlatformUnavailable
from .plumbing import Plumbing, error_body

if TYPE_CHECKING:
    from .base import Account


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

    def missing_scopes(self, grant: Grant) -> list[str]:
        """Scopes posting needs that the grant lacks (none known when the platform does not list what it granted)."""
        needed = self.oauth.scopes if self.oauth else ()
        return [scope for scope in needed if grant.scopes and scope not in grant.scopes]

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """Every target this grant can publish to (one: the account is created at once; several: a picker)."""
        raise NotImplementedError(f"{self.name} cannot be connected with OAuth yet")

    def connect_with_form(self, values: Mapping[str, str]) -> list[ConnectOption]:
        """Check a hosted form's credentials with the platform and say what they reach."""
        raise NotImplementedError(f"{self.name} has no hosted connect form")

    def client_issuer(self, options: Mapping[str, Any]) -> str | None:
        """Where our client is registered on the fly (a Mastodon instance, from `options`); None: a fixed app."""
        return None

    def register_client(self, issuer: str, redirect_uri: str) -> tuple[str, str]:
        """Register our app at `issuer` for `redirect_uri`: (client id, client secret), cached by the caller."""
        raise NotImplementedError(f"{self.name} has a fixed app: set its client id and secret")

    def _spec(self) -> OAuthSpec:
        if self.oauth is None:
            raise NotImplementedError(f"{self.name} is not connected with OAuth")
        return self.oauth

    # -- token lifecycle: keeping a connected account's credentials alive ------------------------------

    #: refresh this long before the stored expiry (the engine's refresh-ahead pass reads it)
    refresh_ahead: ClassVar[float] = 600.0
    #: set by the engine: one refresh per account across every worker, stored (sealed) before it is used
    renewer: Renewer | None = None
    #: set by the engine to persist credentials that a token refresh replaced
    on_credentials: Callable[[Account, dict[str, Any]], None] | None = None

    def credentials_changed(self, account: Account, credentials: dict[str, Any]) -> None:
        """Hand refreshed credentials to the engine (no-op when nobody listens)."""
        if self.on_credentials is not None:
            self.on_credentials(account, credentials)

    def token_expires_at(self, credentials: Mapping[str, Any]) -> float | None:
        """When the stored access token stops working (epoch seconds), if the credentials say."""
        value = credentials.get("expires_at")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """Whether these credentials can be renewed without the user (standard: a refresh token and a client)."""
        return bool(self.oauth and credentials.get("refresh_token") and self.refresh_client(credentials, client))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """New credentials from the platform; PlatformAuthError when it refuses (the user must reconnect)."""
        spec = self._spec()
        return self.refresh_grant(spec.token_url, credentials, self.refresh_client(credentials, client),
                                  client_auth=spec.client_auth)

    def may_renew(self, credentials: Mapping[str, Any]) -> bool:
        """Whether a refused token is worth one renewal (the engine knows the configured OAuth clients)."""
        return self.renewer is not None or self.can_refresh(credentials)

    def renew(self, account: Account, credentials: Mapping[str, Any]) -> dict[str, Any]:
        """Fresh credentials for an account whose `credentials` the platform refused or that are about to expire."""
        if self.renewer is not None:
            return self.renewer(account, dict(credentials))
        refreshed = self.refresh_credentials(credentials)
        self.credentials_changed(account, dict(refreshed.credentials))
        return dict(refreshed.credentials)

    def refresh_client(self, credentials: Mapping[str, Any], client: ClientApp | None) -> ClientApp | None:
        """The OAuth client a refresh authenticates as: one stored with the credentials wins over the configured app."""
        if credentials.get("client_id"):
            return ClientApp(str(credentials["client_id"]), str(credentials.get("client_secret") or ""), "")
        return client

    def refresh_grant(self, token_url: str, credentials: Mapping[str, Any], client: ClientApp | None, *,
                      client_auth: str = "basic", extra: Mapping[str, str] | None = None) -> Refreshed:
        """The RFC 6749 §6 refresh grant; the answer is merged so a missing refresh token keeps the stored one."""
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise PlatformAuthError(f"{self.label or self.name} granted no refresh token: reconnect the account",
                                    code="refresh_refused")
        form = {"grant_type": "refresh_token", "refresh_token": str(refresh_token), **(extra or {})}
        auth: tuple[str, str] | None = None
        if client is not None and client_auth == "basic" and client.client_secret:
            auth = (client.client_id, client.client_secret)
        if client is not None and auth is None:
            form |= {"client_id": client.client_id, **({"client_secret": client.client_secret}
                                                       if client.client_secret and client_auth == "body" else {})}
        response = self.token_request("POST", token_url, data=form, auth=auth, headers={"Accept": "application/json"})
        return self.refreshed(credentials, self.token_answer(response))

    def token_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One call to a token endpoint; a lost answer is its own retryable error, never an unknown post."""
        try:
            return self.http(method, url, creates=True, **kwargs)
        except OutcomeUnknown as exc:
            # the platform may have rotated the refresh token and we never saw the new one
            raise PlatformUnavailable(f"{self.label or self.name} token endpoint did not answer",
                                      code="refresh_outcome_unknown") from exc

    def token_answer(self, response: requests.Response) -> dict[str, Any]:
        """A token endpoint's JSON answer; a refusal is PlatformAuthError, an outage PlatformUnavailable."""
        body = error_body(response)
        failed = response.status_code >= 300 or not isinstance(body, dict) or not body.get("access_token")
        if not failed:
            return dict(body)
        error = body.get("error") if isinstance(body, dict) else None
        # OAuth names a passing failure (RFC 6749 §5.2 extensions); Meta's Graph envelope flags it
        transient = error in TRANSIENT_GRANT_ERRORS if isinstance(error, str) else (
            isinstance(error, dict) and (error.get("is_transient") is True or error.get("code") in (1, 2)))
        if response.status_code >= 500 or response.status_code == 429 or transient:
            raise PlatformUnavailable(f"{self.label or self.name} token endpoint unavailable (HTTP {response.status_code})",
                                      code="refresh_unavailable", platform_error=_without_tokens(body))
        # invalid_grant, a spent or revoked refresh token, a revoked app: only the user can fix it
        words = error.get("message") if isinstance(error, dict) else (
            body.get("error_description") or error if isinstance(body, dict) else None)
        raise PlatformAuthError(f"{self.label or self.name} refused the token refresh: {words or 'refused'}",
                                code="refresh_refused", platform_error=_without_tokens(body))

    def refreshed(self, credentials: Mapping[str, Any], body: Mapping[str, Any]) -> Refreshed:
        """The stored credentials with a token answer merged in (never an empty refresh token over a stored one)."""
        merged = dict(credentials) | {"access_token": body["access_token"]}
        if body.get("refresh_token"):
            merged["refresh_token"] = body["refresh_token"]
        expires_in = body.get("expires_in")
        expires_at = self.clock() + float(expires_in) if isinstance(expires_in, (int, float)) else None
        if expires_at is None:
            merged.pop("expires_at", None)  # a token without a stated lifetime: unknown, not the old expiry
        else:
            merged["expires_at"] = expires_at
        return Refreshed(credentials=merged, expires_at=expires_at)


@dataclass(frozen=True)
class Refreshed:
    """Renewed credentials, to be stored whole (sealed) before any call uses them."""

    credentials: Mapping[str, Any]
    expires_at: float | None  # epoch seconds; None: the platform states no expiry


#: the engine's renewal: (account, the credentials the caller holds) -> the credentials to use now
Renewer = Callable[["Account", dict[str, Any]], dict[str, Any]]
#: OAuth errors that say "try again later" rather than "this grant is dead" (RFC 6749 §5.2 and §4.1.2.1)
TRANSIENT_GRANT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


def _without_tokens(body: Any) -> Any:
    """An error answer fit for `platform_error`: any token-looking field removed."""
    if not isinstance(body, dict):
        return None
    return {k: v for k, v in body.items() if "token" not in k.lower()}
