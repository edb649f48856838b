"""`delete` per adapter: the exact request each platform documents, "already gone" as done, refusals kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformNotFound, PlatformRateLimited, PlatformRejected
from postdodo_connect.platforms import NAMES, adapter_class
from postdodo_connect.platforms.base import Platform

from .conftest import make_account

Make = Callable[[str], Platform]


def bearer(token: str) -> Any:
    return matchers.header_matcher({"Authorization": f"Bearer {token}"})


def test_which_platforms_can_delete() -> None:
    cannot = {name for name in NAMES if not adapter_class(name).can_delete}
    assert cannot == {"instagram", "tiktok"}


@pytest.mark.parametrize("name", ["instagram", "tiktok"])
def test_platforms_without_delete_refuse_without_calling(make_adapter: Make, mocked: responses.RequestsMock,
                                                         name: str) -> None:
    with pytest.raises(PlatformRejected) as raised:
        make_adapter(name).delete(make_account(name, "shop", access_token="tok"), "1789")
    assert raised.value.code == "unpublish_unsupported"


def test_x_deletes_the_post(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://api.x.com/2/tweets/1445880548472328192", json={"data": {"deleted": True}},
                  match=[bearer("tok")])
    make_adapter("x").delete(make_account("x", "alice", access_token="tok", user_id="2244994945"),
                             "1445880548472328192")


def test_x_rate_limit_on_delete_is_retryable(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://api.x.com/2/tweets/1", status=429, json={"title": "Too Many Requests", "status": 429},
                  headers={"x-rate-limit-reset": "1787349660"})
    with pytest.raises(PlatformRateLimited) as raised:
        make_adapter("x").delete(make_account("x", "alice", access_token="tok", user_id="2"), "1")
    assert raised.value.retryable


def test_mastodon_deletes_the_status_and_a_404_is_not_found(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    account = make_account("mastodon", "alice@mastodon.social", instance_url="https://mastodon.social/",
                           access_token="tok")
    mocked.delete("https://mastodon.social/api/v1/statuses/103254962155278888", match=[bearer("tok")],
                  json={"id": "103254962155278888", "text": "Hello fediverse"})
    mocked.delete("https://mastodon.social/api/v1/statuses/999", status=404, json={"error": "Record not found"})
    adapter = make_adapter("mastodon")
    adapter.delete(account, "103254962155278888")
    with pytest.raises(PlatformNotFound):
        adapter.delete(account, "999")


def test_bluesky_deletes_the_record(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    did = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
    session = {"did": did, "handle": "alice.bsky.social", "accessJwt": "access-1", "refreshJwt": "refresh-1",
               "active": True, "didDoc": {"id": did, "service": [{
                   "id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                   "serviceEndpoint": "https://morel.us-east.host.bsky.network"}]}}
    mocked.post("https://bsky.social/xrpc/com.atproto.server.createSession", json=session)
    mocked.post("https://morel.us-east.host.bsky.network/xrpc/com.atproto.repo.deleteRecord", json={
        "commit": {"cid": "bafyreihnbm3qx7kqv2ehzo3m2g2axdkrb3qtpcmg7ydeoyxkbg5ccaiqbu", "rev": "3lbtxqy2xoy2t"}},
        match=[matchers.json_params_matcher({"repo": did, "collection": "app.bsky.feed.post", "rkey": "3lbtxqy2xoy2s"}),
               bearer("access-1")])
    account = make_account("bluesky", "alice.bsky.social", identifier="alice.bsky.social",
                           app_password="abcd-efgh-ijkl-mnop")
    make_adapter("bluesky").delete(account, f"at://{did}/app.bsky.feed.post/3lbtxqy2xoy2s")


def test_facebook_deletes_the_page_post(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://graph.facebook.com/v23.0/546349135390552_1116692661689527", json={"success": True},
                  match=[matchers.query_param_matcher({"access_token": "EAAG-page-token"})])
    account = make_account("facebook", "dodoshop", access_token="EAAG-page-token", page_id="546349135390552")
    make_adapter("facebook").delete(account, "546349135390552_1116692661689527")


def test_facebook_object_already_gone_is_done(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://graph.facebook.com/v23.0/1_2", status=400, json={"error": {
        "message": "Unsupported delete request. Object with ID '1_2' does not exist",
        "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": "AbCdEf"}})
    make_adapter("facebook").delete(make_account("facebook", "p", access_token="t", page_id="1"), "1_2")


def test_threads_deletes_the_media(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://graph.threads.net/v1.0/18050206876707110", json={"success": True},
                  match=[matchers.query_param_matcher({"access_token": "THAAG-threads-token"})])
    account = make_account("threads", "alice", access_token="THAAG-threads-token", user_id="1")
    make_adapter("threads").delete(account, "18050206876707110")


def test_linkedin_deletes_the_post_by_encoded_urn(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://api.linkedin.com/rest/posts/urn%3Ali%3Ashare%3A6844785523593134080", status=204,
                  match=[matchers.header_matcher({"Authorization": "Bearer tok", "X-Restli-Protocol-Version": "2.0.0"})])
    account = make_account("linkedin", "Alice", access_token="tok", author_urn="urn:li:person:abc")
    make_adapter("linkedin").delete(account, "urn:li:share:6844785523593134080")


def test_pinterest_deletes_the_pin(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete("https://api.pinterest.com/v5/pins/813744226420795884", status=204, match=[bearer("pina_AMA-token")])
    account = make_account("pinterest", "alice", access_token="pina_AMA-token", board_id="549755885175")
    make_adapter("pinterest").delete(account, "813744226420795884")


TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
TELEGRAM = make_account("telegram", "mychannel", bot_token=TOKEN, chat_id="@mychannel")


def test_telegram_deletes_the_message(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post(f"https://api.telegram.org/bot{TOKEN}/deleteMessage", json={"ok": True, "result": True},
                match=[matchers.json_params_matcher({"chat_id": "@mychannel", "message_id": 42})])
    make_adapter("telegram").delete(TELEGRAM, "42")


def test_telegram_missing_message_is_done_but_too_old_is_refused(make_adapter: Make,
                                                                 mocked: responses.RequestsMock) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/deleteMessage"
    mocked.post(url, status=400, json={"ok": False, "error_code": 400,
                                       "description": "Bad Request: message to delete not found"})
    mocked.post(url, status=400, json={"ok": False, "error_code": 400,
                                       "description": "Bad Request: message can't be deleted"})
    adapter = make_adapter("telegram")
    adapter.delete(TELEGRAM, "42")
    with pytest.raises(PlatformRejected) as raised:
        adapter.delete(TELEGRAM, "41")
    assert "can't be deleted" in raised.value.message


SLACK = make_account("slack", "ghostbusters", bot_token="xoxb-1234-5678-abcdef", channel="C1H9RESGL")


def test_slack_deletes_the_message(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://slack.com/api/chat.delete", json={"ok": True, "channel": "C1H9RESGL", "ts": "1503435956.000247"},
                match=[matchers.json_params_matcher({"channel": "C1H9RESGL", "ts": "1503435956.000247"}),
                       bearer("xoxb-1234-5678-abcdef")])
    make_adapter("slack").delete(SLACK, "1503435956.000247")


def test_slack_message_not_found_is_done(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://slack.com/api/chat.delete", json={"ok": False, "error": "message_not_found"})
    make_adapter("slack").delete(SLACK, "1503435956.000247")


HOOK = ("https://discord.com/api/webhooks/223704706495545344/"
        "3d89bb7572e0fb30d8128367b3b1b44fecd1726de135cbe28a41f8b2f777c372ba2939e72279b94526ff5d1bd4358d65cf11")
DISCORD = make_account("discord", "Publisher", webhook_url=HOOK)


def test_discord_deletes_the_webhook_message(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{HOOK}/messages/1143200000000000000", status=204)
    make_adapter("discord").delete(DISCORD, "1143200000000000000")


def test_discord_unknown_message_is_done_but_unknown_webhook_is_auth(make_adapter: Make,
                                                                      mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{HOOK}/messages/1", status=404, json={"message": "Unknown Message", "code": 10008})
    mocked.delete(f"{HOOK}/messages/2", status=404, json={"message": "Unknown Webhook", "code": 10015})
    adapter = make_adapter("discord")
    adapter.delete(DISCORD, "1")
    with pytest.raises(PlatformAuthError):
        adapter.delete(DISCORD, "2")
