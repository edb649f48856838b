"""The composer's Thread section and a post page's thread progress, through Flask's test client on SQLite and
PostgreSQL (the browser flows are in test_posts_thread.py)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from postdodo_connect.dashboard.posts import POLL_FAST_MS, poll_after_ms
from postdodo_connect.storage.schema import targets
from tests.dashboard import test_posts_views
from tests.dashboard.test_posts_edit_views import edit_form, scheduled
from tests.dashboard.test_posts_views import NOW, Site, problems_in

site = test_posts_views.site  # the same fixture: a signed-in app on SQLite and on PostgreSQL


def thread_boxes(*captions: str, **extra: Any) -> dict[str, Any]:
    """Form fields of thread item boxes as a browser without JavaScript sends them (a media row each)."""
    fields: dict[str, Any] = {}
    for i, caption in enumerate(captions):
        fields |= {f"thread.{i}.caption": caption, f"thread.{i}.media_url": "", f"thread.{i}.media_type": "image",
                   f"thread.{i}.media_alt": ""}
    return fields | extra


def test_the_composer_draws_three_empty_thread_boxes_without_javascript(site: Site) -> None:
    html = site.page("/compose").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'name="thread\.(\d+)\.caption"', html)] == [0, 1, 2]
    assert len(re.findall(r'name="thread\.\d+\.media_url"', html)) == 3
    assert '<label for="thread-1-caption">Thread item <span class="thread-n">2</span></label>' in html
    assert re.search(r'<button type="button" id="thread-add" hidden>', html)  # only the page's script adds boxes


def test_thread_items_reach_the_post_in_order_and_empty_boxes_are_dropped(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon")["id"]
    form = site.form(caption="1/3 Spring menu", account_ids=[mastodon], **thread_boxes(
        "", "2/3 Rhubarb tart", "   ", "3/3 See you Saturday", **{
            "thread.3.media_url": "https://example.com/tart.png", "thread.3.media_alt": "A rhubarb tart"}))
    created = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert created.status_code == 303, problems_in(created.get_data(as_text=True), "form")
    [post] = site.posts()
    expected = [{"caption": "2/3 Rhubarb tart", "media": []}, {"caption": "3/3 See you Saturday", "media": [
        {"type": "image", "url": "https://example.com/tart.png", "alt": "A rhubarb tart"}]}]
    assert post["thread"] == expected
    assert post["targets"][0]["content"]["thread"] == expected
    assert post["targets"][0]["thread"]["total"] == 2
    page = site.client.get(created.headers["Location"]).get_data(as_text=True)
    assert "2/3 Rhubarb tart" in page and "3/3 See you Saturday" in page  # the post page lists the thread

    site.client.post(f"/w/{site.workspace}/compose", data=site.form(
        caption="no thread", account_ids=[mastodon], **thread_boxes("", " ", "")))
    assert [p["thread"] for p in site.posts() if p["caption"] == "no thread"] == [None]


def test_an_item_over_the_limit_is_refused_beside_that_item_and_nothing_is_stored(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon")["id"]
    form = site.form(caption="first", account_ids=[mastodon], **thread_boxes("", "fine", "a" * 501))
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    assert checked["valid"] is False
    assert [(p["slot"], p["rule"], p["label"]) for p in checked["problems"]] == [
        ("thread-2", "mastodon.caption.max_length", "Mastodon")]
    assert [(c["item"], c["length"], c["limit"], c["over"]) for c in checked["thread_counters"]] == [
        (1, 4, 500, False), (2, 501, 500, True)]
    refused = site.client.post(f"/w/{site.workspace}/compose", data=form)  # no JavaScript: the server refuses
    assert refused.status_code == 400 and site.posts() == []
    html = refused.get_data(as_text=True)
    assert "Mastodon allows 500" in problems_in(html, "thread-2") and problems_in(html, "thread-1") == ""
    assert re.search(r'name="thread\.2\.caption"[^>]*aria-invalid="true"', html)
    assert "a" * 501 + "</textarea>" in html  # the draft is kept for fixing
    assert "501 / 500" in html


def test_an_items_media_and_alt_text_problems_land_beside_that_items_media(site: Site) -> None:
    x = site.api.sandbox_account(site.key, "x")["id"]
    form = site.form(caption="first", account_ids=[x], **thread_boxes("", "second", "third", **{
        "thread.1.media_url": "https://example.com/a.png", "thread.1.media_alt": "a" * 1001,
        "thread.2.media_url": "ftp://example.com/b.png"}))
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    assert {p["slot"] for p in checked["problems"]} == {"thread-2-media"}  # the model refuses before any platform
    form["thread.2.media_url"] = ""
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    assert [(p["slot"], p["rule"]) for p in checked["problems"]] == [("thread-1-alt", "x.media.alt_max_length")]
    refused = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert refused.status_code == 400 and site.posts() == []
    assert "at most 1000 allowed" in problems_in(refused.get_data(as_text=True), "thread-1-alt")


def test_a_thread_to_a_platform_without_threads_is_refused_with_its_rule(site: Site) -> None:
    form = site.form(caption="first", **thread_boxes("second"))  # the site's Bluesky account threads
    assert site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()["valid"] is True
    facebook = site.api.sandbox_account(site.key, "facebook")["id"]
    form = site.form(caption="first", account_ids=[site.bluesky, facebook], **thread_boxes("second"))
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    assert [(p["slot"], p["rule"]) for p in checked["problems"]] == [("thread", "facebook.thread.unsupported")]
    refused = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert refused.status_code == 400 and site.posts() == []
    assert "Facebook Page has no threads" in problems_in(refused.get_data(as_text=True), "thread")

    conflict = site.form(caption="first", first_comment="and a comment", **thread_boxes("second"))
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=conflict).get_json()
    assert [(p["slot"], p["rule"]) for p in checked["problems"]] == [
        ("first_comment", "post.thread.first_comment_conflict")]


def test_the_thread_form_needs_the_sessions_csrf_token(site: Site) -> None:
    form = site.form(caption="first", **thread_boxes("second"))
    for token in (None, "forged"):
        data = {k: v for k, v in form.items() if k != "csrf_token"} | ({"csrf_token": token} if token else {})
        assert site.client.post(f"/w/{site.workspace}/compose", data=data).status_code == 400
        assert site.client.post(f"/w/{site.workspace}/compose/check", data=data).status_code == 400
    assert site.posts() == []


def test_the_edit_page_fills_the_thread_and_saves_a_changed_one(site: Site) -> None:
    mastodon, x = (site.api.sandbox_account(site.key, name)["id"] for name in ("mastodon", "x"))
    post_id = scheduled(site, "1/2", mastodon, x, thread=[
        {"caption": "2/2 as first written", "media": [{"url": "https://example.com/a.png", "alt": "A dodo"}]}],
        platforms={"x": {"thread": []}})
    html = site.page(f"/posts/{post_id}/edit").get_data(as_text=True)
    assert re.search(r'name="thread\.0\.caption"[^>]*>2/2 as first written</textarea>', html)
    assert re.search(r'name="thread\.0\.media_url"[^>]* value="https://example\.com/a\.png"', html)
    assert re.search(r'name="thread\.0\.media_alt"[^>]*>A dodo</textarea>', html)
    assert [int(i) for i in re.findall(r'name="thread\.(\d+)\.caption"', html)] == [0, 1, 2]

    form = edit_form(site, post_id) | thread_boxes("2/3 rewritten", "", "3/3 added", **{
        "thread.0.media_url": "https://example.com/a.png", "thread.0.media_alt": "A dodo on a beach"})
    saved = site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=form)
    assert saved.status_code == 303, problems_in(saved.get_data(as_text=True), "form")
    post = site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()
    assert post["thread"] == [
        {"caption": "2/3 rewritten", "media": [{"type": "image", "url": "https://example.com/a.png",
                                                "alt": "A dodo on a beach"}]},
        {"caption": "3/3 added", "media": []}]
    threads = {t["platform"]: t.get("thread") for t in post["targets"]}
    assert threads["mastodon"]["total"] == 2 and threads["x"] is None
    assert post["platforms"]["x"]["thread"] == []  # set through the API only: the edit keeps it

    cleared = edit_form(site, post_id) | thread_boxes("", "", "", "")
    assert site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=cleared).status_code == 303
    post = site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()
    assert post["thread"] is None and all("thread" not in t for t in post["targets"])


def test_the_post_page_shows_each_items_progress_permalink_and_error(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon", handle="dodo@example.social")["id"]
    post_id = scheduled(site, "1/3", mastodon, thread=[{"caption": "2/3"}, {"caption": "3/3"}])
    html = site.page(f"/posts/{post_id}").get_data(as_text=True)
    assert "Thread 0 of 2 published" in html
    items = [{"status": "published", "platform_post_id": "1002", "permalink": "https://example.social/@dodo/1002"},
             {"status": "failed", "error": {"code": "rejected", "message": "the instance refused the reply",
                                            "retryable": False}}]
    with site.api.db.write() as conn:
        conn.execute(update(targets).where(targets.c.post_id == post_id).values(
            status="confirmed", permalink="https://example.social/@dodo/1001", platform_post_id="1001",
            next_attempt_at=None, thread={"status": "failed", "items": items}))
    live = site.page(f"/posts/{post_id}/live").get_json()
    assert live["poll_ms"] == 0  # the thread is done (failed): nothing more to follow
    row = re.search(r'<tr class="thread-row"[^>]*>(.*?)</tr>', live["html"], re.S)
    assert row, live["html"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1)))
    assert "Thread 1 of 2 published failed" in text
    assert "Item 1: published View item 1 on mastodon (opens in a new tab) id 1002" in text
    assert "Item 2: failed rejected the instance refused the reply" in text
    assert 'href="https://example.social/@dodo/1002"' in row.group(1)
    assert site.page(f"/posts/{post_id}").get_data(as_text=True).count('class="thread-row"') == 1


def test_the_page_keeps_polling_while_a_confirmed_targets_thread_is_pending() -> None:
    def post(thread: str | None, comment: str | None = None) -> dict[str, Any]:
        target = {"status": "confirmed", "next_attempt_at": None, "thread": thread and {"status": thread, "items": []},
                  "first_comment": comment and {"status": comment}}
        return {"targets": [target]}

    assert poll_after_ms(post("pending"), NOW) == POLL_FAST_MS
    assert poll_after_ms(post(None, "pending"), NOW) == POLL_FAST_MS
    assert poll_after_ms(post("published", "published"), NOW) == 0
    assert poll_after_ms(post("failed"), NOW) == 0
