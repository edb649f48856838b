"""Editing a scheduled post and the composer's versions, options, alt text and first comment, through Flask's test
client on SQLite and PostgreSQL (the browser flows are in test_posts_edit.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from postdodo_connect.dashboard import options_form
from postdodo_connect.storage.schema import targets
from tests.dashboard import test_posts_views
from tests.dashboard.test_posts_views import NOW, Site, problems_in

site = test_posts_views.site  # the same fixture: a signed-in app on SQLite and on PostgreSQL


def scheduled(site: Site, caption: str = "First draft", *accounts: str, **extra: Any) -> str:
    """A post scheduled two hours from the site's clock, made through the API."""
    body = {"caption": caption, "account_ids": list(accounts) or [site.bluesky],
            "scheduled_at": (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}
    answer = site.api.call("POST", "/v1/posts", site.key, json=body)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["id"])


def edit_form(site: Site, post_id: str) -> dict[str, Any]:
    """The edit page's form as the browser would send it untouched (every field it was filled with)."""
    html = site.page(f"/posts/{post_id}/edit").get_data(as_text=True)
    data: dict[str, Any] = {"csrf_token": site.csrf(), "when": "later"}
    for name in ("idempotency_key", "timezone"):
        data[name] = re.search(rf'name="{name}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
    data["scheduled_local"] = re.search(r'name="scheduled_local"[^>]* value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
    data["caption"] = re.search(r'name="caption"[^>]*>([^<]*)</textarea>', html).group(1)  # type: ignore[union-attr]
    data["account_ids"] = re.findall(r'name="account_ids" value="([^"]+)"[^>]*checked', html)
    data["media_url"] = re.findall(r'name="media_url" type="url" inputmode="url" value="([^"]*)"', html)
    data["media_type"] = ["image"] * len(data["media_url"])
    data["media_alt"] = re.findall(r'name="media_alt"[^>]*>([^<]*)</textarea>', html)
    return data


def test_the_edit_page_is_the_composer_filled_with_the_post_in_the_browsers_zone(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon")["id"]
    post_id = scheduled(site, "Hello", site.bluesky, mastodon,
                        media=[{"url": "https://example.com/a.png", "alt": "A dodo on a beach"}],
                        platforms={"mastodon": {"caption": "Hello fediverse", "options": {"visibility": "unlisted"}}},
                        first_comment="More soon")
    site.client.set_cookie("postdodo_tz", "America/New_York")
    detail = site.page(f"/posts/{post_id}").get_data(as_text=True)
    assert f"/posts/{post_id}/edit" in detail and ">Edit</a>" in detail
    html = site.page(f"/posts/{post_id}/edit").get_data(as_text=True)
    assert 'value="2026-07-01T10:00"' in html  # 14:00 UTC is 10:00 in New York
    assert 'name="timezone" value="America/New_York"' in html
    assert ">Hello</textarea>" in html and ">Hello fediverse</textarea>" in html and ">More soon</textarea>" in html
    assert 'value="https://example.com/a.png"' in html and ">A dodo on a beach</textarea>" in html
    assert re.search(r'<option value="unlisted" selected>', html)
    assert re.search(r'<details class="version" data-platform="mastodon"[^>]*open', html)
    assert "Save changes" in html


def test_an_edit_reaches_the_post_and_its_targets_and_a_resend_changes_nothing_more(site: Site) -> None:
    post_id = scheduled(site)
    form = edit_form(site, post_id) | {"caption": "Second draft", "scheduled_local": "2026-07-01T18:45"}
    saved = site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=form)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/posts/{post_id}")
    post = site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()
    assert (post["caption"], post["scheduled_at"], post["targets"][0]["content"]["caption"]) == (
        "Second draft", "2026-07-01T18:45:00Z", "Second draft")
    again = site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=form)  # a double submit
    assert again.status_code == 303
    events = site.api.call("GET", f"/v1/events?post_id={post_id}", site.key).get_json()["data"]
    assert [e["event"] for e in events].count("post.updated") == 1
    page = site.client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Post updated. Scheduled for 2026-07-01 18:45 (UTC)." in page and "Second draft" in page


def test_a_refused_edit_shows_the_rule_beside_its_field_and_changes_nothing(site: Site) -> None:
    post_id = scheduled(site)
    form = edit_form(site, post_id) | {"caption": "é" * 301}
    refused = site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=form)
    assert refused.status_code == 400
    assert "Bluesky allows 300" in problems_in(refused.get_data(as_text=True), "caption")
    assert site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()["caption"] == "First draft"
    assert site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit",
                            data={**form, "csrf_token": "forged"}).status_code == 400


