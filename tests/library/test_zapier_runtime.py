"""The generated Zapier operations run (under node, with a fetch-based z.request) against a live server."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from postdodo_connect import Client
from tests.library.conftest import Sink
from tests.support.server import Server

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "integrations" / "generated" / "zapier-definition.json"
HARNESS = Path(__file__).parent / "data" / "zapier_run.js"


@pytest.fixture
def zap(live_server: Server) -> Any:
    """Run one operation (a path into the definition) with a bundle; returns its result."""

    def runner(*path: str, **bundle: Any) -> Any:
        bundle.setdefault("authData", {"baseUrl": live_server.url, "apiKey": live_server.key})
        bundle.setdefault("inputData", {})
        done = subprocess.run(["node", str(HARNESS), str(DEFINITION), json.dumps({"path": path, "bundle": bundle})],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ok"], answer["error"]
        return answer["result"]

    return runner


def test_authentication_and_account_dropdown(zap: Any) -> None:
    assert len(zap("authentication", "test")["data"]) == 4
    accounts = zap("triggers", "list_accounts", "operation", "perform")
    assert {a["platform"] for a in accounts} == {"instagram", "bluesky", "mastodon", "x"}
    assert all(a["label"] and a["id"].startswith("acct_") for a in accounts)


def test_create_find_cancel(zap: Any, accounts: dict[str, str]) -> None:
    when = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    inputs = {"caption": "from zapier", "account_ids": [accounts["instagram"], accounts["x"]],
              "scheduled_at": when, "media": "https://cdn.test/clip.mp4?sig=1", "idempotency_key": "zap-1"}
    post = zap("creates", "create_post", "operation", "perform", inputData=inputs)
    assert post["status"] == "scheduled" and post["scheduled_at"] == when
    assert [m["type"] for m in post["media"]] == ["video"]  # a bare string is split, the suffix says video
    assert zap("creates", "create_post", "operation", "perform", inputData=inputs)["id"] == post["id"]
    found = zap("searches", "get_post", "operation", "perform", inputData={"post_id": post["id"]})
    assert [p["id"] for p in found] == [post["id"]]
    assert zap("searches", "get_post", "operation", "perform", inputData={"post_id": "post_nope"}) == []
    newest = zap("triggers", "new_post", "operation", "perform", inputData={"status": "scheduled"})
    assert post["id"] in {p["id"] for p in newest}
    canceled = zap("creates", "cancel_post", "operation", "perform", inputData={"post_id": post["id"]})
    assert canceled["status"] == "canceled"


def test_hook_trigger_lifecycle(zap: Any, client: Client, accounts: dict[str, str], sink: Sink) -> None:
    hook = ("triggers", "post_published", "operation")
    subscription = zap(*hook, "performSubscribe", targetUrl=sink.url)
    assert client.webhooks.get(subscription["id"]).events == ["post.published"]
    post = client.posts.create("zap hook", [accounts["bluesky"]])
    _, event, _ = sink.next_event("post.published")
    items = zap(*hook, "perform", cleanedRequest=event)
    assert items[0]["id"] == event["id"] and items[0]["post_id"] == post.id and items[0]["permalink"]
    zap(*hook, "performUnsubscribe", subscribeData={"id": subscription["id"]})
    assert subscription["id"] not in {w.id for w in client.webhooks.list()}
    zap(*hook, "performUnsubscribe", subscribeData={"id": subscription["id"]})  # already gone: still fine
    client.posts.wait(post.id, timeout=30, interval=0.1)
    listed = zap(*hook, "performList")
    assert any(i["post_id"] == post.id and i["permalink"] for i in listed)
    completed = zap("triggers", "post_completed", "operation", "performList")
    assert any(i["post_id"] == post.id and i["status"] == "published" for i in completed)
    assert isinstance(zap("triggers", "post_failed", "operation", "performList"), list)


def test_create_with_alt_texts_platform_captions_and_first_comment(zap: Any, client: Client,
                                                                   accounts: dict[str, str]) -> None:
    when = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    inputs = {"caption": "zapier base", "account_ids": [accounts["bluesky"], accounts["mastodon"]],
              "scheduled_at": when, "media": ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"],
              "media_alt": "\nThe second picture, described", "platform_captions": {"Bluesky": "zapier for bluesky"},
              "first_comment": "zapier comment"}
    post = zap("creates", "create_post", "operation", "perform", inputData=inputs)
    assert [m["alt"] for m in post["media"]] == [None, "The second picture, described"]
    content = {t["platform"]: t["content"] for t in post["targets"]}
    assert content["bluesky"]["caption"] == "zapier for bluesky" and content["mastodon"]["caption"] == "zapier base"
    assert content["mastodon"]["first_comment"] == "zapier comment"
    client.posts.cancel(post["id"])
