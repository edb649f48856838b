"""The dashboard's pages as a person clicks them: keys that work on the API, sandbox accounts, webhooks."""

from __future__ import annotations

import re
from typing import Any

import requests

from postdodo_connect import signing
from tests.dashboard.browser import Dashboard, assert_accessible, screenshot, sign_in, workspace_url
from tests.dashboard.receiver import local_receiver
from tests.support.server import wait_until


def api(dash: Dashboard, key: str, path: str = "/v1/accounts") -> requests.Response:
    """A call to the server's API with `key`."""
    return requests.get(dash.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_a_key_created_in_settings_works_on_the_api_and_rotation_stops_the_old_one(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings → API").click()
    page.get_by_role("button", name="Create a key").click()
    key = page.get_by_label("New API key").inner_text().strip()
    assert key.startswith("pd_test_")
    assert page.get_by_role("button", name="Copy").is_visible()
    assert_accessible(page)

    assert api(dash, key).status_code == 200
    settings = workspace_url(page) + "/settings/api"
    page.goto(settings)  # the list, without the key this time
    assert key not in page.content()
    hint = f"pd_test_…{key[-4:]}"
    row = page.get_by_role("row").filter(has_text=hint)
    assert "Never" not in row.inner_text()  # "last used" moved when the API saw the key
    screenshot(page, "api-keys")

    row.get_by_text("Rotate or revoke").click()
    page.get_by_role("button", name=f"Rotate {hint}").click()  # the required box is not ticked: nothing happens
    assert api(dash, key).status_code == 200
    page.get_by_label(f"I understand {hint} stops at once").check()
    page.get_by_role("button", name=f"Rotate {hint}").click()
    new_key = page.get_by_label("New API key").inner_text().strip()
    assert new_key != key
    assert page.get_by_text(f"The old key {hint} has stopped working").is_visible()
    assert api(dash, key).status_code == 401
    assert api(dash, new_key).status_code == 200

    new_hint = f"pd_test_…{new_key[-4:]}"
    page.goto(settings)
    page.get_by_role("row").filter(has_text=new_hint).get_by_text("Rotate or revoke").click()
    page.once("dialog", lambda dialog: dialog.accept())  # dashboard.js asks before revoking
    page.get_by_role("button", name=f"Revoke {new_hint}").click()
    assert page.get_by_text(f"Key {new_hint} is revoked").is_visible()
    assert api(dash, new_key).status_code == 401


def test_a_sandbox_account_added_in_the_dashboard_is_on_the_api_and_markup_in_it_stays_text(
        page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    page.goto(workspace_url(page) + "/accounts")
    assert page.get_by_role("heading", name="Connect an account").is_visible()
    assert_accessible(page)
    page.get_by_label("Platform").select_option("bluesky")
    page.get_by_label("Handle").fill("dodo.bsky")
    page.get_by_label("Display name").fill("<script>window.pwned = 1</script><b>bold</b>")
    page.get_by_role("button", name="Add sandbox account").click()

    assert page.get_by_text("Sandbox bluesky account dodo.bsky added.").is_visible()
    row = page.get_by_role("row").filter(has_text="dodo.bsky")
    assert "<script>window.pwned = 1</script><b>bold</b>" in row.inner_text()  # shown as typed, never run
    assert page.evaluate("window.pwned") is None
    assert page.locator("td b").count() == 0
    screenshot(page, "accounts")
    listed = api(dash, dash.server.key or "").json()["data"]
    assert [a["platform"] for a in listed if a["handle"] == "dodo.bsky"] == ["bluesky"]

    page.get_by_label("Handle").fill("not a handle!")
    page.get_by_role("button", name="Add sandbox account").click()
    assert page.get_by_role("alert").filter(has_text="handle may use letters").is_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disconnect bluesky dodo.bsky").click()
    assert page.get_by_text("bluesky account dodo.bsky disconnected.").is_visible()
    assert not [a for a in api(dash, dash.server.key or "").json()["data"] if a["handle"] == "dodo.bsky"]


def test_a_webhook_made_in_the_dashboard_delivers_a_signed_test_event_and_redelivers_it(
        page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    page.goto(workspace_url(page) + "/webhooks")
    assert_accessible(page)
    with local_receiver() as received:
        page.get_by_label("URL").fill(received.url)
        page.get_by_label("Description").fill("local <em>receiver</em>")
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.get_by_label("The new signing secret").inner_text().strip()
        assert secret.startswith("whsec_")

        with page.expect_navigation():  # the form posts, then lands on the endpoint page again
            page.get_by_role("button", name="Send a test event").click()
        wait_until(lambda: received.requests, timeout=30, what="the test delivery")
        headers, body = received.requests[0]
        verified = signing.verify(secret, headers, body)
        assert verified.event_id.startswith("evt_")

        def logged_200() -> bool:
            page.reload()
            return page.get_by_role("row").filter(has_text="webhook.test").filter(has_text="delivered").count() == 1

        wait_until(logged_200, timeout=30, interval=0.3, what="the delivery log to show the 2xx")
        row = page.get_by_role("row").filter(has_text="webhook.test")
        assert "200" in row.inner_text() and "ms" in row.inner_text()
        assert '{"thanks": "received"}' in row.inner_text()
        assert_accessible(page)
        screenshot(page, "webhook-endpoint")

        row.get_by_role("button", name=f"Redeliver {verified.event_id}").click()
        assert page.get_by_text(f"Event {verified.event_id} queued for redelivery.").is_visible()
        wait_until(lambda: len(received.requests) == 2, timeout=30, what="the redelivery")
        assert signing.verify(secret, *received.requests[1]).event_id == verified.event_id

        page.get_by_role("button", name="Disable").click()
        assert page.get_by_text("Endpoint disabled").is_visible()
        assert page.get_by_role("button", name="Send a test event").count() == 0
        page.get_by_role("button", name="Enable").click()
        assert page.get_by_text("Endpoint enabled").is_visible()

    page.get_by_role("link", name="← All webhooks").click()
    assert page.get_by_text("local <em>receiver</em>").is_visible()
    screenshot(page, "webhooks")
    page.get_by_role("link", name=received.url).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete endpoint").click()
    assert page.get_by_text(f"Endpoint {received.url} deleted").is_visible()
    assert page.get_by_role("link", name=received.url).count() == 0
    assert [e for e in api(dash, dash.server.key or "", "/v1/webhooks").json()["data"] if e["url"] == received.url] == []


def test_a_refused_webhook_url_is_explained_and_nothing_is_stored(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    page.goto(workspace_url(page) + "/webhooks")
    before = page.get_by_role("row").count()
    page.get_by_label("URL").fill("ftp://example.com/hook")
    page.get_by_role("button", name="Add endpoint").click()
    assert page.get_by_role("alert").is_visible()
    assert re.search(r"http", page.get_by_role("alert").inner_text())
    assert page.get_by_role("row").count() == before


def test_the_posts_and_composer_pages_open_from_the_navigation_and_pass_the_accessibility_check(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    for label, name in (("Posts", "posts"), ("Composer", "composer")):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        assert page.get_by_role("heading", name=label).is_visible()
        assert_accessible(page)
        screenshot(page, name)
    page.context.clear_cookies()
    page.goto(dash.url + "/login")
    assert_accessible(page)
    screenshot(page, "sign-in")


def test_every_page_fits_a_phone_and_the_keyboard_reaches_the_content_first(page: Any, dash: Dashboard) -> None:
    sign_in(page, dash)
    base = workspace_url(page)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/posts", "/compose", "/accounts", "/webhooks", "/settings/api"):
        page.goto(base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    screenshot(page, "phone")
