"""The client-side CLI (`postdodo posts|accounts|webhooks ...`) against a live server: tables, --json, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from postdodo_connect import Client
from postdodo_connect.cli import main
from tests.library.conftest import Sink
from tests.support.server import Server, wait_until

MEDIA = "https://picsum.photos/id/237/1080/1080"


@pytest.fixture
def run(live_server: Server, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `postdodo ARGS --base-url URL --api-key KEY`; returns (exit code, stdout, stderr)."""

    def runner(*args: str, key: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--base-url", live_server.url, "--api-key", key or live_server.key or ""])
        out, err = capsys.readouterr()
        return code, out, err

    return runner


def later() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_accounts_list(run: Any) -> None:
    code, out, _ = run("accounts", "list")
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["ID", "PLATFORM", "HANDLE"]
    assert "demo_instagram" in out
    code, out, _ = run("accounts", "list", "--json")
    assert code == 0 and {a["platform"] for a in json.loads(out)} == {"instagram", "bluesky", "mastodon", "x"}


def test_posts_create_wait_get_list_cancel(run: Any, accounts: dict[str, str]) -> None:
    code, out, _ = run("posts", "create", "--caption", "cli now", "--account", accounts["instagram"],
                       "--account", accounts["bluesky"], "--media", MEDIA, "--wait", "--json")
    assert code == 0
    post = json.loads(out)
    assert post["status"] == "published" and all(t["permalink"] for t in post["targets"])

    code, out, _ = run("posts", "get", post["id"])
    assert code == 0 and post["id"] in out and "confirmed" in out and "https://" in out

    code, out, _ = run("posts", "create", "--caption", "cli later", "--account", accounts["x"], "--at", later())
    assert code == 0 and "scheduled" in out
    scheduled_id = out.split()[0]

    code, out, _ = run("posts", "list", "--status", "scheduled", "--json")
    assert code == 0 and scheduled_id in {p["id"] for p in json.loads(out)}
    code, out, _ = run("posts", "list", "--limit", "1")
    assert code == 0 and len(out.strip().splitlines()) == 2  # header + one post

    code, out, _ = run("posts", "update", scheduled_id, "--caption", "cli edited", "--media", MEDIA, "--alt", "A dog",
                       "--platforms", '{"x": {"options": {"reply_settings": "following"}}}', "--json")
    assert code == 0
    content = json.loads(out)["targets"][0]["content"]
    assert content["caption"] == "cli edited" and content["media"][0]["alt"] == "A dog"
    assert content["options"] == {"reply_settings": "following"}
    code, out, err = run("posts", "update", scheduled_id, "--platforms", '{"x": {"options": {"polls": 1}}}', "--json")
    assert code == 1 and json.loads(out)["error"]["details"][0]["rule"] == "x.options.unknown"

    code, out, _ = run("posts", "cancel", scheduled_id, "--json")
    assert code == 0 and json.loads(out)["status"] == "canceled"
    code, out, err = run("posts", "cancel", scheduled_id, "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "conflict" and "HTTP 409" in err


def test_posts_create_with_a_thread_and_the_client_too(run: Any, accounts: dict[str, str], live_server: Server) -> None:
    code, out, _ = run("posts", "create", "--caption", "1/3 cli thread", "--account", accounts["mastodon"],
                       "--thread", "2/3 more", "--thread", "3/3 end", "--wait")
    assert code == 0
    assert f"thread on mastodon ({accounts['mastodon']}): " in out
    post_id = out.split()[0]
    client = Client(live_server.key or "", base_url=live_server.url)
    done = wait_until(lambda: (p := client.posts.get(post_id)).targets[0].thread.status == "published" and p,
                      timeout=30, what="the thread published")
    thread = done.targets[0].thread
    assert (thread.published, thread.total) == (2, 2) and all(i.permalink for i in thread.items)
    assert [i.caption for i in done.thread] == ["2/3 more", "3/3 end"]
    code, out, _ = run("posts", "create", "--caption", "no threads here", "--account", accounts["instagram"],
                       "--media", MEDIA, "--thread", "2/2", "--json")
    assert code == 1 and json.loads(out)["error"]["details"][0]["rule"] == "instagram.thread.unsupported"
    later_post = client.posts.create("1/2", [accounts["bluesky"]], scheduled_at=later(),
                                     thread=["2/2", {"caption": "3/2", "media": [MEDIA]}])
    assert [(i.caption, len(i.media)) for i in later_post.thread or []] == [("2/2", 0), ("3/2", 1)]
    edited = client.posts.update(later_post.id, thread=["only one"])
    assert edited.targets[0].thread is not None and edited.targets[0].thread.total == 1
    client.posts.cancel(later_post.id)


def test_exit_codes(run: Any, accounts: dict[str, str], live_server: Server,
                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run("posts", "create", "--caption", "naive", "--account", accounts["x"], "--at", "2030-01-01 09:00")
    assert code == 1 and "timezone" in err
    code, out, err = run("posts", "create", "--caption", "no picture", "--account", accounts["instagram"], "--json")
    assert code == 1 and "instagram" in err
    assert json.loads(out)["error"]["details"][0]["platform"] == "instagram"
    code, _, err = run("posts", "get", "post_nothere")
    assert code == 1 and "not_found" in err
    code, out, err = run("accounts", "list", "--json", key="pd_test_wrong")
    assert code == 2 and json.loads(out)["error"]["code"] == "unauthorized"
    capsys.readouterr()
    code = main(["webhooks", "rotate", "wh_x", "--base-url", "http://127.0.0.1:9", "--api-key", "pd_test_x"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: cannot reach PostDodo at http://127.0.0.1:9: connection refused"
                   " — is `postdodo serve` running?\n")
    code, out, _ = run("posts", "create", "--caption", "waits too little", "--account", accounts["x"],
                       "--at", later(), "--wait", "--wait-timeout", "0.2", "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "wait_timeout"
    run("posts", "cancel", json.loads(out)["post"]["id"])


def test_missing_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("POSTDODO_API_KEY", raising=False)
    assert main(["accounts", "list"]) == 2
    assert "POSTDODO_API_KEY" in capsys.readouterr().err


def test_webhooks_commands(run: Any, sink: Sink) -> None:
    code, out, _ = run("webhooks", "add", sink.url, "--event", "post.published", "--description", "cli", "--json")
    assert code == 0
    endpoint = json.loads(out)
    assert endpoint["secret"].startswith("whsec_")
    code, out, _ = run("webhooks", "list")
    assert code == 0 and endpoint["id"] in out and "post.published" in out
    code, out, _ = run("webhooks", "rotate", endpoint["id"])
    assert code == 0 and "secret (shown once" in out and endpoint["secret"] not in out
    code, out, _ = run("webhooks", "test", endpoint["id"], "--json")
    assert code == 0
    event_id = json.loads(out)["event"]["id"]
    _, event, _ = sink.next_event("webhook.test")
    assert event["id"] == event_id
    code, out, _ = run("webhooks", "deliveries", endpoint["id"], "--json")
    assert code == 0 and event_id in {d["event_id"] for d in json.loads(out)}
    code, out, _ = run("webhooks", "deliveries", endpoint["id"])
    assert code == 0 and "webhook.test" in out
    code, out, _ = run("webhooks", "enable", endpoint["id"])
    assert code == 0 and "enabled" in out
    code, out, _ = run("webhooks", "remove", endpoint["id"])
    assert code == 0 and "removed" in out
    code, _, _ = run("webhooks", "test", endpoint["id"])
    assert code == 1


def test_accounts_add_and_remove(run: Any) -> None:
    code, out, _ = run("accounts", "add", "threads", "--handle", "cli_threads", "--fault", "latency_ms=5", "--json")
    assert code == 0
    added = json.loads(out)
    assert (added["platform"], added["handle"], added["mode"]) == ("threads", "cli_threads", "sandbox")
    code, out, _ = run("accounts", "remove", added["id"])
    assert code == 0 and "disconnected" in out
    # a pd_test_ workspace cannot take live credentials: refused by the API, exit code 1, nothing stored
    code, _, err = run("accounts", "add", "telegram", "--credential", "bot_token=1:x", "--credential", "chat_id=@c")
    assert code == 1 and "sandbox" in err
    code, _, err = run("accounts", "add", "telegram", "--credential", "no-equals-sign")
    assert code == 1 and "KEY=VALUE" in err
    code, out, _ = run("accounts", "list", "--json")
    assert "cli_threads" not in out


def test_webhooks_list_says_why_an_endpoint_is_disabled(run: Any, sink: Sink, client: Client) -> None:
    code, out, _ = run("webhooks", "add", sink.url, "--event", "account.disconnected", "--json")
    endpoint_id = json.loads(out)["id"]
    code, out, _ = run("webhooks", "deliveries", endpoint_id, "--status", "failed")
    assert code == 0 and out == "no failed deliveries\n"
    sink.status = 410
    try:
        run("webhooks", "test", endpoint_id)
        wait_until(lambda: client.webhooks.get(endpoint_id).status == "disabled", what="endpoint disabled")
    finally:
        sink.status = 200
    code, out, _ = run("webhooks", "list")
    header, *rows = out.splitlines()
    assert code == 0 and header.split()[-2:] == ["DISABLED", "BECAUSE"]
    assert any(endpoint_id in row and "disabled" in row and row.endswith("the endpoint answered 410 Gone")
               for row in rows)
    run("webhooks", "remove", endpoint_id)


def test_events_list_get_redeliver(run: Any, sink: Sink) -> None:
    code, out, _ = run("webhooks", "add", sink.url, "--event", "account.disconnected", "--json")
    endpoint_id = json.loads(out)["id"]
    code, out, _ = run("webhooks", "test", endpoint_id, "--json")
    event_id = json.loads(out)["event"]["id"]
    sink.next_event("webhook.test")
    code, out, _ = run("events", "list", "--type", "webhook.test", "--limit", "1000")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "EVENT", "CREATED"] and event_id in out
    code, out, _ = run("events", "list", "--post", "post_none")
    assert code == 0 and out == "no events for post_none\n"
    code, out, _ = run("events", "get", event_id)
    assert code == 0 and json.loads(out)["id"] == event_id
    code, out, err = run("events", "redeliver", event_id, "--endpoint", endpoint_id)
    assert code == 0 and out.startswith(f"queued {event_id} again as 1 delivery(ies): ")
    _, again, _ = sink.next_event("webhook.test")
    assert again["id"] == event_id  # the same event, sent again
    code, _, err = run("events", "get", "evt_nothere")
    assert code == 1 and "not_found" in err
    run("webhooks", "remove", endpoint_id)


def test_posts_unpublish_waits_and_shows_the_plan(run: Any, accounts: dict[str, str]) -> None:
    code, out, _ = run("posts", "create", "--caption", "cli gone soon", "--account", accounts["mastodon"], "--wait",
                       "--json")
    assert code == 0
    post_id = json.loads(out)["id"]
    code, out, _ = run("posts", "unpublish", post_id, "--wait", "--json")
    assert code == 0
    done = json.loads(out)
    assert done["status"] == "unpublished" and done["targets"][0]["status"] == "unpublished"
    code, out, _ = run("posts", "unpublish", post_id)
    assert code == 0 and "unpublished" in out and accounts["mastodon"] in out
