"""A login that reaches several targets: the session waits for a selection, then creates the picked accounts."""

from __future__ import annotations

from typing import Any

import pytest

from postdodo_connect.platforms.oauth import ClientApp, ConnectOption, Grant
from postdodo_connect.platforms.x import X
from tests.connect.conftest import APP_URL, Kit, query
from tests.connect.test_x import x_answers


def two_targets(self: X, app: ClientApp, grant: Grant) -> list[ConnectOption]:
    """As a Pages/boards platform answers: one user, two places to publish to."""
    return [ConnectOption(id=f"page-{n}", handle=f"page{n}", display_name=f"<Page {n}>", external_user_id="u1",
                          credentials={"access_token": f"page-token-{n}"}, kind="page") for n in (1, 2)]


@pytest.fixture
def picking(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> tuple[Kit, dict[str, Any]]:
    """A session whose callback found two targets."""
    monkeypatch.setattr(X, "connect_options", two_targets)
    session = kit.started()
    x_answers(kit)
    answer = kit.callback(state=query(session["url"])["state"], code="c")
    landing = query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(APP_URL)
    assert landing == {"session": session["id"], "status": "needs_selection"}
    return kit, session


def test_the_session_lists_the_options_without_their_credentials(picking: tuple[Kit, dict[str, Any]]) -> None:
    kit, session = picking
    shown = kit.session(session["id"])
    assert shown["status"] == "needs_selection" and shown["account_ids"] == []
    assert shown["options"] == [{"id": f"page-{n}", "handle": f"page{n}", "display_name": f"<Page {n}>",
                                 "kind": "page"} for n in (1, 2)]
    assert "page-token" not in str(shown) and kit.accounts() == []


def test_select_creates_the_picked_accounts_once(picking: tuple[Kit, dict[str, Any]]) -> None:
    kit, session = picking
    path = f"/v1/connect/{session['id']}/select"
    unknown = kit.api.call("POST", path, kit.key, json={"option_ids": ["page-9"]})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["param"] == "option_ids"
    done = kit.api.call("POST", path, kit.key, json={"option_ids": ["page-2", "page-1"]})
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "completed" and len(body["account_ids"]) == 2
    assert sorted(a["handle"] for a in kit.accounts()) == ["page1", "page2"]
    again = kit.api.call("POST", path, kit.key, json={"option_ids": ["page-1"]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "session_not_selectable"
    assert len(kit.accounts()) == 2


def test_a_selection_after_expiry_is_refused(picking: tuple[Kit, dict[str, Any]]) -> None:
    kit, session = picking
    kit.clock.advance(601)
    answer = kit.api.call("POST", f"/v1/connect/{session['id']}/select", kit.key, json={"option_ids": ["page-1"]})
    assert answer.status_code == 409 and kit.session(session["id"])["status"] == "expired"
    assert kit.accounts() == []


def test_select_takes_exactly_the_documented_body(picking: tuple[Kit, dict[str, Any]]) -> None:
    kit, session = picking
    path = f"/v1/connect/{session['id']}/select"
    for body in ({}, {"option_ids": []}, {"option_ids": "page-1"}, {"option_ids": ["page-1"], "extra": 1}):
        assert kit.api.call("POST", path, kit.key, json=body).status_code == 400
    assert kit.accounts() == []
