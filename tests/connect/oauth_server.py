"""A real OAuth 2 authorization server for tests (Authlib: RFC 6749 code grant, RFC 7636 PKCE S256 only).

It plays X: `/oauth/authorize` consents at once (`?deny=1` as the user refusing), `/2/oauth2/token`
exchanges codes (rotating refresh tokens) and `/2/users/me` answers who a bearer token belongs to.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.sqla_oauth2 import (
    OAuth2AuthorizationCodeMixin,
    OAuth2ClientMixin,
    OAuth2TokenMixin,
    create_bearer_token_validator,
    create_query_client_func,
    create_save_token_func,
)
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from sqlalchemy import Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker
from sqlalchemy.pool import StaticPool
from werkzeug.serving import make_server

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on 127.0.0.1

SCOPES = "tweet.read tweet.write users.read media.write offline.access"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40))

    def get_user_id(self) -> int:
        return self.id


class Client(Base, OAuth2ClientMixin):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class AuthorizationCode(Base, OAuth2AuthorizationCodeMixin):
    __tablename__ = "codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)


class Token(Base, OAuth2TokenMixin):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)


class S256Only(CodeChallenge):
    """X and Mastodon accept S256; a `plain` challenge (or none) is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


@dataclass
class Provider:
    """The running server: its base URL, the registered client, and what it saw."""

    url: str
    client_id: str
    client_secret: str
    challenges: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)


def build(client_id: str, client_secret: str, redirect_uri: str) -> tuple[Flask, Provider]:
    """The provider app with one user (@acme) and one confidential client."""
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    Base.metadata.create_all(engine)
    db = scoped_session(sessionmaker(bind=engine))
    db.add(User(id=2244994945, username="acme"))
    client = Client(client_id=client_id, client_secret=client_secret, client_id_issued_at=int(time.time()))
    client.set_client_metadata({"redirect_uris": [redirect_uri], "grant_types": ["authorization_code", "refresh_token"],
                                "response_types": ["code"], "scope": SCOPES,
                                "token_endpoint_auth_method": "client_secret_basic"})
    db.add(client)
    db.commit()
    provider = Provider("", client_id, client_secret)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> AuthorizationCode:
            data = req.payload.data
            provider.challenges.append({k: data.get(k) for k in ("code_challenge", "code_challenge_method")})
            item = AuthorizationCode(code=code, client_id=req.client.client_id, redirect_uri=req.payload.redirect_uri,
                                     scope=req.payload.scope, user_id=req.user.id,
                                     code_challenge=data.get("code_challenge"),
                                     code_challenge_method=data.get("code_challenge_method"))
            db.add(item)
            db.commit()
            return item

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            item = db.query(AuthorizationCode).filter_by(code=code, client_id=client.client_id).first()
            return item if item and not item.is_expired() else None

        def delete_authorization_code(self, item: AuthorizationCode) -> None:
            db.delete(item)
            db.commit()

        def authenticate_user(self, item: AuthorizationCode) -> User | None:
            return db.get(User, item.user_id)

    class RotatingRefresh(grants.RefreshTokenGrant):
        INCLUDE_NEW_REFRESH_TOKEN = True  # X: each refresh returns a new pair

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            item = db.query(Token).filter_by(refresh_token=refresh_token).first()
            return item if item and not item.is_revoked() else None

        def authenticate_user(self, item: Token) -> User | None:
            return db.get(User, item.user_id)

        def revoke_old_credential(self, item: Token) -> None:
            item.access_token_revoked_at = item.refresh_token_revoked_at = int(time.time())
            db.commit()

    app = Flask("oauth-provider")
    app.config.update(OAUTH2_REFRESH_TOKEN_GENERATOR=True, OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": 7200})
    server = AuthorizationServer(app, query_client=create_query_client_func(db, Client),
                                 save_token=create_save_token_func(db, Token))
    server.register_grant(CodeGrant, [S256Only(required=True)])
    server.register_grant(RotatingRefresh)
    require_token = ResourceProtector()
    require_token.register_token_validator(create_bearer_token_validator(db, Token)())

    @app.route("/oauth/authorize")
    def authorize() -> Any:
        user = db.get(User, 2244994945)
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(request, error)
        return server.create_authorization_response(grant=grant, grant_user=None if request.args.get("deny") else user)

    @app.route("/2/oauth2/token", methods=["POST"])
    def token() -> Any:
        provider.token_requests.append(dict(request.form))
        return server.create_token_response()

    @app.route("/2/users/me")
    @require_token("users.read")
    def me() -> Any:
        from authlib.integrations.flask_oauth2 import current_token

        user = db.get(User, current_token.user_id)
        assert user is not None
        return jsonify({"data": {"id": str(user.id), "name": "Acme Corp", "username": user.username}})

    @app.teardown_appcontext
    def _forget(_: BaseException | None) -> None:
        db.remove()

    return app, provider


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` under a real HTTP server on a free port of 127.0.0.1, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
