"""Passwords in URLs and webhook paths never reach a log line, a start line or a configuration error."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postdodo_connect.config import Settings
from postdodo_connect.engine.deliveries import Deliverer
from postdodo_connect.engine.retry import RetryPolicy
from postdodo_connect.errors import ConfigurationError
from postdodo_connect.netguard import URLPolicy
from postdodo_connect.redact import redact_url, url_origin
from postdodo_connect.signing import generate_secret
from postdodo_connect.storage import Vault
from tests.support.factory import fresh_database
from tests.support.server import start_server

HOOK = "https://hooks.zapier.com/hooks/catch/1234567/abcdefg/?token=zap-credential"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://app:s3cr3t@db.internal:5432/postdodo", "postgresql+psycopg://app:***@db.internal:5432/postdodo"),
    ("redis://:s3cr3t@127.0.0.1:6379/5", "redis://:***@127.0.0.1:6379/5"),
    ("rediss://user:s3cr3t@[::1]:6380/0", "rediss://user:***@[::1]:6380/0"),
    ("postgresql://db/postdodo?sslmode=require&password=s3cr3t", "postgresql://db/postdodo?sslmode=require&password=***"),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    ("sqlite:///var/lib/postdodo/postdodo.db", "sqlite:///var/lib/postdodo/postdodo.db"),
    ("user:s3cr3t@host", "***"),
])
def test_redact_url_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_origin_keeps_scheme_and_host_only() -> None:
    assert url_origin(HOOK) == "https://hooks.zapier.com"
    assert url_origin("http://user:pw@10.0.0.5:8080/x?y=1") == "http://10.0.0.5:8080"
    assert url_origin("not a url") == "***"


def test_configuration_errors_and_settings_repr_hide_secrets() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"POSTDODO_DATABASE_URL": "mysql://app:s3cr3t@db/postdodo"})
    assert "s3cr3t" not in str(caught.value) and "mysql://app:***@db/postdodo" in str(caught.value)
    settings = Settings(database_url="postgresql+psycopg://app:s3cr3t@db/p", redis_url="redis://:r3dis@r:6379/0",
                        secret_key="the-secret-key-0123456789")
    shown = repr(settings)
    assert "s3cr3t" not in shown and "r3dis" not in shown and "the-secret-key" not in shown
    assert "postgresql+psycopg://app:***@db/p" in shown


def test_a_refused_delivery_logs_the_host_not_the_path(caplog: pytest.LogCaptureFixture) -> None:
    # post() needs no database: the SSRF guard refuses before anything is sent
    deliverer = Deliverer(None, Vault("vault-key-0123456789"), RetryPolicy((5.0,), 2, 0.0), URLPolicy(),
                          lambda: datetime.now(UTC))
    caplog.set_level(logging.WARNING, logger="postdodo.deliveries")
    outcome = deliverer.post("http://127.0.0.1:9/hooks/catch/1234567/abcdefg/?token=zap-credential", b"{}", {},
                             datetime.now(UTC))
    assert outcome.error == "url_refused"
    assert "http://127.0.0.1:9" in caplog.text
    assert "abcdefg" not in caplog.text and "zap-credential" not in caplog.text and "hooks/catch" not in caplog.text


def test_receiver_check_hides_the_redis_password() -> None:
    env = {"POSTDODO_RECEIVER_REDIS_URL": "redis://:hunter2-secret@127.0.0.1:1/0",
           "POSTDODO_RECEIVER_SECRETS": generate_secret(), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "receiver.cli", "check"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 1
    assert "redis://:***@127.0.0.1:1/0" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_receiver_config_error_hides_secrets() -> None:
    from receiver.config import load_settings

    with pytest.raises(ConfigurationError) as caught:
        load_settings({"redis_url": 12345, "secrets": (generate_secret(),)})
    assert "12345" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"secrets": 12345})
    assert "12345" not in str(caught.value)


def test_vault_errors_name_no_secret() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Vault("short-key")
    assert "short-key" not in str(caught.value)


def test_serve_start_line_hides_the_database_password(tmp_path: Path, pg_url: str) -> None:
    fresh_database(pg_url).dispose()
    scheme, _, rest = pg_url.partition("://")
    user, _, host = rest.rpartition("@")
    # the test server trusts local connections, so a password in the URL is accepted and ignored
    with_password = f"{scheme}://{user.split(':')[0] or 'postgres'}:pg-pass-w0rd@{host}"
    server = start_server(tmp_path, extra_env={"POSTDODO_DATABASE_URL": with_password,
                                               "POSTDODO_SECRET_KEY": "serve-secret-key-0123456789"})
    try:
        output = "".join(server.output)
    finally:
        server.stop()
    assert "listening on" in output and ":***@" in output
    assert "pg-pass-w0rd" not in output and "serve-secret-key" not in output
