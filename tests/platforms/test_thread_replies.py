"""Thread items per adapter: the exact request that posts items 2..n as replies (X, Bluesky, Threads, Mastodon)."""

from __future__ import annotations

import json
from collections.abc import Callable

import responses
from responses import matchers

from postdodo_connect.platforms import NAMES, Published, PublishRequest, ReplyTo, adapter_class
from postdodo_connect.platforms import bluesky as bsky
from postdodo_connect.platforms.base import Platform

from .conftest import make_account

Make = Callable[[str], Platform]


def item(key: str, caption: str, root: Published, parent: Published) -> PublishRequest:
    return PublishRequest(target_id=key, caption=caption, reply_to=ReplyTo(root=root, parent=parent))


def test_which_platforms_have_threads() -> None:
    assert {n for n in NAMES if adapter_class(n).has_thread} == {"bluesky", "mastodon", "threads", "x"}


def test_x_items_reply_to_the_item_before(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    root = Published("1445880548472328192", "https://x.com/alice/status/1445880548472328192")
    for parent, made, text in (("1445880548472328192", "1445880548472328193", "2/3"),
                               ("1445880548472328193", "1445880548472328194", "3/3")):
        mocked.post("https://api.x.com/2/tweets", json={"data": {"id": made, "text": text,
                                                                 "edit_history_tweet_ids": [made]}},
                    match=[matchers.json_params_matcher({"text": text, "reply": {"in_reply_to_tweet_id": parent}}),
                           matchers.header_matcher({"Authorization": "Bearer tok"})])
    adapter, account = make_adapter("x"), make_account("x", "alice", access_token="tok", user_id="2")
    second = adapter.publish(account, item("tgt_1.thread.1", "2/3", root, root))
    third = adapter.publish(account, PublishRequest(target_id="tgt_1.thread.2", caption="3/3",
                                                    options={"reply_settings": "following"},
                                                    reply_to=ReplyTo(root=root, parent=second)))
    assert (second.platform_post_id, third.platform_post_id) == ("1445880548472328193", "1445880548472328194")
    assert third.permalink == "https://x.com/alice/status/1445880548472328194"
    assert len(mocked.calls) == 2  # reply_settings belong to the first post: a reply leaves them out


def test_mastodon_items_reply_with_in_reply_to_id_under_their_own_key(make_adapter: Make,
                                                                      mocked: responses.RequestsMock) -> None:
    root = Published("103254962155278888", "https://mastodon.social/@alice/103254962155278888")
    parent = Published("103254962155278889", "https://mastodon.social/@alice/103254962155278889")
    status = {"id": "103254962155278890", "url": "https://mastodon.social/@alice/103254962155278890",
              "account": {"acct": "alice"}, "in_reply_to_id": "103254962155278889"}
    mocked.post("https://mastodon.social/api/v1/statuses", json=status, match=[
        matchers.json_params_matcher({"status": "3/3", "in_reply_to_id": "103254962155278889",
                                      "visibility": "unlisted"}),
        matchers.header_matcher({"Authorization": "Bearer tok", "Idempotency-Key": "tgt_1.thread.2"})])
    account = make_account("mastodon", "alice@mastodon.social", instance_url="https://mastodon.social",
                           access_token="tok")
    request = PublishRequest(target_id="tgt_1.thread.2", caption="3/3", options={"visibility": "unlisted"},
                             reply_to=ReplyTo(root=root, parent=parent))
    made = make_adapter("mastodon").publish(account, request)
    assert (made.platform_post_id, made.permalink) == ("103254962155278890",
                                                       "https://mastodon.social/@alice/103254962155278890")


def test_bluesky_items_carry_root_and_parent_refs(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    did = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
    pds = "https://morel.us-east.host.bsky.network/xrpc"
    root_uri, root_cid = f"at://{did}/app.bsky.feed.post/3lbtxqy2xoy2s", "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm"
    parent_uri = f"at://{did}/app.bsky.feed.post/3lbtxqy2xoy2t"
    parent_cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    mocked.post("https://bsky.social/xrpc/com.atproto.server.createSession", json={
        "did": did, "handle": "alice.bsky.social", "accessJwt": "access-1", "refreshJwt": "refresh-1", "active": True,
        "didDoc": {"id": did, "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                           "serviceEndpoint": "https://morel.us-east.host.bsky.network"}]}})
    # the first post's cid was not kept with the target: read once from its record
    mocked.get(f"{pds}/com.atproto.repo.getRecord", json={"uri": root_uri, "cid": root_cid, "value": {"text": "1/3"}},
               match=[matchers.query_param_matcher({"repo": did, "collection": "app.bsky.feed.post",
                                                    "rkey": "3lbtxqy2xoy2s"})])
    rkey = bsky.tid_for("tgt_1.thread.2")
    made_uri = f"at://{did}/app.bsky.feed.post/{rkey}"
    mocked.post(f"{pds}/com.atproto.repo.createRecord", json={"uri": made_uri, "cid": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"},
                match=[matchers.json_params_matcher({"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey,
                                                     "record": {
                    "$type": "app.bsky.feed.post", "text": "3/3", "createdAt": "2026-08-21T22:00:00.000Z",
                    "reply": {"root": {"uri": root_uri, "cid": root_cid},
                              "parent": {"uri": parent_uri, "cid": parent_cid}}}})])
    account = make_account("bluesky", "alice.bsky.social", identifier="alice.bsky.social",
                           app_password="abcd-efgh-ijkl-mnop")
    made = make_adapter("bluesky").publish(account, item(
        "tgt_1.thread.2", "3/3", Published(root_uri, ""), Published(parent_uri, "", cid=parent_cid)))
    assert made.platform_post_id == made_uri
    assert made.cid == "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"  # the next item's parent ref
    assert made.permalink == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"


def test_threads_items_are_containers_with_reply_to_id(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    base, token = "https://graph.threads.net/v1.0/1234", "THAAG-threads-token"
    mocked.post(f"{base}/threads", json={"id": "17889615691921649"}, match=[matchers.urlencoded_params_matcher({
        "media_type": "TEXT", "text": "2/2", "reply_to_id": "18050206876707110", "access_token": token})])
    mocked.post(f"{base}/threads_publish", json={"id": "18050206876707111"}, match=[matchers.urlencoded_params_matcher(
        {"creation_id": "17889615691921649", "access_token": token})])
    link = "https://www.threads.net/@alice/post/C-AbCdEfGhJ"
    mocked.get("https://graph.threads.net/v1.0/18050206876707111", json={"id": "18050206876707111", "permalink": link},
               match=[matchers.query_param_matcher({"fields": "permalink", "access_token": token})])
    account = make_account("threads", "alice", access_token=token, user_id="1234")
    root = Published("18050206876707110", "https://www.threads.net/@alice/post/C-AbCdEfGhI")
    request = PublishRequest(target_id="tgt_1.thread.1", caption="2/2", options={"reply_control": "everyone"},
                             reply_to=ReplyTo(root=root, parent=root))
    made = make_adapter("threads").publish(account, request)
    assert (made.platform_post_id, made.permalink) == ("18050206876707111", link)


def test_x_lookup_takes_only_the_reply_to_the_items_parent(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    # "more soon" is both the first post and item 2: looking item 3 up must not take either for it
    root = Published("1445880548472328192", "https://x.com/alice/status/1445880548472328192")
    second = Published("1445880548472328193", "https://x.com/alice/status/1445880548472328193")
    at = "2026-08-21T21:59:58.000Z"
    timeline = {"data": [
        {"id": "1445880548472328193", "text": "more soon", "created_at": at,
         "referenced_tweets": [{"type": "replied_to", "id": "1445880548472328192"}]},
        {"id": "1445880548472328192", "text": "more soon", "created_at": at},
    ]}
    mocked.add_callback("GET", "https://api.x.com/2/users/2/tweets", callback=lambda _: (200, {}, json.dumps(timeline)),
                        match=[matchers.query_param_matcher({"max_results": "25",
                                                             "tweet.fields": "created_at,referenced_tweets"})])
    adapter, account = make_adapter("x"), make_account("x", "alice", access_token="tok", user_id="2")
    third = item("tgt_1.thread.2", "more soon", root, second)
    assert adapter.lookup(account, third) is None  # never posted: the engine may send it
    timeline["data"].insert(0, {"id": "1445880548472328194", "text": "more soon", "created_at": at,
                                "referenced_tweets": [{"type": "replied_to", "id": "1445880548472328193"}]})
    assert adapter.lookup(account, third) == Published("1445880548472328194",
                                                       "https://x.com/alice/status/1445880548472328194")
    first = adapter.lookup(account, PublishRequest(target_id="tgt_1", caption="more soon"))
    assert first is not None and first.platform_post_id == "1445880548472328192"  # the one that replies to nothing


def test_mastodon_lookup_takes_only_the_reply_to_the_items_parent(make_adapter: Make,
                                                                 mocked: responses.RequestsMock) -> None:
    root = Published("103254962155278888", "https://mastodon.social/@alice/103254962155278888")
    second = Published("103254962155278889", "https://mastodon.social/@alice/103254962155278889")
    statuses = [{"id": "103254962155278889", "content": "<p>more soon</p>", "in_reply_to_id": "103254962155278888",
                 "created_at": "2026-08-21T21:59:58.000Z", "url": "https://mastodon.social/@alice/103254962155278889",
                 "account": {"acct": "alice"}, "media_attachments": []}]
    mocked.get("https://mastodon.social/api/v1/accounts/verify_credentials", json={"id": "1", "username": "alice"})
    mocked.get("https://mastodon.social/api/v1/accounts/1/statuses", json=statuses)
    account = make_account("mastodon", "alice@mastodon.social", instance_url="https://mastodon.social",
                           access_token="tok")
    assert make_adapter("mastodon").lookup(account, item("tgt_1.thread.2", "more soon", root, second)) is None


def test_threads_lookup_reads_the_replies_edge_for_an_item(make_adapter: Make, mocked: responses.RequestsMock) -> None:
    # the threads edge lists top-level posts only: an item is found among the replies, answering its parent
    base, token = "https://graph.threads.net/v1.0/1234", "THAAG-threads-token"
    root = Published("18050206876707110", "https://www.threads.net/@alice/post/C-AbCdEfGhI")
    second = Published("18050206876707111", "https://www.threads.net/@alice/post/C-AbCdEfGhJ")
    reply = {"id": "18050206876707112", "text": "more soon", "timestamp": "2026-08-21T21:59:58+0000",
             "permalink": "https://www.threads.net/@alice/post/C-AbCdEfGhK", "replied_to": {"id": second.platform_post_id}}
    mocked.get(f"{base}/replies", json={"data": [
        {**reply, "id": "18050206876707111", "replied_to": {"id": root.platform_post_id}}, reply]},
        match=[matchers.query_param_matcher({"fields": "id,permalink,text,timestamp,replied_to", "limit": "25",
                                             "access_token": token})])
    account = make_account("threads", "alice", access_token=token, user_id="1234")
    adapter = make_adapter("threads")
    found = adapter.lookup(account, item("tgt_1.thread.2", "more soon", root, second))
    assert found == Published("18050206876707112", "https://www.threads.net/@alice/post/C-AbCdEfGhK")
    assert adapter.lookup(account, item("tgt_1.thread.3", "more soon", root, found)) is None
