"""The first run, on a server of its own: the printed link, its form's refusals, and the sign-in throttle."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.dashboard.browser import Dashboard, assert_accessible, first_sign_in, screenshot
from tests.dashboard.conftest import serve_dashboard


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """One worker with the default sign-in limits: each process counts for itself without Redis."""
    dashboard = serve_dashboard(tmp_path_factory, {}, 1)
    yield dashboard
    dashboard.server.stop()


def form_session(dash: Dashboard, path: str) -> tuple[requests.Session, str]:
    """A cookie session that has loaded a page, and that page's CSRF token."""
    session = requests.Session()
    page = session.get(dash.url + path, timeout=10)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token, page.text[:500]
    return session, token.group(1)


def test_the_printed_link_refuses_bad_input_then_signs_the_first_person_up_once(page: Any, dash: Dashboard) -> None:
    login = requests.get(dash.url + "/login", timeout=10)
    assert "Nobody has signed up yet" in login.text

    token = dash.setup_url.split("token=")[1]
    session, csrf = form_session(dash, "/setup?token=" + token)
    for data, said in (({"email": "a@example.com", "password": "long enough 1", "confirm": "long enough 2"},
                        "The two passwords differ"),
                       ({"email": "not an address", "password": "long enough 1", "confirm": "long enough 1"},
                        "enter an email address"),
                       ({"email": "a@example.com", "password": "short", "confirm": "short"}, "at least 10")):
        answer = session.post(dash.url + "/setup", data={"csrf_token": csrf, "token": token, **data}, timeout=30)
        assert answer.status_code == 400 and said in answer.text
    assert requests.get(dash.url + "/setup?token=" + token[:-2], timeout=10).status_code == 410

    page.goto(dash.setup_url)  # still unused: the refused forms stored nothing
    screenshot(page, "first-sign-in")
    assert_accessible(page)
    first_sign_in(page, dash)

    assert page.get_by_role("heading", name="Posts").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Posts", "Composer", "Accounts", "Webhooks", "Settings → API"):
        assert nav.get_by_role("link", name=label).is_visible()
    assert page.get_by_text("Test workspace: sandbox accounts only").is_visible()
    assert_accessible(page)
    # single use: the link is spent, even for the person who used it
    assert requests.get(dash.setup_url, timeout=10).status_code == 410
    assert "Nobody has signed up yet" not in requests.get(dash.url + "/login", timeout=10).text


def test_sign_in_is_throttled_per_client_address(dash: Dashboard) -> None:
    session, csrf = form_session(dash, "/login")
    statuses = [session.post(dash.url + "/login", timeout=30, data={
        "csrf_token": csrf, "email": f"{uuid.uuid4().hex}@example.com", "password": "guess guess guess"}).status_code
        for _ in range(31)]
    # every address entered is new, so only the per-address window (30 a minute) can refuse
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
