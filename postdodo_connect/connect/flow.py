"""Connect sessions: start, the OAuth callback, the picker and the hosted form; accounts created or refreshed."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import platforms
from ..errors import APIError, ConflictError, InvalidRequestError, NotFoundError, PlatformAuthError, PlatformError
from ..platforms.oauth import ClientApp, ConnectOption, pkce_challenge
from ..storage import accounts as account_store
from ..storage import connect as store
from ..storage.events import emit
from ..storage.ids import new_id
from .security import SESSION_SECONDS, Signer, StateError, allowed_redirect, new_nonce, new_verifier

if TYPE_CHECKING:
    from ..api.service import Service
    from ..models import ConnectCreate
    from ..platforms import Platform
    from ..platforms.plumbing import Resolver

log = logging.getLogger("postdodo.connect")
CALLBACK_PATH = "/v1/connect/callback"
FORM_PATH = "/v1/connect/form"


class Failed(Exception):
    """The session ends failed: `code` and `message` go back to the caller's redirect_url."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def kind_of(platform: str) -> Literal["oauth", "form"] | None:
    """How a platform is connected: "oauth", "form", or None (only by pasting credentials)."""
    cls = platforms.adapter_class(platform)
    if cls.connect_form:
        return "form"
    return "oauth" if cls.oauth is not None else None


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query string."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class Connector:
    """The connect flow for one request: the service, this server's public base URL, the DNS resolver."""

    def __init__(self, svc: Service, base_url: str, resolver: Resolver | None = None) -> None:
        self.svc, self.resolver = svc, resolver
        self.base_url = (svc.settings.public_url or base_url).rstrip("/")
        self.signer = Signer(svc.settings.secret_key or "")

    @property
    def redirect_uri(self) -> str:
        """The callback URI to register with every OAuth platform."""
        return self.base_url + CALLBACK_PATH

    def adapter(self, platform: str) -> Platform:
        """A fresh adapter, its SSRF guard on our resolver."""
        adapter = platforms.get(platform)
        adapter.resolver = self.resolver
        return adapter

    def configured(self, platform: str) -> bool:
        """True when sessions can start for this platform."""
        kind = kind_of(platform)
        if kind == "form":
            return True
        if kind == "oauth":
            return platform in self.svc.settings.oauth_clients or self._registers_clients(platform)
        return False

    def _registers_clients(self, platform: str) -> bool:
        cls = platforms.adapter_class(platform)
        return cls.client_issuer is not platforms.Platform.client_issuer

    # -- start -----------------------------------------------------------------------------------

    def start(self, workspace: Mapping[str, Any], body: ConnectCreate) -> tuple[dict[str, Any], str]:
        """A new pending session and the URL to send the browser to."""
        platform, now = body.platform, self.svc.clock()
        kind = kind_of(platform) if platform in platforms.NAMES else None
        if platform not in platforms.NAMES:
            raise InvalidRequestError(f"unknown platform {platform!r}; one of {', '.join(platforms.NAMES)}",
                                      param="platform")
        if kind is None:
            raise InvalidRequestError(f"{platform} is connected with POST /v1/accounts and its credentials",
                                      code="platform_not_connectable", param="platform")
        if workspace["mode"] != "live":
            raise InvalidRequestError("connect links make live accounts: use a pd_live_ key (pd_test_ keys add "
                                      "sandbox accounts with POST /v1/accounts)", param="platform")
        prefixes = [*self.svc.settings.connect_redirect_urls, self.base_url]
        if not allowed_redirect(body.redirect_url, prefixes):
            raise InvalidRequestError("redirect_url must start with one of POSTDODO_CONNECT_REDIRECT_URLS or this "
                                      "server's own URL", code="redirect_url_not_allowed", param="redirect_url")
        if body.account_id is not None:
            self._account_to_reconnect(workspace["id"], body.account_id, platform)
        session_id, nonce = new_id("cs"), new_nonce()
        state = self.signer.state(session_id, nonce)
        options = dict(body.options or {})
        secret = None
        if kind == "form":
            url = with_query(self.base_url + FORM_PATH, state=state)
        else:
            adapter = self.adapter(platform)
            client = self.client(platform, options)
            options = dict(client.options)
            verifier = new_verifier() if adapter.oauth and adapter.oauth.pkce else None
            url = adapter.authorization_url(client, state, pkce_challenge(verifier) if verifier else None)
            secret = self.svc.vault.seal_json({"verifier": verifier})
        with self.svc.db.write() as conn:
            row = store.create_session(conn, session_id, workspace["id"], platform=platform,
                                       redirect_url=body.redirect_url, redirect_uri=self.redirect_uri,
                                       account_id=body.account_id, options=options, nonce=nonce, secret=secret,
                                       now=now, expires_at=now + timedelta(seconds=SESSION_SECONDS))
        return row, url

    def _account_to_reconnect(self, workspace_id: str, account_id: str, platform: str) -> dict[str, Any]:
        with self.svc.db.read() as conn:
            found = account_store.get_accounts(conn, workspace_id, [account_id]).get(account_id)
        if found is None:
            raise NotFoundError(f"no account {account_id}", param="account_id")
        if found["platform"] != platform or found["mode"] != "live":
            raise InvalidRequestError(f"account {account_id} is a {found['mode']} {found['platform']} account; "
                                      f"reconnect it on its own platform", code="account_mismatch", param="account_id")
        return found

    def client(self, platform: str, options: Mapping[str, Any], redirect_uri: str | None = None) -> ClientApp:
        """Our app on the platform: from the settings, or registered on the user's instance (and cached)."""
        adapter = self.adapter(platform)
        redirect_uri = redirect_uri or self.redirect_uri
        try:
            issuer = adapter.client_issuer(options)
        except PlatformError as exc:
            raise InvalidRequestError(exc.message, code="invalid_options", param="options") from None
        if issuer is None:
            pair = self.svc.settings.oauth_clients.get(platform)
            if not pair:
                upper = platform.upper()
                raise InvalidRequestError(f"{platform} is not configured: set POSTDODO_{upper}_CLIENT_ID and "
                                          f"POSTDODO_{upper}_CLIENT_SECRET", code="platform_not_configured",
                                          param="platform")
            return ClientApp(pair[0], pair[1], redirect_uri, dict(options))
        with self.svc.db.read() as conn:
            known = store.get_app(conn, platform, issuer, redirect_uri)
        if known is not None:
            client_id, client_secret = known["client_id"], self.svc.vault.open(known["client_secret"])
        else:
            try:
                client_id, client_secret = adapter.register_client(issuer, redirect_uri)
            except PlatformError as exc:
                if exc.code == "url_refused":  # the SSRF guard: an address we never contact
                    raise InvalidRequestError(f"options.instance_url is refused: {exc.message}",
                                              code="invalid_options", param="options") from None
                raise APIError(f"could not register with {issuer}: {exc.message}", code="platform_unavailable",
                               status=503) from None
            with self.svc.db.write() as conn:
                store.save_app(conn, platform, issuer, redirect_uri, client_id,
                               self.svc.vault.seal(client_secret), self.svc.clock())
        return ClientApp(client_id, client_secret, redirect_uri, {**options, "instance_url": issuer})

    # -- the callback and the form ---------------------------------------------------------------

    def open_state(self, state: str | None) -> dict[str, Any]:
        """The session a state names, still open; StateError otherwise (expired ones are marked so)."""
        if not state:
            raise StateError("state is missing", code="invalid_state", param="state")
        session_id, nonce, expired = self.signer.read_state(state)
        with self.svc.db.read() as conn:
            row = store.get_session(conn, session_id)
        if row is None or not _same(row["nonce"], nonce):
            raise StateError("state belongs to no connect session of this server", code="invalid_state",
                             param="state")
        if expired or row["expires_at"] <= self.svc.clock():
            with self.svc.db.write() as conn:
                store.expire_session(conn, row["id"], self.svc.clock())
            raise StateError("this connect link expired; start a new one", code="session_expired", param="state")
        if row["status"] != "pending":
            raise StateError("this connect link was already used; start a new one", code="state_used", param="state")
        return row

    def callback(self, args: Mapping[str, str]) -> str:
        """Finish an OAuth consent: the URL the browser goes to next (the caller's redirect_url)."""
        row = self.open_state(args.get("state"))
        if not self._claim(row, "pending"):
            raise StateError("this connect link was already used; start a new one", code="state_used", param="state")
        try:
            if args.get("error"):
                denied = args["error"] == "access_denied"
                raise Failed("access_denied" if denied else "connect_failed",
                             "access was not granted on the platform's consent screen" if denied
                             else f"the platform answered {args['error'][:60]}")
            code = args.get("code")
            if not code:
                raise Failed("connect_failed", "the platform sent no authorization code")
            adapter = self.adapter(row["platform"])
            # the redirect URI the consent was asked with: the exchange must repeat it exactly
            client = self.client(row["platform"], row["options"], row["redirect_uri"])
            verifier = self.svc.vault.open_json(row["secret"]).get("verifier")
            try:
                grant = adapter.exchange_code(client, code, verifier)
                needed = adapter.oauth.scopes if adapter.oauth else ()
                if missing := adapter.missing_scopes(grant):
                    raise Failed("missing_scopes", f"these permissions were not granted: {', '.join(missing)}; "
                                 "connect again and allow them all")
                options = adapter.connect_options(client, grant)
            except PlatformError as exc:
                code = exc.code if exc.code in ("missing_scopes", "connect_failed") else "connect_failed"
                raise Failed(code, f"{adapter.label or adapter.name} refused: {exc.message}") from None
            scopes = list(grant.scopes or needed)
            return self.conclude(row, options, scopes)
        except Failed as failure:
            return self.fail(row, failure)
        except APIError as exc:  # the platform stopped being configured meanwhile, and the like
            return self.fail(row, Failed(exc.code, exc.message))
        except Exception:
            self.fail(row, Failed("connect_failed", "internal error while connecting"))
            raise

    def submit_form(self, row: dict[str, Any], values: Mapping[str, str]) -> str:
        """Check a hosted form's credentials with the platform, then conclude: the URL to go to next."""
        adapter = self.adapter(row["platform"])
        try:
            options = adapter.connect_with_form(values)
        except PlatformAuthError as exc:
            raise InvalidRequestError(f"{adapter.label} refused these credentials: {exc.message}",
                                      code="invalid_credentials") from None
        except PlatformError as exc:
            raise InvalidRequestError(f"could not check them with {adapter.label}: {exc.message}",
                                      code="platform_unavailable") from None
        if not self._claim(row, "pending"):
            raise StateError("this connect link was already used; start a new one", code="state_used", param="state")
        try:
            return self.conclude(row, options, None)
        except Failed as failure:
            return self.fail(row, failure)

    # -- ending a session ------------------------------------------------------------------------

    def conclude(self, row: dict[str, Any], options: list[ConnectOption], scopes: list[str] | None) -> str:
        """Create or refresh the account (one option), or wait for the picker (several)."""
        if not options:
            raise Failed("no_targets", "this login reaches nothing to publish to")
        chosen = options if len(options) == 1 else []
        if row["account_id"]:
            account = self._reconnect_target(row, options)
            chosen = [o for o in options if o.id == _target_id(account)] or chosen
        if not chosen:
            secret = self.svc.vault.seal_json({"options": [_option_dict(o) for o in options], "scopes": scopes})
            choices = [{"id": o.id, "handle": o.handle, "display_name": o.display_name, "kind": o.kind}
                       for o in options]
            with self.svc.db.write() as conn:
                store.set_session(conn, row["id"], self.svc.clock(), status="needs_selection", secret=secret,
                                  choices=choices)
            return with_query(row["redirect_url"], session=row["id"], status="needs_selection")
        ids = self.save_accounts(row, chosen, scopes)
        return with_query(row["redirect_url"], session=row["id"], account_id=ids[0])

    def _reconnect_target(self, row: dict[str, Any], options: list[ConnectOption]) -> dict[str, Any]:
        with self.svc.db.read() as conn:
            account = account_store.load_account(conn, row["account_id"])
        if account is None or account["deleted_at"] is not None:
            raise Failed("account_not_found", "the account to reconnect was disconnected meanwhile")
        expected = account["external_user_id"]
        if expected and any(o.external_user_id != expected for o in options):
            raise Failed("reconnect_user_mismatch", f"this login belongs to another {row['platform']} user than "
                         f"account {account['id']}; sign in as {account['handle']}")
        return account

    def save_accounts(self, row: dict[str, Any], chosen: list[ConnectOption], scopes: list[str] | None) -> list[str]:
        """Create each chosen account, or refresh in place the one it already is; the session completes."""
        now, ids = self.svc.clock(), []
        with self.svc.db.write() as conn:
            for option in chosen:
                existing = None
                if row["account_id"]:
                    existing = account_store.load_account(conn, row["account_id"])
                elif option.external_user_id:
                    existing = store.find_account(conn, row["workspace_id"], option.platform or row["platform"],
                                                  option.external_user_id, option.id)
                ids.append(self._store_account(conn, row, option, scopes, existing))
            store.set_session(conn, row["id"], now, status="completed", account_ids=ids, secret=None, choices=None)
        return ids

    def _store_account(self, conn: Any, row: dict[str, Any], option: ConnectOption, scopes: list[str] | None,
                       existing: dict[str, Any] | None) -> str:
        credentials = dict(option.credentials)
        facts: dict[str, Any] = {
            "scopes": scopes, "external_user_id": option.external_user_id or None,
            "token_expires_at": _when(option.expires_at or credentials.get("expires_at"))}
        if existing is None:
            created = account_store.create_account(
                conn, row["workspace_id"], platform=option.platform or row["platform"], handle=option.handle[:100],
                display_name=(option.display_name or option.handle)[:200], mode="live",
                credentials=self.svc.vault.seal_json(credentials),
                settings={**option.settings, "target_id": option.id, "kind": option.kind})
            store.update_credentials(conn, created["id"], **facts)
            return str(created["id"])
        # a refresh token the platform did not send again stays: losing it would force another reconnect
        kept = self.svc.vault.open_json(existing["credentials"])
        merged = {**kept, **{k: v for k, v in credentials.items() if v not in (None, "")}}
        settings = {**(existing["settings"] or {}), **option.settings, "target_id": option.id, "kind": option.kind}
        store.update_credentials(conn, existing["id"], credentials=self.svc.vault.seal_json(merged), settings=settings,
                                 handle=option.handle[:100], **facts)
        emit(conn, row["workspace_id"], "account.reconnected", {
            "account_id": existing["id"], "platform": existing["platform"], "handle": option.handle,
            "session_id": row["id"]}, now=self.svc.clock())
        return str(existing["id"])

    def select(self, workspace_id: str, session_id: str, option_ids: list[str]) -> dict[str, Any]:
        """Create the accounts picked among a session's options."""
        row = self.get(workspace_id, session_id)
        if row["status"] != "needs_selection":
            raise ConflictError(f"session {session_id} is {row['status']}; only a session waiting for a selection "
                                "takes one", code="session_not_selectable")
        stored = self.svc.vault.open_json(row["secret"])
        options = {o["id"]: o for o in stored.get("options", [])}
        unknown = [i for i in option_ids if i not in options]
        if unknown:
            raise InvalidRequestError(f"no option {unknown[0]} in this session", param="option_ids")
        if row["account_id"] and len(set(option_ids)) != 1:
            raise InvalidRequestError("a reconnect refreshes one account: pick exactly one option", param="option_ids")
        if not self._claim(row, "needs_selection"):
            raise ConflictError(f"session {session_id} was already completed", code="session_not_selectable")
        chosen = [ConnectOption(**options[i]) for i in dict.fromkeys(option_ids)]
        try:
            self.save_accounts(row, chosen, stored.get("scopes"))
        except Exception:
            self.fail(row, Failed("connect_failed", "internal error while saving the accounts"))
            raise
        return self.get(workspace_id, session_id)

    def get(self, workspace_id: str, session_id: str) -> dict[str, Any]:
        """A session of the workspace (expired when past its time); 404 for any other."""
        with self.svc.db.read() as conn:
            row = store.get_session(conn, session_id, workspace_id)
        if row is None:
            raise NotFoundError(f"no connect session {session_id}", param="id")
        if row["status"] in store.OPEN and row["expires_at"] <= self.svc.clock():
            with self.svc.db.write() as conn:
                store.expire_session(conn, session_id, self.svc.clock())
                row = store.get_session(conn, session_id) or row
        return row

    def fail(self, row: dict[str, Any], failure: Failed) -> str:
        """End the session failed; the caller's redirect_url with `error` and `message`."""
        log.info("connect session %s failed: %s", row["id"], failure.code)
        with self.svc.db.write() as conn:
            store.set_session(conn, row["id"], self.svc.clock(), status="failed", secret=None, choices=None,
                              error_code=failure.code, error_message=failure.message)
        return with_query(row["redirect_url"], session=row["id"], error=failure.code, message=failure.message)

    def _claim(self, row: dict[str, Any], status: str) -> bool:
        with self.svc.db.write() as conn:
            return store.claim(conn, row["id"], row["nonce"], status, self.svc.clock())


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _target_id(account: Mapping[str, Any]) -> str | None:
    """The platform target an account publishes to (its user, Page, board, channel)."""
    settings = account.get("settings") or {}
    return settings.get("target_id") or account.get("external_user_id")


def _option_dict(option: ConnectOption) -> dict[str, Any]:
    return {"id": option.id, "handle": option.handle, "display_name": option.display_name,
            "external_user_id": option.external_user_id, "credentials": dict(option.credentials),
            "kind": option.kind, "expires_at": option.expires_at, "platform": option.platform,
            "settings": dict(option.settings)}


def _when(epoch: Any) -> datetime | None:
    """An epoch time as an aware datetime (None when there is none)."""
    return datetime.fromtimestamp(float(epoch), UTC) if isinstance(epoch, (int, float)) and epoch > 0 else None
