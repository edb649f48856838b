"""The connect settings: client ids and secrets per platform, the public URL, the allowed redirects."""

from __future__ import annotations

import pytest

from postdodo_connect.config import Settings
from postdodo_connect.errors import ConfigurationError
from tests.connect.conftest import APP_URL, Kit, query
from tests.connect.test_x import x_answers


def test_client_ids_and_secrets_come_from_the_environment_and_stay_hidden() -> None:
    settings = Settings.from_env({"POSTDODO_X_CLIENT_ID": "xid", "POSTDODO_X_CLIENT_SECRET": "xsecret",
                                  "POSTDODO_LINKEDIN_CLIENT_ID": " li ", "POSTDODO_PUBLIC_URL": "https://pd.example.com",
                                  "POSTDODO_CONNECT_REDIRECT_URLS": "https://a.example.com/x, https://b.example.com"})
    assert settings.oauth_clients == {"x": ("xid", "xsecret"), "linkedin": ("li", "")}
    assert settings.public_url == "https://pd.example.com"
    assert settings.connect_redirect_urls == ("https://a.example.com/x", "https://b.example.com")
    assert "xsecret" not in repr(settings) and "xid" in repr(settings)


@pytest.mark.parametrize("env", [{"POSTDODO_PUBLIC_URL": "pd.example.com"},
                                 {"POSTDODO_CONNECT_REDIRECT_URLS": "https://user:pw@app.example.com"}])
def test_urls_that_cannot_work_are_refused_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert "pw" not in str(caught.value)


def test_the_redirect_keeps_the_callers_own_query(kit: Kit) -> None:
    session = kit.started(redirect_url=APP_URL + "?tab=accounts")
    x_answers(kit)
    landing = query(kit.callback(state=query(session["url"])["state"], code="c").headers["Location"])
    assert landing["tab"] == "accounts" and landing["account_id"].startswith("acct_")
