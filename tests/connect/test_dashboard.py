"""Connect sessions from the dashboard's accounts page: connect, come back, reconnect, refusals on the page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from postdodo_connect.storage.schema import connect_sessions, workspaces
from tests.connect.conftest import PUBLIC_URL, Kit, query
from tests.connect.test_x import x_answers
from tests.dashboard.test_posts_views import sign_in


def live_workspace(kit: Kit) -> str:
    """The kit's live workspace (the only one)."""
    with kit.api.db.read() as conn:
        return str(conn.execute(select(workspaces.c.id).where(workspaces.c.mode == "live")).scalar_one())


def csrf(client: FlaskClient, workspace: str) -> str:
    """The session's CSRF token from a rendered page."""
    found = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get(f"/w/{workspace}/accounts").get_data(as_text=True))
    assert found
    return found.group(1)


def come_back(client: FlaskClient, location: str) -> str:
    """Follow the connect flow's redirect back to the dashboard (same server): the page's text."""
    assert location.startswith(PUBLIC_URL + "/w/")
    parts = urlsplit(location)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_accounts_page_connects_an_x_account_through_its_consent_and_says_so(kit: Kit) -> None:
    workspace = live_workspace(kit)
    client = sign_in(kit.api, "owner@example.com", workspace)
    page = client.get(f"/w/{workspace}/accounts").get_data(as_text=True)
    assert "Connect X" in page and "(not configured)" in page  # X has its app here; Pinterest has none

    started = client.post(f"/w/{workspace}/accounts/connect/x", data={"csrf_token": csrf(client, workspace)})
    assert started.status_code == 303 and started.headers["Location"].startswith("https://x.com/i/oauth2/authorize?")
    x_answers(kit)
    back = kit.callback(state=query(started.headers["Location"])["state"], code="code-1")

    text = come_back(client, back.headers["Location"])
    assert "Account connected." in text and "acme" in text
    [account] = kit.accounts()
    assert (account["platform"], account["handle"], account["mode"]) == ("x", "acme", "live")


def test_a_reconnect_from_another_x_user_is_refused_on_the_page(kit: Kit) -> None:
    workspace = live_workspace(kit)
    client = sign_in(kit.api, "owner@example.com", workspace)
    first = client.post(f"/w/{workspace}/accounts/connect/x", data={"csrf_token": csrf(client, workspace)})
    x_answers(kit)
    kit.callback(state=query(first.headers["Location"])["state"], code="code-1")
    [account] = kit.accounts()

    again = client.post(f"/w/{workspace}/accounts/connect/x",
                        data={"csrf_token": csrf(client, workspace), "account_id": account["id"]})
    assert again.status_code == 303
    kit.mocked.reset()
    x_answers(kit, user_id="999", username="someone_else")
    back = kit.callback(state=query(again.headers["Location"])["state"], code="code-2")

    text = come_back(client, back.headers["Location"])
    assert "Not connected:" in text and "someone_else" not in text
    assert [a["handle"] for a in kit.accounts()] == ["acme"]


def test_connect_without_a_csrf_token_or_for_an_unknown_platform_starts_nothing(kit: Kit) -> None:
    workspace = live_workspace(kit)
    client = sign_in(kit.api, "owner@example.com", workspace)
    assert client.post(f"/w/{workspace}/accounts/connect/x").status_code == 400  # the dashboard's CSRF refusal
    unknown = client.post(f"/w/{workspace}/accounts/connect/myspace", data={"csrf_token": csrf(client, workspace)})
    assert unknown.status_code == 303 and urlsplit(unknown.headers["Location"]).path == f"/w/{workspace}/accounts"
    assert "unknown platform" in client.get(f"/w/{workspace}/accounts").get_data(as_text=True)
    with kit.api.db.read() as conn:
        assert conn.execute(select(connect_sessions.c.id)).first() is None
