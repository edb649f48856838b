"""The posts pages through Flask's test client, on SQLite and PostgreSQL: composer, list, calendar, post page."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from postdodo_connect.dashboard.posts import POLL_FAST_MS, POLL_SLOW_MS, poll_after_ms
from postdodo_connect.storage import users
from tests.support.factory import Api, FakeClock, make_api

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # a Wednesday
PASSWORD = "correct horse battery"


@dataclass
class Site:
    """The app, a signed-in browser-like client, its workspace, API key and a sandbox Bluesky account."""

    api: Api
    client: FlaskClient
    workspace: str
    key: str
    bluesky: str
    clock: FakeClock

    def page(self, path: str, **kwargs: Any) -> Any:
        """GET a page of the workspace."""
        return self.client.get(f"/w/{self.workspace}{path}", **kwargs)

    def csrf(self) -> str:
        """The session's CSRF token, as the page's meta tag carries it."""
        found = re.search(r'name="csrf-token" content="([^"]+)"', self.page("/posts").get_data(as_text=True))
        assert found
        return found.group(1)

    def form(self, **fields: Any) -> dict[str, Any]:
        """A filled composer form, with a key fresh from a rendered composer."""
        page = self.page("/compose").get_data(as_text=True)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
        assert key
        data: dict[str, Any] = {"csrf_token": self.csrf(), "idempotency_key": key.group(1), "caption": "hello",
                                "account_ids": [self.bluesky], "when": "now", "media_url": [""] * 4,
                                "media_type": ["image"] * 4, "timezone": "UTC"}
        data.update(fields)
        return data

    def posts(self) -> list[dict[str, Any]]:
        """Every post of the workspace, as the API lists them."""
        answer = self.api.call("GET", "/v1/posts?limit=100", self.key)
        assert answer.status_code == 200
        return list(answer.get_json()["data"])


def sign_in(api: Api, email: str, workspace: str) -> FlaskClient:
    """A test client signed in as a new member of `workspace`."""
    with api.db.write() as conn:
        user = users.create_user(conn, email, PASSWORD)
        users.add_membership(conn, user["id"], workspace, "owner")
    client = api.app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    answer = client.post("/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD})
    assert answer.status_code == 303
    return client


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Site:
    """A fresh app on each database, its clock at NOW."""
    url = f"sqlite:///{tmp_path / 'dash.db'}" if request.param == "sqlite" else pg_url
    clock = FakeClock(NOW)
    api = make_api(url, clock=clock)
    request.addfinalizer(api.db.dispose)
    key = api.new_key("main")
    bluesky = api.sandbox_account(key, "bluesky", handle="dodo.bsky")["id"]
    with api.db.read() as conn:
        workspace = conn.exec_driver_sql("SELECT id FROM workspaces").scalar_one()
    return Site(api, sign_in(api, "owner@example.com", workspace), workspace, key, bluesky, clock)


def problems_in(html: str, slot: str) -> str:
    """The text of one field's problem box on a rendered form."""
    found = re.search(rf'<div id="problems-{slot}"[^>]*>(.*?)</div>', html, re.S)
    assert found, slot
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_an_over_limit_caption_is_refused_beside_the_caption_by_the_apis_rule_and_nothing_is_stored(site: Site) -> None:
    form = site.form(caption="é" * 301)
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form)
    assert checked.status_code == 200
    answer = checked.get_json()
    assert answer["valid"] is False
    assert [(p["slot"], p["rule"]) for p in answer["problems"]] == [("caption", "bluesky.caption.max_graphemes")]
    assert answer["counters"] == [{"platform": "bluesky", "label": "Bluesky", "length": 301, "limit": 300,
                                   "unit": "characters (graphemes)", "over": True}]
    # the API's dry run says the same thing for the same post
    api = site.api.call("POST", "/v1/posts/validate", site.key, json={"caption": "é" * 301, "account_ids": [site.bluesky]})
    assert [d["message"] for d in api.get_json()["details"]] == [p["message"] for p in answer["problems"]]

    refused = site.client.post(f"/w/{site.workspace}/compose", data=form)  # no JavaScript: the server refuses
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Bluesky: caption is 301 characters (graphemes); Bluesky allows 300" in problems_in(html, "caption")
    assert "é" * 301 in html  # the draft is kept for fixing
    assert site.posts() == []


def test_problems_land_beside_the_field_they_concern(site: Site) -> None:
    form = site.form(caption="", account_ids=[], media_url=["", "ftp://example.com/a.png", "", ""], when="later",
                     scheduled_local="")
    html = site.client.post(f"/w/{site.workspace}/compose", data=form).get_data(as_text=True)
    assert "pick a date and time" in problems_in(html, "when")
    form["when"] = "now"
    html = site.client.post(f"/w/{site.workspace}/compose", data=form).get_data(as_text=True)
    assert "Accounts: needs at least 1 item" in problems_in(html, "accounts")
    assert "http(s)" in problems_in(html, "media-1")  # the second row: the one that holds the bad URL
    assert problems_in(html, "media-0") == ""
    form = site.form(when="later", scheduled_local="2026-07-01T11:00")  # an hour ago
    html = site.client.post(f"/w/{site.workspace}/compose", data=form).get_data(as_text=True)
    assert "is in the past" in problems_in(html, "when")
    assert site.posts() == []


