"""The composer, posts list, calendar and post page in a real browser, against a fresh `postdodo serve`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.dashboard.browser import CSPWatch, Dashboard, assert_accessible, screenshot, sign_in, workspace_url
from tests.support.server import wait_until

NEW_YORK = "America/New_York"


def api(dash: Dashboard, method: str, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
    """A call to the server's API with the demo workspace's key (or `key`)."""
    return requests.request(method, dash.url + path, headers={"Authorization": f"Bearer {key or dash.server.key}"},
                            timeout=10, **kwargs)


def posts_with(dash: Dashboard, caption: str) -> list[dict[str, Any]]:
    """The demo workspace's posts with this caption, as the API lists them."""
    return [p for p in api(dash, "GET", "/v1/posts?limit=100").json()["data"] if p["caption"] == caption]


def compose(page: Any, *handles: str, caption: str) -> None:
    """Open the composer, pick the accounts, type the caption."""
    page.goto(workspace_url(page) + "/compose")
    for handle in handles:
        page.get_by_role("checkbox", name=re.compile(rf"\b{re.escape(handle)}\b")).check()
    page.get_by_label("Caption").fill(caption)


@pytest.fixture
def new_york(browser: Any, dash: Dashboard) -> Iterator[Any]:
    """A page in a browser whose clock is in New York (CSP watched like the shared `page`)."""
    context = browser.new_context(base_url=dash.url, viewport={"width": 1100, "height": 800}, timezone_id=NEW_YORK)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = CSPWatch(page)
    yield page
    assert watch.violations() == [], "CSP violations:\n" + "\n".join(watch.violations())
    context.close()


def test_a_caption_over_bluesky_limit_shows_the_rule_inline_and_cannot_be_submitted(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    before = len(api(dash, "GET", "/v1/posts?limit=100").json()["data"])
    compose(page, "demo_bluesky", "demo_mastodon", caption="é" * 301)  # 301 graphemes, 602 UTF-8 bytes
    problems = page.locator("#problems-caption")
    problems.get_by_text("caption is 301 characters (graphemes); Bluesky allows 300").wait_for()
    assert "Mastodon" not in problems.inner_text()  # 301 is within Mastodon's 500
    counters = page.locator("#caption-counters")
    assert "Bluesky: 301 / 300" in counters.inner_text() and "Mastodon: 301 / 500" in counters.inner_text()
    assert counters.locator("li.over").inner_text().startswith("Bluesky")
    submit = page.get_by_role("button", name="Create post")
    assert submit.is_disabled()
    assert page.get_by_label("Caption").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "composer-refused")
    page.get_by_label("Caption").press("Control+Enter")  # nothing else sends it either
    assert len(api(dash, "GET", "/v1/posts?limit=100").json()["data"]) == before

    page.get_by_label("Caption").fill("é" * 300)
    wait_until(lambda: submit.is_enabled(), timeout=15, what="the submit button to come back")
    assert page.locator("#problems-caption").inner_text().strip() == ""
    assert "Bluesky: 300 / 300" in counters.inner_text()


