"""Editing a scheduled post and the composer's versions, options, alt text and first comment, in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.dashboard import test_posts
from tests.dashboard.browser import Dashboard, assert_accessible, screenshot, sign_in, workspace_url
from tests.dashboard.test_posts import NEW_YORK, api, compose
from tests.support.server import wait_until

new_york = test_posts.new_york  # the same fixture: a browser whose clock is in New York


def _day_after_tomorrow() -> tuple[str, datetime]:
    """A day two days out in New York and 09:30 on it in UTC (the edit moves the post to 11:05 that day)."""
    day = (datetime.now(ZoneInfo(NEW_YORK)) + timedelta(days=2)).date()
    return day.isoformat(), datetime(day.year, day.month, day.day, 11, 5, tzinfo=ZoneInfo(NEW_YORK)).astimezone(UTC)


def test_a_scheduled_post_is_edited_in_the_composer_and_a_started_one_is_refused(new_york: Any, dash: Dashboard) -> None:
    page = new_york
    sign_in(page, dash)
    wait_until(lambda: any(c["name"] == "postdodo_tz" for c in page.context.cookies()), what="the zone cookie")
    day, moved = _day_after_tomorrow()
    compose(page, "demo_mastodon", caption="Before the edit")
    page.get_by_label("Schedule for").check()
    page.get_by_label("Date and time").fill(f"{day}T09:30")
    page.get_by_text("Sent as").wait_for()
    page.get_by_role("button", name="Create post").click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    post_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(rf"/posts/{post_id}/edit$"))
    assert page.get_by_label("Caption").input_value() == "Before the edit"
    assert page.get_by_label("Date and time").input_value() == f"{day}T09:30"  # in the browser's zone, as typed
    assert page.get_by_role("checkbox", name=re.compile(r"\bdemo_mastodon\b")).is_checked()
    page.get_by_label("Caption").fill("After the edit")
    page.get_by_label("Date and time").fill(f"{day}T11:05")
    page.get_by_text(f"Sent as {moved.strftime('%Y-%m-%d %H:%M')} UTC.").wait_for()
    wait_until(lambda: page.locator("#check-state").inner_text() == "Ready.", timeout=15, what="the live check")
    assert_accessible(page)
    screenshot(page, "post-edit")
    page.get_by_role("button", name="Save changes").dblclick()  # a double click edits once
    page.wait_for_url(re.compile(rf"/posts/{post_id}$"))
    page.get_by_text(f"Post updated. Scheduled for {day} 11:05 ({NEW_YORK}).").wait_for()
    assert page.locator("p.caption").inner_text() == "After the edit"
    stored = api(dash, "GET", f"/v1/posts/{post_id}").json()
    assert (stored["caption"], stored["scheduled_at"], stored["status"]) == (
        "After the edit", moved.strftime("%Y-%m-%dT%H:%M:%SZ"), "scheduled")
    events = api(dash, "GET", f"/v1/events?post_id={post_id}").json()["data"]
    assert [e["event"] for e in events].count("post.updated") == 1

    compose(page, "demo_x", caption="Out of reach")  # published at once: too late to edit
    page.get_by_role("button", name="Create post").click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    published = page.url.rsplit("/", 1)[1]
    page.locator(".post-status").get_by_text("published", exact=True).wait_for(timeout=45_000)
    assert page.get_by_role("link", name="Edit", exact=True).count() == 0
    answer = page.goto(f"{workspace_url(page)}/posts/{published}/edit")
    assert answer is not None and answer.status == 200 and page.url.endswith(f"/posts/{published}")
    page.get_by_role("alert").get_by_text(f"Post {published} can no longer be edited: it is published.").wait_for()
    assert api(dash, "GET", f"/v1/posts/{published}").json()["caption"] == "Out of reach"


def test_the_composer_sends_versions_options_alt_text_and_a_first_comment(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    compose(page, "demo_mastodon", "demo_x", caption="The same for everyone")
    assert page.locator("#version-bluesky").is_hidden()  # no Bluesky account picked: nothing to customize there
    mastodon = page.locator("#version-mastodon")
    mastodon.get_by_text("Customize for Mastodon").click()
    mastodon.get_by_label("Text for Mastodon").fill("Only for the fediverse")
    mastodon.get_by_label("Visibility").select_option("unlisted")
    page.get_by_label("Media URL 1").fill("https://example.com/dodo.png")
    page.get_by_label("Alt text 1").fill("a" * 1001)  # X takes 1000, Mastodon 1500
    page.locator("#problems-alt-0").get_by_text("alt text is 1001 characters; at most 1000 allowed").wait_for()
    assert "Mastodon" not in page.locator("#problems-alt-0").inner_text()
    submit = page.get_by_role("button", name="Create post")
    assert submit.is_disabled() and page.get_by_label("Alt text 1").get_attribute("aria-invalid") == "true"
    before = len(api(dash, "GET", "/v1/posts?limit=100").json()["data"])
    page.get_by_label("Alt text 1").press("Enter")
    assert len(api(dash, "GET", "/v1/posts?limit=100").json()["data"]) == before

    page.get_by_label("Alt text 1").fill("A dodo on a beach")
    page.get_by_label("First comment").fill("Details in the thread")
    wait_until(lambda: submit.is_enabled(), timeout=15, what="the submit button to come back")
    assert "Mastodon: 22 / 500" in mastodon.locator(".counters").inner_text()
    assert "Mastodon" not in page.locator("#caption-counters").inner_text()  # it has its own text now
    assert_accessible(page)
    screenshot(page, "composer-versions")
    submit.click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    page.locator(".post-content").get_by_text("Only for the fediverse").wait_for()  # the post page lists the versions
    assert "Details in the thread" in page.locator(".post-content").inner_text()
    assert_accessible(page)
    post = api(dash, "GET", f"/v1/posts/{page.url.rsplit('/', 1)[1]}").json()
    content = {t["platform"]: t["content"] for t in post["targets"]}
    assert content["mastodon"]["caption"] == "Only for the fediverse"
    assert content["x"]["caption"] == "The same for everyone"
    assert content["mastodon"]["options"]["visibility"] == "unlisted" and content["x"]["options"] == {
        "reply_settings": None}
    assert content["x"]["media"] == [{"type": "image", "url": "https://example.com/dodo.png", "alt": "A dodo on a beach"}]
    assert post["first_comment"] == "Details in the thread"
