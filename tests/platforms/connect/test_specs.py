"""What every platform of this area states for connecting: https endpoints, the scopes, no secret in the URL."""

from __future__ import annotations

import pytest

from postdodo_connect.platforms import get

from .conftest import APP, CHALLENGE, STATE, query

PLATFORMS = ("discord", "facebook", "instagram", "linkedin", "pinterest", "slack", "threads", "tiktok")


@pytest.mark.parametrize("name", PLATFORMS)
def test_authorize_url_carries_state_and_redirect_but_no_secret(name: str) -> None:
    platform = get(name)
    assert platform.oauth is not None
    assert platform.oauth.authorize_url.startswith("https://") and platform.oauth.token_url.startswith("https://")
    url = platform.authorization_url(APP, STATE, CHALLENGE)
    params = query(url)
    assert params["state"] == STATE and params["redirect_uri"] == APP.redirect_uri
    assert APP.client_secret not in url
    # none of these platforms documents PKCE for a server-side web app, so no challenge is sent
    assert "code_challenge" not in params
    assert set(params["scope"].replace(",", " ").split()) >= set(platform.oauth.scopes)

