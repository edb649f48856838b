"""What every platform of this area states for connecting: https endpoints, the scopes, no secret in a URL or repr."""

from __future__ import annotations

import pytest

from postdodo_connect.platforms import get
from postdodo_connect.platforms.oauth import ConnectOption, Grant

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



def test_grants_and_options_never_show_their_tokens() -> None:
    grant = Grant(access_token="tok-SECRET-1", refresh_token="ref-SECRET-2", scopes=("a",), raw={"access_token": "tok-SECRET-1"})
    option = ConnectOption(id="1", handle="h", display_name="H", external_user_id="u", credentials={"access_token": "tok-SECRET-1"})
    assert "SECRET" not in repr(grant) + repr(option) + str(grant) + str(option)