def test_a_post_scheduled_in_the_browsers_zone_is_on_the_calendar_until_it_is_canceled(
        new_york: Any, dash: Dashboard) -> None:
    page = new_york
    sign_in(page, dash)
    wait_until(lambda: any(c["name"] == "postdodo_tz" for c in page.context.cookies()), what="the zone cookie")
    tomorrow = (datetime.now(ZoneInfo(NEW_YORK)) + timedelta(days=1)).date()
    expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 30, tzinfo=ZoneInfo(NEW_YORK)).astimezone(UTC)

    compose(page, "demo_mastodon", caption="Launch day")
    assert page.locator("#zone-name").inner_text() == NEW_YORK
    page.get_by_label("Schedule for").check()
    page.get_by_label("Date and time").fill(f"{tomorrow.isoformat()}T09:30")
    page.get_by_text(f"Sent as {expected.strftime('%Y-%m-%d %H:%M')} UTC.").wait_for()
    assert_accessible(page)
    screenshot(page, "composer-form")
    page.get_by_role("button", name="Create post").click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    page.get_by_text(f"Scheduled for {tomorrow.isoformat()} 09:30 ({NEW_YORK}).").wait_for()  # waits for the page the click opened
    post_id = page.url.rsplit("/", 1)[1]
    stored = api(dash, "GET", f"/v1/posts/{post_id}").json()
    assert stored["scheduled_at"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ") and stored["status"] == "scheduled"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    page.get_by_role("navigation", name="Post views").get_by_role("link", name="Week").click()
    page.goto(f"{workspace_url(page)}/posts/calendar?view=week&day={tomorrow.isoformat()}")
    day = page.locator(f'td[data-date="{tomorrow.isoformat()}"]')
    chip = day.get_by_role("link", name=re.compile("Launch day"))
    assert "09:30" in chip.inner_text() and "scheduled" in chip.inner_text()
    assert_accessible(page)
    screenshot(page, "calendar-week")

    first_day = page.locator("a.day-link").first
    first_day.focus()
    first_day.press("ArrowRight")
    assert page.evaluate("document.activeElement.closest('td').dataset.date") == \
        page.locator("a.day-link").nth(1).evaluate("a => a.closest('td').dataset.date")

    page.goto(f"{workspace_url(page)}/posts/calendar?view=month&day={tomorrow.isoformat()}")
    page.locator(f'td[data-date="{tomorrow.isoformat()}"]').get_by_role("link", name=re.compile("Launch day")).wait_for()
    assert_accessible(page)
    screenshot(page, "calendar-month")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: days stack, nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(f'td[data-date="{tomorrow.isoformat()}"]').get_by_role("link", name=re.compile("Launch day")).wait_for()
    assert_accessible(page)
    screenshot(page, "calendar-phone")
    page.set_viewport_size({"width": 1100, "height": 800})

    page.locator(f'td[data-date="{tomorrow.isoformat()}"]').get_by_role("link", name=re.compile("Launch day")).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel post").click()
    page.get_by_text("Post canceled: 1 target(s) will not be published.").wait_for()  # waits for the page the click opened
    assert api(dash, "GET", f"/v1/posts/{post_id}").json()["status"] == "canceled"
    page.goto(f"{workspace_url(page)}/posts/calendar?view=week&day={tomorrow.isoformat()}")
    assert page.get_by_role("link", name=re.compile("Launch day")).count() == 0


def test_publish_now_turns_the_post_page_confirmed_with_permalinks_without_a_reload(page: Any, dash: Dashboard) -> None:
    slow = api(dash, "POST", "/v1/accounts", json={"platform": "bluesky", "mode": "sandbox", "handle": "slow.bsky",
                                                     "sandbox": {"latency_ms": 4000}})
    assert slow.status_code == 201, slow.text
    sign_in(page, dash)
    compose(page, "slow.bsky", "demo_x", caption="Live from the dashboard")
    page.get_by_role("button", name="Create post").click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    post_id = page.url.rsplit("/", 1)[1]
    page.evaluate("window.sameDocument = true")  # a reload or navigation would drop it
    assert "published" not in page.locator(".post-status").inner_text()  # slow.bsky takes 4 s

    page.locator(".post-status").get_by_text("published", exact=True).wait_for(timeout=45_000)
    assert page.evaluate("window.sameDocument") is True
    stored = api(dash, "GET", f"/v1/posts/{post_id}").json()
    assert stored["status"] == "published"
    for target in stored["targets"]:
        row = page.locator(f'tr[data-account="{target["account_id"]}"]')
        assert "confirmed" in row.inner_text()
        assert row.get_by_role("link", name=re.compile(f"View on {target['platform']}")).get_attribute("href") == target["permalink"]
        assert target["permalink"].startswith("https://")
    assert page.get_by_role("button", name="Cancel post").count() == 0
    assert_accessible(page)
    screenshot(page, "post")


def test_a_double_click_creates_one_post_and_markup_in_its_caption_stays_text(page: Any, dash: Dashboard) -> None:
    caption = "<script>window.pwned = 1</script><b>bold</b> twice?"
    sign_in(page, dash)
    compose(page, "demo_x", caption=caption)
    wait_until(lambda: page.locator("#check-state").inner_text() == "Ready.", timeout=15, what="the live check")
    page.get_by_role("button", name="Create post").dblclick()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    page.locator(".post-status").get_by_text("published", exact=True).wait_for(timeout=45_000)
    [post] = posts_with(dash, caption)
    assert page.url.endswith(post["id"])

    assert page.locator("p.caption").inner_text() == caption
    assert page.evaluate("window.pwned") is None and page.locator("main b").count() == 0
    page.get_by_role("link", name="← All posts").click()
    page.wait_for_url(re.compile(r"/posts$"))
    page.get_by_role("link", name=re.compile(re.escape("<script>window.pwned"))).first.wait_for()  # waits for the page the click opened
    assert page.evaluate("window.pwned") is None and page.locator("table.posts b").count() == 0
    assert_accessible(page)
    screenshot(page, "post-list")

    page.get_by_label("Status").select_option("published")
    page.get_by_label("Account").select_option(label="x · demo_x")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status=published"))
    rows = page.locator("table.posts tbody tr")
    assert rows.count() >= 1 and all("x" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.get_by_label("Status").select_option("canceled")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("No post matches these filters").wait_for()  # waits for the page the click opened


def test_another_workspaces_post_is_a_404_wherever_it_is_asked_for(page: Any, dash: Dashboard) -> None:
    made = subprocess.run([sys.executable, "-m", "postdodo_connect", "keys", "create", "--workspace", "theirs", "--test",
                           "--json"], env=dash.server.env, capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    theirs = json.loads(made.stdout)
    account = api(dash, "POST", "/v1/accounts", theirs["key"], json={"platform": "mastodon", "mode": "sandbox"}).json()
    post = api(dash, "POST", "/v1/posts", theirs["key"], json={"caption": "not yours", "account_ids": [account["id"]]})
    assert post.status_code == 201
    their_post = post.json()["id"]

    sign_in(page, dash)
    mine = workspace_url(page)
    for url in (f"{dash.url}/w/{theirs['workspace_id']}/posts/{their_post}", f"{mine}/posts/{their_post}",
                f"{mine}/posts/{their_post}/live", f"{dash.url}/w/{theirs['workspace_id']}/posts/calendar"):
        answer = page.goto(url)
        assert answer is not None and answer.status == 404, url
        assert "not yours" not in page.content()
    assert page.get_by_role("heading", name="Not Found").is_visible()