def test_the_schedule_is_read_in_the_browsers_zone_and_stored_in_utc(site: Site) -> None:
    form = site.form(when="later", scheduled_local="2026-07-03T09:30", timezone="America/New_York")
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    assert checked["valid"] and checked["scheduled_at"] == "2026-07-03T13:30:00Z"
    created = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert created.status_code == 303
    [post] = site.posts()
    assert created.headers["Location"].endswith(f"/posts/{post['id']}")
    assert post["scheduled_at"] == "2026-07-03T13:30:00Z" and post["status"] == "scheduled"


def test_one_form_render_creates_one_post_however_often_it_is_sent(site: Site) -> None:
    form = site.form(caption="only once")
    session = site.client.get_cookie("postdodo_session")
    assert session is not None
    clients = []
    for _ in range(3):  # three copies of the signed-in browser sending the same form at once
        client = site.api.app.test_client()
        client.set_cookie("postdodo_session", session.value)
        clients.append(client)
    locations: list[str] = []
    threads = [threading.Thread(target=lambda c=c: locations.append(
        c.post(f"/w/{site.workspace}/compose", data=form).headers.get("Location", ""))) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    again = site.client.post(f"/w/{site.workspace}/compose", data=form)
    [post] = site.posts()
    assert set(locations) == {again.headers["Location"]} and again.headers["Location"].endswith(post["id"])

    # the same key with other content (back, edit, send): nothing new, and a fresh form to send it with
    edited = site.client.post(f"/w/{site.workspace}/compose", data={**form, "caption": "edited"})
    assert edited.status_code == 409
    assert "already sent with different content" in edited.get_data(as_text=True)
    assert f'value="{form["idempotency_key"]}"' not in edited.get_data(as_text=True)
    assert len(site.posts()) == 1


def test_the_live_check_needs_the_session_and_its_csrf_token(site: Site) -> None:
    form = site.form()
    assert site.client.post(f"/w/{site.workspace}/compose/check", data={**form, "csrf_token": "forged"}).status_code == 400
    stranger = site.api.app.test_client()
    refused = stranger.post(f"/w/{site.workspace}/compose/check", data=form)  # no session: its token is foreign
    assert refused.status_code == 400 and refused.get_json(silent=True) is None


def _post(site: Site, caption: str, at: datetime | None = None, account: str | None = None) -> str:
    body: dict[str, Any] = {"caption": caption, "account_ids": [account or site.bluesky]}
    if at:
        body["scheduled_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = site.api.call("POST", "/v1/posts", site.key, json=body)
    assert answer.status_code == 201, answer.get_json()
    site.clock.advance(1)  # the list is newest first: one post a second keeps the order known
    return str(answer.get_json()["id"])


def test_the_list_filters_by_status_account_and_dates_and_pages(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon")["id"]
    first = _post(site, "tomorrow on bluesky", NOW + timedelta(days=1))
    second = _post(site, "next week on mastodon", NOW + timedelta(days=7), mastodon)
    third = _post(site, "now on bluesky")
    site.api.call("DELETE", f"/v1/posts/{first}", site.key)

    def listed(query: str = "") -> list[str]:
        html = site.page(f"/posts{query}").get_data(as_text=True)
        return re.findall(r"/posts/(post_\w+)\"", html)

    assert listed() == [third, second, first]
    assert listed("?status=canceled") == [first]
    assert listed(f"?account={mastodon}") == [second]
    assert listed("?since=2026-07-02&until=2026-07-02") == [first]
    assert listed("?since=2026-07-03") == [second]
    assert listed("?until=2026-07-01") == [third]

    assert "Older posts" not in site.page("/posts").get_data(as_text=True)
    for index in range(21):
        _post(site, f"filler {index}")
    html = site.page("/posts").get_data(as_text=True)
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)[^"]*">Older posts', html)
    assert cursor
    older = site.page(f"/posts?cursor={cursor.group(1)}").get_data(as_text=True)
    assert len(re.findall(r"/posts/(post_\w+)\"", older)) == 24 - 20 and "← Newest" in older

    bad = site.page("/posts?since=yesterday")
    assert bad.status_code == 400 and "since: &#39;yesterday&#39; is not a date" in bad.get_data(as_text=True)
    assert site.page("/posts?cursor=forged").status_code == 400
    assert site.page("/posts?status=lost").status_code == 400


def test_the_calendar_puts_posts_on_the_browsers_day_and_leaves_canceled_ones_out(site: Site) -> None:
    late = _post(site, "late evening in New York", datetime(2026, 7, 3, 2, 30, tzinfo=UTC))  # 2 July, 22:30 there
    canceled = _post(site, "called off", datetime(2026, 7, 2, 15, 0, tzinfo=UTC))
    site.api.call("DELETE", f"/v1/posts/{canceled}", site.key)
    site.client.set_cookie("postdodo_tz", "America/New_York")

    def day_of(html: str, post_id: str) -> str | None:
        for cell in re.findall(r'<td [^>]*data-date="([\d-]+)">(.*?)</td>', html, re.S):
            if post_id in cell[1]:
                return str(cell[0])
        return None

    month = site.page("/posts/calendar").get_data(as_text=True)
    assert "July 2026" in month and "Times in America/New_York" in month
    assert day_of(month, late) == "2026-07-02" and ">22:30<" in month
    assert canceled not in month
    week = site.page("/posts/calendar?view=week&day=2026-07-05").get_data(as_text=True)
    assert day_of(week, late) == "2026-07-02" and 'data-date="2026-06-29"' in week and 'data-date="2026-07-05"' in week
    site.client.set_cookie("postdodo_tz", "UTC")
    assert day_of(site.page("/posts/calendar?view=week").get_data(as_text=True), late) == "2026-07-03"
    site.client.set_cookie("postdodo_tz", "../../etc/passwd")  # not a zone name: UTC, never a file lookup
    assert "Times in UTC" in site.page("/posts/calendar").get_data(as_text=True)

    nothing = site.page("/posts/calendar?view=month&day=2026-09-01").get_data(as_text=True)
    assert "No posts this month" in nothing and 'data-date="2026-08-31"' in nothing  # the Monday before the 1st
    assert site.page("/posts/calendar?view=year").status_code == 400
    assert site.page("/posts/calendar?day=31-12-2026").status_code == 400


def test_a_post_page_shows_each_target_and_another_workspaces_post_is_a_404(site: Site) -> None:
    post_id = _post(site, "<script>alert(1)</script>", NOW + timedelta(minutes=10))
    page = site.page(f"/posts/{post_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "dodo.bsky" in html and 'data-countdown="2026-07-01T12:10:00Z"' in html
    live = site.page(f"/posts/{post_id}/live").get_json()
    assert live["status"] == "scheduled" and live["poll_ms"] == POLL_SLOW_MS and "dodo.bsky" in live["html"]

    other_key = site.api.new_key("other")
    theirs = site.api.call("POST", "/v1/posts", other_key, json={
        "caption": "theirs", "account_ids": [site.api.sandbox_account(other_key)["id"]]}).get_json()["id"]
    with site.api.db.read() as conn:
        their_ws = conn.exec_driver_sql("SELECT id FROM workspaces WHERE name = 'other'").scalar_one()
    assert site.page(f"/posts/{theirs}").status_code == 404  # their post under our workspace
    assert site.page(f"/posts/{theirs}/live").status_code == 404
    assert site.client.get(f"/w/{their_ws}/posts/{theirs}").status_code == 404  # their workspace
    assert site.client.post(f"/w/{site.workspace}/posts/{theirs}/cancel", data={"csrf_token": site.csrf()}).status_code == 404


def test_cancel_stops_the_post_once_and_says_so_the_second_time(site: Site) -> None:
    post_id = _post(site, "maybe later", NOW + timedelta(hours=2))
    here = f"/w/{site.workspace}/posts/{post_id}"
    assert site.client.post(here + "/cancel").status_code == 400  # no CSRF token: refused, nothing changed
    assert site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()["status"] == "scheduled"
    done = site.client.post(here + "/cancel", data={"csrf_token": site.csrf()}, follow_redirects=True)
    assert "Post canceled: 1 target(s)" in done.get_data(as_text=True)
    assert "Cancel post" not in done.get_data(as_text=True)
    assert site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()["status"] == "canceled"
    again = site.client.post(here + "/cancel", data={"csrf_token": site.csrf()}, follow_redirects=True)
    assert "has no target left to cancel" in again.get_data(as_text=True)


def test_the_page_polls_fast_while_publishing_and_stops_when_every_target_is_final() -> None:
    def post(*targets: tuple[str, datetime | None]) -> dict[str, Any]:
        return {"targets": [{"status": s, "next_attempt_at": at} for s, at in targets]}

    assert poll_after_ms(post(("confirmed", None), ("failed", None)), NOW) == 0
    assert poll_after_ms(post(("confirmed", None), ("publishing", None)), NOW) == POLL_FAST_MS
    assert poll_after_ms(post(("retrying", NOW + timedelta(seconds=8))), NOW) == 8000
    assert poll_after_ms(post(("scheduled", NOW + timedelta(days=2))), NOW) == POLL_SLOW_MS
    assert poll_after_ms(post(("scheduled", NOW - timedelta(seconds=1))), NOW) == POLL_FAST_MS
