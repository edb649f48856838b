"""`comment` per adapter: the exact request of each platform's first comment or self-reply."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformRejected, PlatformUnavailable
from postdodo_connect.platforms import NAMES, adapter_class
from postdodo_connect.platforms.base import Platform

from .conftest import make_account

Make = Callable[[str], Platform]


def test_which_platforms_have_a_first_comment() -> None:
    assert {n for n in NAMES if adapter_class(n).has_first_comment} == {
        "bluesky", "facebook", "instagram", "linkedin", "mastodon", "threads", "x"}


def test_others_refuse_without_calling(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    with pytest.raises(PlatformRejected) as raised:
        make_adapter("telegram").comment(make_account("telegram", "c", bot_token="t", chat_id="@c"), "1", "hi")
    assert raised.value.code == "first_comment_unsupported"


def test_x_replies_to_its_own_post(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://api.x.com/2/tweets", json={"data": {"id": "1445880548472328193", "text": "link in bio",
                                                             "edit_history_tweet_ids": ["1445880548472328193"]}},
                match=[matchers.json_params_matcher({"text": "link in bio",
                                                     "reply": {"in_reply_to_tweet_id": "1445880548472328192"}}),
                       matchers.header_matcher({"Authorization": "Bearer tok"})])
    made = make_adapter("x").comment(make_account("x", "alice", access_token="tok", user_id="2"),
                                     "1445880548472328192", "link in bio")
    assert made.platform_post_id == "1445880548472328193"
    assert made.permalink == "https://x.com/alice/status/1445880548472328193"


def test_mastodon_replies_with_in_reply_to_id_and_a_key(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    status = {"id": "103254962155278889", "url": "https://mastodon.social/@alice/103254962155278889",
              "account": {"acct": "alice"}, "in_reply_to_id": "103254962155278888"}
    mocked.post("https://mastodon.social/api/v1/statuses", json=status, match=[
        matchers.json_params_matcher({"status": "more below", "in_reply_to_id": "103254962155278888",
                                      "visibility": "public"}),
        matchers.header_matcher({"Authorization": "Bearer tok",
                                 "Idempotency-Key": "first-comment-103254962155278888"})])
    account = make_account("mastodon", "alice@mastodon.social", instance_url="https://mastodon.social",
                           access_token="tok")
    made = make_adapter("mastodon").comment(account, "103254962155278888", "more below")
    assert made.permalink == "https://mastodon.social/@alice/103254962155278889"


def test_bluesky_replies_with_root_and_parent_refs(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    did = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
    uri = f"at://{did}/app.bsky.feed.post/3lbtxqy2xoy2s"
    cid = "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm"
    pds = "https://morel.us-east.host.bsky.network/xrpc"
    mocked.post("https://bsky.social/xrpc/com.atproto.server.createSession", json={
        "did": did, "handle": "alice.bsky.social", "accessJwt": "access-1", "refreshJwt": "refresh-1", "active": True,
        "didDoc": {"id": did, "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                           "serviceEndpoint": "https://morel.us-east.host.bsky.network"}]}})
    mocked.get(f"{pds}/com.atproto.repo.getRecord", json={"uri": uri, "cid": cid, "value": {"text": "Hello"}},
               match=[matchers.query_param_matcher({"repo": did, "collection": "app.bsky.feed.post",
                                                    "rkey": "3lbtxqy2xoy2s"})])
    reply_uri = f"at://{did}/app.bsky.feed.post/3lbtxqy2xoy2t"
    mocked.post(f"{pds}/com.atproto.repo.createRecord", json={"uri": reply_uri, "cid": cid}, match=[
        matchers.json_params_matcher({"repo": did, "collection": "app.bsky.feed.post", "record": {
            "$type": "app.bsky.feed.post", "text": "more below", "createdAt": "2026-08-21T22:00:00.000Z",
            "reply": {"root": {"uri": uri, "cid": cid}, "parent": {"uri": uri, "cid": cid}}}})])
    account = make_account("bluesky", "alice.bsky.social", identifier="alice.bsky.social",
                           app_password="abcd-efgh-ijkl-mnop")
    made = make_adapter("bluesky").comment(account, uri, "more below")
    assert made.platform_post_id == reply_uri
    assert made.permalink == "https://bsky.app/profile/alice.bsky.social/post/3lbtxqy2xoy2t"


def test_facebook_comments_as_the_page(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://graph.facebook.com/v23.0/546349135390552_1116692661689527/comments",
                json={"id": "1116692661689527_4455667788"},
                match=[matchers.urlencoded_params_matcher({"message": "first!", "access_token": "EAAG-page-token"})])
    account = make_account("facebook", "dodoshop", access_token="EAAG-page-token", page_id="546349135390552")
    made = make_adapter("facebook").comment(account, "546349135390552_1116692661689527", "first!")
    assert made.platform_post_id == "1116692661689527_4455667788"


def test_instagram_comments_on_the_media(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://graph.facebook.com/v23.0/17895695668004550/comments", json={"id": "17870913679156914"},
                match=[matchers.urlencoded_params_matcher({"message": "#tags", "access_token": "EAAG-ig-token"})])
    account = make_account("instagram", "dodo.shop", access_token="EAAG-ig-token", ig_user_id="17841405822304914")
    assert make_adapter("instagram").comment(account, "17895695668004550", "#tags").platform_post_id == \
        "17870913679156914"


def test_instagram_comment_outage_is_retryable(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    mocked.post("https://graph.facebook.com/v23.0/1/comments", status=500, json={"error": {
        "message": "An unexpected error has occurred.", "type": "OAuthException", "code": 2, "is_transient": True}})
    with pytest.raises(PlatformUnavailable):
        make_adapter("instagram").comment(make_account("instagram", "d", access_token="t", ig_user_id="9"), "1", "x")


def test_linkedin_comments_through_social_actions(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    urn = "urn:li:share:6844785523593134080"
    mocked.post(f"https://api.linkedin.com/rest/socialActions/{'urn%3Ali%3Ashare%3A6844785523593134080'}/comments",
                status=201, json={"commentUrn": "urn:li:comment:(urn:li:activity:1,2)"},
                headers={"x-restli-id": "urn:li:comment:(urn:li:activity:1,2)"},
                match=[matchers.json_params_matcher({"actor": "urn:li:person:abc", "object": urn,
                                                     "message": {"text": "details inside"}}),
                       matchers.header_matcher({"Authorization": "Bearer tok", "X-Restli-Protocol-Version": "2.0.0"})])
    account = make_account("linkedin", "Alice", access_token="tok", author_urn="urn:li:person:abc")
    made = make_adapter("linkedin").comment(account, urn, "details inside")
    assert made.platform_post_id == "urn:li:comment:(urn:li:activity:1,2)"


def test_threads_replies_with_a_container_then_publishes(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    base = "https://graph.threads.net/v1.0/1234"
    mocked.post(f"{base}/threads", json={"id": "17889615691921648"}, match=[matchers.urlencoded_params_matcher({
        "media_type": "TEXT", "text": "more below", "reply_to_id": "18050206876707110",
        "access_token": "THAAG-threads-token"})])
    mocked.post(f"{base}/threads_publish", json={"id": "18050206876707111"}, match=[matchers.urlencoded_params_matcher(
        {"creation_id": "17889615691921648", "access_token": "THAAG-threads-token"})])
    account = make_account("threads", "alice", access_token="THAAG-threads-token", user_id="1234")
    assert make_adapter("threads").comment(account, "18050206876707110", "more below").platform_post_id == \
        "18050206876707111"
