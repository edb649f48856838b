"""Every endpoint's happy path against a real `postdodo serve` subprocess, plus the keys CLI."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from postdodo_connect.http_workers import KEEPALIVE_REQUESTS
from tests.support.server import Server, start_server, wait_until


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postdodo_connect", *args], env=server.env, cwd=server.workdir,
                          capture_output=True, text=True, timeout=60)


def test_reference_curl_flow(live_server: Server) -> None:
    s, url = live_server.session(), live_server.url
    # the engine's first heartbeat lands with its first tick, moments after start
    health = wait_until(lambda: (h := s.get(f"{url}/healthz").json())["status"] == "ok" and h, what="healthy engine")
    assert health["checks"]["database"] == {"status": "ok", "required": True}
    assert health["checks"]["engine"]["status"] == "ok"
    accounts = s.get(f"{url}/v1/accounts").json()["data"]
    assert {a["platform"] for a in accounts} == {"instagram", "bluesky", "mastodon", "x"}
    by = {a["platform"]: a["id"] for a in accounts}
    at = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = s.post(f"{url}/v1/posts", json={
        "caption": "Spring launch is live. Link in bio.", "account_ids": [by["instagram"], by["bluesky"]],
        "scheduled_at": at, "media": [{"type": "image", "url": "https://cdn.example.com/launch.jpg"}]})
    assert created.status_code == 201
    post = created.json()
    assert post["status"] == "scheduled" and post["scheduled_at"] == at
    assert s.get(f"{url}/v1/posts/{post['id']}").json()["id"] == post["id"]
    assert post["id"] in [p["id"] for p in s.get(f"{url}/v1/posts?limit=5").json()["data"]]
    assert s.post(f"{url}/v1/posts/validate", json={"caption": "ok", "account_ids": [by["x"]]}).json()["valid"]
    assert s.delete(f"{url}/v1/posts/{post['id']}").json()["status"] == "canceled"

    now = s.post(f"{url}/v1/posts", json={"caption": "Now!", "account_ids": [by["bluesky"], by["mastodon"]]}).json()
    assert now["status"] == "publishing"

    def published() -> dict[str, Any] | None:
        got = s.get(f"{url}/v1/posts/{now['id']}").json()
        return got if got["status"] == "published" else None

    done = wait_until(published, timeout=20, what="the publish-now post to be confirmed")
    assert all(t["status"] == "confirmed" and t["permalink"].startswith("https://") for t in done["targets"])

    acct = s.post(f"{url}/v1/accounts", json={"platform": "threads", "mode": "sandbox", "handle": "t1"})
    assert acct.status_code == 201
    assert s.delete(f"{url}/v1/accounts/{acct.json()['id']}").json()["status"] == "disconnected"

    hook = s.post(f"{url}/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["post.published"]})
    assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_")
    hook_id = hook.json()["id"]
    assert "secret" not in s.get(f"{url}/v1/webhooks/{hook_id}").json()
    assert [h["id"] for h in s.get(f"{url}/v1/webhooks").json()["data"]] == [hook_id]
    assert s.post(f"{url}/v1/webhooks/{hook_id}/rotate").json()["secret"].startswith("whsec_")
    assert s.post(f"{url}/v1/webhooks/{hook_id}/test").status_code == 202
    assert s.get(f"{url}/v1/webhooks/{hook_id}/deliveries").status_code == 200
    assert s.post(f"{url}/v1/webhooks/{hook_id}/enable").json()["status"] == "enabled"
    published = s.get(f"{url}/v1/events", params={"type": "post.published", "post_id": now["id"]}).json()["data"]
    assert len(published) == 2 and all(e["data"]["permalink"] for e in published)
    assert s.get(f"{url}/v1/events/{published[0]['id']}").json() == published[0]
    again = s.post(f"{url}/v1/events/{published[0]['id']}/redeliver")
    assert again.status_code == 202 and again.json()["event_id"] == published[0]["id"]
    assert s.delete(f"{url}/v1/webhooks/{hook_id}").status_code == 200
    spec = s.get(f"{url}/v1/openapi.json", headers={"Authorization": ""}).json()
    assert spec["openapi"].startswith("3.1")


def test_keys_cli_create_rotate_revoke(live_server: Server) -> None:
    made = cli(live_server, "keys", "create", "--workspace", "cli-ws", "--test", "--json")
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    key = info["key"]
    assert key.startswith("pd_test_")
    s = live_server.session(key)
    assert s.get(f"{live_server.url}/v1/accounts").json()["data"] == []
    listed = cli(live_server, "keys", "list", "--json")
    rows = json.loads(listed.stdout)
    assert any(r["id"] == info["id"] and r["workspace"] == "cli-ws" for r in rows)
    assert key not in listed.stdout  # only a hint, never the key
    rotated = cli(live_server, "keys", "rotate", info["id"], "--json")
    new = json.loads(rotated.stdout)
    assert s.get(f"{live_server.url}/v1/accounts").status_code == 401  # the old key stops at once
    fresh = live_server.session(new["key"])
    assert fresh.get(f"{live_server.url}/v1/accounts").status_code == 200
    assert cli(live_server, "keys", "revoke", new["id"]).returncode == 0
    assert fresh.get(f"{live_server.url}/v1/accounts").status_code == 401
    assert cli(live_server, "keys", "revoke", "key_missing").returncode == 1
    live = json.loads(cli(live_server, "keys", "create", "--workspace", "prod", "--json").stdout)
    assert live["key"].startswith("pd_live_")
    assert not any(key in line or new["key"] in line for line in live_server.output)  # keys never logged


def test_demo_workspace_only_on_an_empty_database(tmp_path: Path) -> None:
    first = start_server(tmp_path)
    first.stop()
    assert first.key and any("demo sandbox workspace created" in line for line in first.output)
    second = start_server(tmp_path)  # same database: it already has a workspace
    second.stop()
    assert second.key is None and not any("demo sandbox" in line for line in second.output)
    empty = tmp_path / "nodemo"
    empty.mkdir()
    skipped = start_server(empty, args=("--no-demo",))
    skipped.stop()
    assert skipped.key is None


def test_a_kept_alive_connection_is_closed_after_its_hundredth_request(live_server: Server) -> None:
    """Clients that connected at once then spread over the workers again (see http_workers.ThreadWorker)."""
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    try:
        for number in range(1, KEEPALIVE_REQUESTS + 1):
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            assert (answer.getheader("Connection", "").lower() == "close") == (number == KEEPALIVE_REQUESTS), number
    finally:
        connection.close()
