"""Signing in: the first-run link, sessions that really end, throttling, CSRF, headers, workspace walls."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import requests

from tests.dashboard.browser import (
    EMAIL,
    PASSWORD,
    Dashboard,
    assert_accessible,
    sign_in,
    workspace_url,
)


def cli(dash: Dashboard, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`postdodo ...` on the server's database."""
    return subprocess.run([sys.executable, "-m", "postdodo_connect", *args], env=dash.server.env, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def form_session(dash: Dashboard, path: str = "/login") -> tuple[requests.Session, str]:
    """A cookie session that has loaded a page, and that page's CSRF token."""
    session = requests.Session()
    page = session.get(dash.url + path, timeout=10)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token, page.text[:500]
    return session, token.group(1)


def test_sign_out_ends_the_session_and_a_copy_of_the_old_cookie_is_refused(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    accounts = workspace_url(page) + "/accounts"
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["postdodo_session"]
    replay = requests.get(accounts, cookies={"postdodo_session": cookie}, allow_redirects=False, timeout=10)
    assert replay.status_code == 200  # the copy works while the session lives

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))

    replay = requests.get(accounts, cookies={"postdodo_session": cookie}, allow_redirects=False, timeout=10)
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/login")


def test_a_wrong_password_is_refused_and_sign_in_is_throttled_per_user(dash: Dashboard) -> None:
    subprocess_user(dash, "throttle@example.com")
    session, token = form_session(dash)
    answers = [session.post(dash.url + "/login", data={"csrf_token": token, "email": "throttle@example.com",
                                                       "password": "not the password"}, timeout=30)
               for _ in range(11)]
    statuses = [a.status_code for a in answers]
    assert "Wrong email address or password" in answers[0].text
    answer = answers[-1]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert "Too many sign-in attempts" in answer.text
    # the right password is refused too while the window lasts: a guesser learns nothing
    right = session.post(dash.url + "/login", data={"csrf_token": token, "email": "throttle@example.com",
                                                   "password": "a long password 1"}, allow_redirects=False, timeout=30)
    assert right.status_code == 429


def subprocess_user(dash: Dashboard, email: str, *workspace: str) -> None:
    """A user made with `postdodo users create`, password "a long password 1"."""
    args = [arg for name in workspace for arg in ("--workspace", name)]
    done = cli(dash, "users", "create", "--email", email, "--password-stdin", *args, stdin="a long password 1\n")
    assert done.returncode == 0, done.stderr


