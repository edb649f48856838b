"""Connect-flow kit: the API on SQLite and PostgreSQL with a live workspace, X configured, platforms mocked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from postdodo_connect.platforms import bluesky
from tests.support.factory import Api, FakeClock, make_api

PUBLIC_URL = "https://pd.example.com"
APP_URL = "https://app.example.com/connected"
CALLBACK = f"{PUBLIC_URL}/v1/connect/callback"
X_CLIENT = ("x-client-id", "x-client-secret")


def query(url: str) -> dict[str, str]:
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@dataclass
class Kit:
    """The API, a live key, the clock and the mocked platforms."""

    api: Api
    key: str
    clock: FakeClock
    mocked: responses.RequestsMock

    def start(self, platform: str = "x", **body: Any) -> Any:
        """POST /v1/connect; the response."""
        payload = {"platform": platform, "redirect_url": APP_URL, **body}
        return self.api.call("POST", "/v1/connect", self.key, json=payload)

    def started(self, platform: str = "x", **body: Any) -> dict[str, Any]:
        """A new session's JSON (201 asserted)."""
        response = self.start(platform, **body)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def callback(self, **params: str) -> Any:
        """The browser arriving at the callback."""
        return self.api.client().get("/v1/connect/callback", query_string=params)

    def session(self, session_id: str) -> dict[str, Any]:
        """GET /v1/connect/:id."""
        response = self.api.call("GET", f"/v1/connect/{session_id}", self.key)
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def accounts(self) -> list[dict[str, Any]]:
        """GET /v1/accounts."""
        return list(self.api.call("GET", "/v1/accounts", self.key).get_json()["data"])


@pytest.fixture(params=["sqlite", "postgresql"])
def kit(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Kit]:
    """The API with X configured, allowed redirects under APP_URL, a live workspace and mocked platforms."""
    url = f"sqlite:///{tmp_path / 'connect.db'}" if request.param == "sqlite" else pg_url
    clock = FakeClock()
    api = make_api(url, clock=clock, public_url=PUBLIC_URL, connect_redirect_urls=(APP_URL,),
                   oauth_clients={"x": X_CLIENT})
    api.app.config["CONNECT_RESOLVER"] = lambda host, port: ["93.184.216.34"]  # public, no DNS
    bluesky.forget_sessions()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield Kit(api, api.new_key("live", test=False), clock, mocked)
    bluesky.forget_sessions()