@pytest.mark.parametrize("status", ["publishing", "confirmed"])
def test_a_post_that_started_has_no_edit_button_and_its_edit_url_says_why(site: Site, status: str) -> None:
    post_id = scheduled(site)
    form = edit_form(site, post_id) | {"caption": "too late"}
    with site.api.db.write() as conn:
        conn.execute(update(targets).where(targets.c.post_id == post_id).values(status=status))
    assert "/edit" not in site.page(f"/posts/{post_id}").get_data(as_text=True)
    for answer in (site.page(f"/posts/{post_id}/edit", follow_redirects=True),
                   site.client.post(f"/w/{site.workspace}/posts/{post_id}/edit", data=form, follow_redirects=True)):
        assert answer.status_code == 200 and answer.request.path == f"/w/{site.workspace}/posts/{post_id}"
        assert "can no longer be edited" in answer.get_data(as_text=True)
    assert site.api.call("GET", f"/v1/posts/{post_id}", site.key).get_json()["caption"] == "First draft"
    assert site.page("/posts/post_nope/edit").status_code == 404


def test_another_workspaces_post_has_no_edit_page(site: Site) -> None:
    other_key = site.api.new_key("other")
    theirs = site.api.call("POST", "/v1/posts", other_key, json={
        "caption": "theirs", "account_ids": [site.api.sandbox_account(other_key)["id"]],
        "scheduled_at": (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}).get_json()["id"]
    assert site.page(f"/posts/{theirs}/edit").status_code == 404
    form = {"csrf_token": site.csrf(), "caption": "mine now", "account_ids": [site.bluesky], "when": "now"}
    assert site.client.post(f"/w/{site.workspace}/posts/{theirs}/edit", data=form).status_code == 404
    assert site.api.call("GET", f"/v1/posts/{theirs}", other_key).get_json()["caption"] == "theirs"


def test_versions_options_alt_text_and_first_comment_reach_the_right_targets(site: Site) -> None:
    mastodon = site.api.sandbox_account(site.key, "mastodon")["id"]
    form = site.form(caption="For everyone", account_ids=[site.bluesky, mastodon],
                     media_url=["https://example.com/a.png", "", "", ""], media_alt=["A dodo", "", "", ""],
                     first_comment="Link in the comments", **{
                         "version_caption.mastodon": "For the fediverse", "option.mastodon.visibility": "unlisted",
                         "option.mastodon.sensitive": "on", "option.bluesky.langs": "en, fr"})
    created = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert created.status_code == 303, problems_in(created.get_data(as_text=True), "form")
    [post] = site.posts()
    content = {t["platform"]: t["content"] for t in post["targets"]}
    assert content["mastodon"]["caption"] == "For the fediverse" and content["bluesky"]["caption"] == "For everyone"
    assert content["mastodon"]["options"]["visibility"] == "unlisted" and content["mastodon"]["options"]["sensitive"]
    assert content["bluesky"]["options"]["langs"] == ["en", "fr"]
    assert content["bluesky"]["media"] == [{"type": "image", "url": "https://example.com/a.png", "alt": "A dodo"}]
    assert post["first_comment"] == "Link in the comments"
    assert post["platforms"]["mastodon"]["options"] == {"visibility": "unlisted", "sensitive": True}


def test_an_alt_text_and_a_version_over_their_limits_are_refused_beside_their_fields(site: Site) -> None:
    x = site.api.sandbox_account(site.key, "x")["id"]
    form = site.form(account_ids=[site.bluesky, x], media_url=["https://example.com/a.png", "", "", ""],
                     media_alt=["a" * 1001, "", "", ""], **{"version_caption.x": "a" * 281,
                                                           "option.x.reply_settings": "nobody"})
    checked = site.client.post(f"/w/{site.workspace}/compose/check", data=form).get_json()
    slots = {(p["slot"], p["rule"]) for p in checked["problems"]}
    assert ("alt-0", "x.media.alt_max_length") in slots  # 1001 is within Bluesky's 2000: X alone refuses it
    assert ("version-x", "x.caption.max_weighted_length") in slots
    assert ("version-x", "x.options.reply_settings") in slots
    assert checked["version_counters"][0]["platform"] == "x" and checked["version_counters"][0]["over"]
    assert [c["platform"] for c in checked["counters"]] == ["bluesky"]
    refused = site.client.post(f"/w/{site.workspace}/compose", data=form)
    assert refused.status_code == 400 and site.posts() == []
    assert "at most 1000 allowed" in problems_in(refused.get_data(as_text=True), "alt-0")


def test_option_controls_are_drawn_from_the_options_models() -> None:
    kinds = {o.name: (o.kind, o.choices) for o in options_form.fields("mastodon")}
    assert kinds == {"visibility": ("select", ("public", "unlisted", "private", "direct")), "spoiler_text": ("text", ()),
                     "language": ("text", ()), "sensitive": ("checkbox", ())}
    assert [o.kind for o in options_form.fields("instagram")] == ["select", "list", "checkbox"]
    share = options_form.fields("instagram")[2]
    assert options_form.read("instagram", MultiDict()) == {"share_to_feed": False}  # an unticked box is sent as nothing
    assert options_form.read("instagram", MultiDict({share.form_name: "on", "option.instagram.kind": "feed"})) == {}
    assert options_form.fields("facebook") == ()
