"""End to end over real HTTP: PostDodo and a real OAuth 2 server (Authlib), followed redirect by redirect."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from postdodo_connect import AsyncClient, Client
from postdodo_connect.cli import main
from postdodo_connect.errors import ConflictError
from postdodo_connect.models import ConnectSession
from postdodo_connect.platforms import x as x_module
from postdodo_connect.platforms.oauth import OAuthSpec
from tests.connect.conftest import query
from tests.connect.oauth_server import SCOPES, Provider, build, serving
from tests.support.factory import make_api


@dataclass
class World:
    """PostDodo's base URL and live key, the provider, and a browser that follows nothing by itself."""

    pd: str
    key: str
    provider: Provider
    browser: requests.Session

    def step(self, url: str, expect: int = 302) -> str:
        """One browser request; its status checked, the Location it points to."""
        answer = self.browser.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == expect, (url, answer.status_code, answer.text[:300])
        return str(answer.headers.get("Location", ""))

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.pd}{path}", headers={"Authorization": f"Bearer {self.key}"},
                                timeout=10, **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """PostDodo under a real server, X pointed at the local provider."""
    url = f"sqlite:///{tmp_path / 'e2e.db'}" if request.param == "sqlite" else pg_url
    api = make_api(url, oauth_clients={"x": ("pd-client", "pd-secret")})
    with serving(api.app) as pd:
        api.service.settings = api.service.settings.with_(public_url=pd)
        provider_app, provider = build("pd-client", "pd-secret", f"{pd}/v1/connect/callback")
        with serving(provider_app) as issuer:
            provider.url = issuer
            monkeypatch.setattr(x_module, "API", issuer)
            monkeypatch.setattr(x_module.X, "oauth", OAuthSpec(
                authorize_url=f"{issuer}/oauth/authorize", token_url=f"{issuer}/2/oauth2/token",
                scopes=tuple(SCOPES.split())))
            with requests.Session() as browser:
                yield World(pd, api.new_key("live", test=False), provider, browser)


def test_connect_x_through_a_real_authorization_server(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="postdodo")
    done_url = f"{world.pd}/v1/connect/done"
    started = world.api("POST", "/v1/connect", json={"platform": "x", "redirect_url": done_url})
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["url"].startswith(f"{world.provider.url}/oauth/authorize?")

    back = world.step(session["url"])  # the provider consents and sends the browser back
    assert back.startswith(f"{world.pd}/v1/connect/callback?")
    assert query(back)["state"] == query(session["url"])["state"]
    landing = world.step(back)  # PostDodo exchanges the code (PKCE checked by the provider)
    assert landing.startswith(done_url + "?")
    assert world.step(landing, expect=200) == ""
    assert "Account connected" in world.browser.get(landing, timeout=10).text

    assert world.provider.challenges == [{"code_challenge": query(session["url"])["code_challenge"],
                                          "code_challenge_method": "S256"}]
    [exchange] = world.provider.token_requests
    verifier = exchange["code_verifier"]
    shown = world.api("GET", f"/v1/connect/{session['id']}").json()
    assert shown["status"] == "completed" and shown["account_ids"] == [query(landing)["account_id"]]
    [account] = world.api("GET", "/v1/accounts").json()["data"]
    assert (account["handle"], account["display_name"], account["status"]) == ("acme", "Acme Corp", "active")
    assert account["health"]["scopes_granted"] == SCOPES.split() and not account["health"]["needs_reconnect"]
    # our logs (the test servers' own request logs aside: `postdodo serve` logs paths only)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("postdodo"))
    assert verifier not in ours and query(back)["code"] not in ours
    assert verifier not in started.text + str(shown)

    # the browser's back button: the same callback again is refused, nothing more is created
    replay = world.browser.get(back, allow_redirects=False, timeout=10)
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "state_used"
    assert len(world.api("GET", "/v1/accounts").json()["data"]) == 1


def test_denied_consent_comes_back_as_an_error(world: World) -> None:
    done_url = f"{world.pd}/v1/connect/done"
    session = world.api("POST", "/v1/connect", json={"platform": "x", "redirect_url": done_url}).json()
    back = world.step(session["url"] + "&deny=1")
    assert query(back)["error"] == "access_denied"
    landing = world.step(back)
    assert query(landing)["error"] == "access_denied" and query(landing)["session"] == session["id"]
    assert "not connected" in world.browser.get(landing, timeout=10).text
    assert world.provider.token_requests == []
    assert world.api("GET", f"/v1/connect/{session['id']}").json()["status"] == "failed"


def follow(browser: requests.Session, url: str) -> str:
    """A browser following every redirect one by one (never more than a handful); the last URL."""
    for _ in range(6):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        if answer.status_code not in (302, 303):
            assert answer.status_code == 200, (url, answer.status_code)
            return url
        url = answer.headers["Location"]
    raise AssertionError("too many redirects")


def test_the_client_starts_and_follows_a_session(world: World) -> None:
    client = Client(api_key=world.key, base_url=world.pd)
    session = client.connect.start("x", f"{world.pd}/v1/connect/done")
    assert session.status == "pending" and session.url and session.id.startswith("cs_")
    landed = follow(world.browser, session.url)
    finished = client.connect.get(session.id)
    assert finished.status == "completed" and query(landed)["account_id"] == finished.account_ids[0]

    async def read() -> ConnectSession:
        async with AsyncClient(api_key=world.key, base_url=world.pd) as aclient:
            return await aclient.connect.get(session.id)

    assert asyncio.run(read()).account_ids == finished.account_ids


def test_the_client_selects_among_several_targets(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.connect.test_picker import two_targets

    monkeypatch.setattr(x_module.X, "connect_options", two_targets)
    client = Client(api_key=world.key, base_url=world.pd)
    session = client.connect.start("x", f"{world.pd}/v1/connect/done")
    follow(world.browser, session.url or "")
    waiting = client.connect.get(session.id)
    assert waiting.status == "needs_selection" and [o.id for o in waiting.options] == ["page-1", "page-2"]
    done = client.connect.select(session.id, "page-2")
    assert done.status == "completed" and len(done.account_ids) == 1
    with pytest.raises(ConflictError):
        client.connect.select(session.id, ["page-1"])


def test_the_cli_opens_the_link_and_waits_for_the_account(world: World, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    opened: list[str] = []

    def browser(url: str) -> bool:  # the user's browser: consents, comes back
        opened.append(url)
        follow(world.browser, url)
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    code = main(["accounts", "connect", "x", "--base-url", world.pd, "--api-key", world.key, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert opened and opened[0] in err and "Open this link" in err
    [account] = json.loads(out)
    assert (account["platform"], account["handle"]) == ("x", "acme")


def test_the_cli_reports_a_refused_consent(world: World, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url: bool(follow(world.browser, url + "&deny=1")))
    code = main(["accounts", "connect", "x", "--base-url", world.pd, "--api-key", world.key])
    _, err = capsys.readouterr()
    assert code == 1 and "not connected (failed)" in err and "access was not granted" in err
