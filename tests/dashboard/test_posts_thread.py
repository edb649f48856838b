"""The composer's Thread section and a post page's thread progress in a real browser, against `postdodo serve`."""

from __future__ import annotations

import re
from typing import Any

from tests.dashboard.browser import Dashboard, assert_accessible, screenshot, sign_in
from tests.dashboard.test_posts import api, compose
from tests.support.server import wait_until


def test_a_thread_composed_in_the_browser_is_published_item_by_item_on_the_live_post_page(
        page: Any, dash: Dashboard) -> None:
    slow = api(dash, "POST", "/v1/accounts", json={"platform": "mastodon", "mode": "sandbox", "handle": "slow.masto",
                                                     "sandbox": {"latency_ms": 1500}})
    assert slow.status_code == 201, slow.text
    sign_in(page, dash)
    compose(page, "slow.masto", caption="1/3 Our spring menu is here.")
    page.get_by_role("button", name="Add thread item").wait_for()  # the page's script offers more boxes
    page.get_by_label("Thread item 1", exact=True).fill("2/3 Rhubarb tart is back.")
    page.get_by_label("Thread item 2", exact=True).fill("3/3 See you Saturday!")
    page.get_by_label("Media URL for item 2").fill("https://example.com/tart.png")
    page.get_by_label("Alt text for item 2").fill("A rhubarb tart")
    page.locator('[data-thread-counter="1"]').get_by_text("Mastodon: 21 / 500").wait_for()
    submit = page.get_by_role("button", name="Create post")
    wait_until(lambda: page.locator("#check-state").inner_text() == "Ready.", timeout=15, what="the live check")
    submit.click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    post_id = page.url.rsplit("/", 1)[1]
    page.evaluate("window.sameDocument = true")  # a reload or navigation would drop it
    progress = page.locator("tr.thread-row .thread-progress")
    assert "Thread 2 of 2 published" not in progress.inner_text()  # each of the three posts takes 1.5 s

    progress.get_by_text("Thread 2 of 2 published").wait_for(timeout=45_000)
    assert page.evaluate("window.sameDocument") is True
    [target] = api(dash, "GET", f"/v1/posts/{post_id}").json()["targets"]
    assert target["thread"]["status"] == "published" and target["thread"]["published"] == 2
    items = page.locator("ol.thread-progress-items li")
    for n, item in enumerate(target["thread"]["items"], start=1):
        assert item["permalink"].startswith("https://")
        link = items.nth(n - 1).get_by_role("link", name=f"View item {n} on mastodon")
        assert link.get_attribute("href") == item["permalink"]
        assert "published" in items.nth(n - 1).inner_text()
    assert target["content"]["thread"][1]["media"] == [
        {"type": "image", "url": "https://example.com/tart.png", "alt": "A rhubarb tart"}]
    assert_accessible(page)
    screenshot(page, "post-thread")


def test_an_item_over_the_limit_is_refused_beside_it_and_the_form_cannot_be_sent(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    before = len(api(dash, "GET", "/v1/posts?limit=100").json()["data"])
    compose(page, "demo_mastodon", "demo_bluesky", caption="A thread in four parts")
    page.get_by_label("Thread item 1", exact=True).fill("Part two")
    page.get_by_label("Thread item 2", exact=True).fill("Part three")
    page.get_by_label("Thread item 3", exact=True).fill("Part four")
    page.get_by_role("button", name="Add thread item").click()
    fourth = page.get_by_label("Thread item 4", exact=True)
    assert fourth.evaluate("el => el === document.activeElement")
    fourth.fill("b" * 301)  # within Mastodon's 500, over Bluesky's 300
    problems = page.locator("#problems-thread-3")
    problems.get_by_text("caption is 301 characters (graphemes); Bluesky allows 300").wait_for()
    assert "Mastodon" not in problems.inner_text() and page.locator("#problems-thread-2").inner_text().strip() == ""
    assert fourth.get_attribute("aria-invalid") == "true"
    assert "Bluesky: 301 / 300" in page.locator('[data-thread-counter="3"]').inner_text()
    submit = page.get_by_role("button", name="Create post")
    assert submit.is_disabled()
    assert_accessible(page)
    screenshot(page, "composer-thread")
    fourth.press("Control+Enter")
    assert len(api(dash, "GET", "/v1/posts?limit=100").json()["data"]) == before

    page.get_by_role("button", name="Remove thread item 2").click()  # the others move up, the refusal with them
    page.locator("#problems-thread-2").get_by_text("Bluesky allows 300").wait_for()
    assert page.get_by_label("Thread item 3", exact=True).input_value() == "b" * 301
    assert page.get_by_label("Thread item 2", exact=True).input_value() == "Part four"
    assert page.get_by_label("Thread item 4", exact=True).count() == 0
    page.get_by_label("Thread item 3", exact=True).fill("Part five")
    wait_until(lambda: submit.is_enabled(), timeout=15, what="the submit button to come back")
    submit.click()
    page.wait_for_url(re.compile(r"/posts/post_\w+$"))
    post = api(dash, "GET", f"/v1/posts/{page.url.rsplit('/', 1)[1]}").json()
    assert [item["caption"] for item in post["thread"]] == ["Part two", "Part four", "Part five"]