def test_forms_without_or_with_a_foreign_csrf_token_are_refused(dash: Dashboard) -> None:
    ours, _ = form_session(dash)
    _, foreign = form_session(dash)  # a token valid for somebody else's session
    for data in ({"email": EMAIL, "password": PASSWORD}, {"email": EMAIL, "password": PASSWORD, "csrf_token": foreign}):
        answer = ours.post(dash.url + "/login", data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 400
        assert "did not come from this dashboard" in answer.text
        assert "postdodo_session" not in answer.cookies or answer.cookies["postdodo_session"] == ""


def test_a_fetch_from_the_page_carries_the_token_in_a_header_and_is_accepted(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    status = page.evaluate("window.postdodo.fetch('/logout', {method: 'POST', redirect: 'manual'}).then(r => r.type)")
    assert status == "opaqueredirect"  # the 303 to the sign-in page: accepted, not a 400
    page.reload()
    assert "/login" in page.url
    refused = page.evaluate("fetch('/logout', {method: 'POST'}).then(r => r.status)")  # no token: refused
    assert refused == 400


def test_every_page_sends_a_strict_content_security_policy(dash: Dashboard) -> None:
    for path in ("/login", "/assets/dashboard.css", "/setup?token=nope"):
        headers = requests.get(dash.url + path, timeout=10).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
    cookie = requests.get(dash.url + "/login", timeout=10).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_https = requests.get(dash.url + "/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "Secure" in behind_https.headers["Set-Cookie"]


def test_another_workspaces_pages_answer_404_and_a_member_sees_only_theirs(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    mine = workspace_url(page)
    made = cli(dash, "keys", "create", "--workspace", "elsewhere", "--json")
    assert made.returncode == 0, made.stderr
    other = re.search(r'"workspace_id": "(ws_\w+)"', made.stdout)
    assert other
    for path in ("posts", "accounts", "webhooks", "settings/api", "compose"):
        answer = page.goto(f"{dash.url}/w/{other.group(1)}/{path}")
        assert answer is not None and answer.status == 404, path
    assert page.get_by_role("heading", name="Not Found").is_visible()
    assert_accessible(page)

    # a user of "elsewhere" only: their switcher lists it alone and the owner's workspace is a 404 for them
    subprocess_user(dash, "member@example.com", "elsewhere")
    page.context.clear_cookies()
    page.goto(dash.url + "/login")
    page.get_by_label("Email address").fill("member@example.com")
    page.get_by_label("Password").fill("a long password 1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/w/{other.group(1)}/posts$"))
    assert page.get_by_text("Live", exact=True).first.is_visible()
    answer = page.goto(mine + "/posts")
    assert answer is not None and answer.status == 404


def test_reset_password_from_the_cli_ends_the_users_sessions(page: Any, dash: Dashboard) -> None:
    subprocess_user(dash, "reset@example.com")
    page.goto(dash.url + "/login")
    page.get_by_label("Email address").fill("reset@example.com")
    page.get_by_label("Password").fill("a long password 1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))

    done = cli(dash, "users", "reset-password", "--email", "reset@example.com", "--password-stdin",
               stdin="another long password\n")
    assert done.returncode == 0, done.stderr

    page.reload()
    assert "/login" in page.url
    page.get_by_label("Email address").fill("reset@example.com")
    page.get_by_label("Password").fill("another long password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))


def sign_in_as(page: Any, dash: Dashboard, email: str, password: str = "a long password 1") -> None:
    """Through the sign-in form, as `email`."""
    page.goto(dash.url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))


def test_a_member_of_a_test_and_a_live_workspace_switches_between_them(page: Any, dash: Dashboard) -> None:
    assert cli(dash, "keys", "create", "--workspace", "shop-live").returncode == 0
    subprocess_user(dash, "both@example.com", "demo", "shop-live")
    sign_in_as(page, dash, "both@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    switcher = page.locator("details.switcher")
    assert "demo" in switcher.locator("summary").inner_text() and "Test" in switcher.locator("summary").inner_text()
    assert page.get_by_text("Test workspace: sandbox accounts only").is_visible()
    switcher.locator("summary").click()
    page.get_by_role("link", name="shop-live Live").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/webhooks$"))  # the same page, in the other workspace
    assert "shop-live" in page.locator("details.switcher summary").inner_text()
    assert page.get_by_text("Test workspace: sandbox accounts only").count() == 0
    assert_accessible(page)


def test_changing_the_password_signs_out_other_browsers_but_not_this_one(browser: Any, page: Any,
                                                                         dash: Dashboard) -> None:
    subprocess_user(dash, "mover@example.com")
    other = browser.new_context(base_url=dash.url)
    try:
        elsewhere = other.new_page()
        sign_in_as(elsewhere, dash, "mover@example.com")
        sign_in_as(page, dash, "mover@example.com")
        page.get_by_role("link", name="mover@example.com").click()
        assert_accessible(page)
        page.get_by_label("Current password").fill("a long password 1")
        page.get_by_label("New password", exact=True).fill("short")
        page.get_by_label("New password again").fill("short")
        page.get_by_role("button", name="Change password").click()  # the browser's minlength stops it
        assert "/account/password" in page.url and page.get_by_role("status").count() == 0

        page.get_by_label("New password", exact=True).fill("a newer long password")
        page.get_by_label("New password again").fill("a newer long password")
        page.get_by_role("button", name="Change password").click()
        assert page.get_by_text("Password changed.").is_visible()

        elsewhere.reload()
        assert "/login" in elsewhere.url  # that session ended
        page.get_by_role("link", name="Back to the dashboard").click()
        page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))  # this one lives on
    finally:
        other.close()

