"""AsyncClient on a real aiohttp session: every resource against a real `postdodo serve`, and the same retries
and error mapping as the blocking Client against a local server that answers whatever a test scripts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

import postdodo_connect
from postdodo_connect import (
    APIConnectionError,
    APIError,
    AsyncClient,
    AuthenticationError,
    Client,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Post,
    RateLimitError,
    WaitTimeout,
)
from postdodo_connect.client import _calls as calls
from tests.library.test_client_transport import ERROR_TABLE, POST_JSON, error_body
from tests.support.server import Server, free_port

T = TypeVar("T")


def run(body: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    """Run ``body`` with a fresh aiohttp session in a fresh event loop."""
    async def main() -> T:
        async with aiohttp.ClientSession() as session:
            return await body(session)

    return asyncio.run(main())


class Sleeps(list[float]):
    """An async sleep that records instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


# -- against a real `postdodo serve` ----------------------------------------------------------------------

def test_resources_against_the_live_server(live_server: Server) -> None:
    def on(session: aiohttp.ClientSession) -> AsyncClient:
        return AsyncClient(live_server.key, base_url=live_server.url + "/v1/", session=session)

    async def body(session: aiohttp.ClientSession) -> None:
        client = on(session)
        accounts = {a.platform: a.id for a in await client.accounts.list()}
        assert set(accounts) >= {"instagram", "bluesky", "mastodon", "x"}

        post = await client.posts.create("hello from asyncio", [accounts["bluesky"], accounts["x"]],
                                         idempotency_key="async-1")
        assert isinstance(post, Post) and post.status == "publishing" and len(post.targets) == 2
        again = await client.posts.create("hello from asyncio", [accounts["bluesky"], accounts["x"]],
                                          idempotency_key="async-1")
        assert again.id == post.id and client.last_response and client.last_response.replayed
        done = await client.posts.wait(post.id, timeout=30, interval=0.05)
        assert done.status == "published" and all(t.permalink for t in done.targets)
        plan = await client.posts.unpublish(post.id)
        assert {s.action for s in plan.targets} == {"unpublishing"}
        gone = await client.posts.wait(post.id, timeout=30, interval=0.05)
        assert gone.status == "unpublished" and {t.status for t in gone.targets} == {"unpublished"}
        listed = [p.id async for p in client.posts.list(limit=1)]
        assert len(listed) == 1

        when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        later = await client.posts.create("later", accounts["mastodon"], scheduled_at=when)
        assert later.status == "scheduled" and later.scheduled_at == when
        assert (await client.posts.get(later.id)).id == later.id
        edited = await client.posts.update(later.id, caption="later, edited")
        assert edited.caption == "later, edited" and edited.targets[0].content
        assert edited.targets[0].content.caption == "later, edited"
        assert (await client.posts.cancel(later.id)).status == "canceled"
        with pytest.raises(ConflictError) as conflict:
            await client.posts.cancel(later.id)
        assert conflict.value.status == 409 and conflict.value.request_id

        with pytest.raises(InvalidRequestError) as refused:
            await client.posts.create("", [accounts["instagram"]])
        assert refused.value.details and refused.value.code == "invalid_request"
        assert (await client.posts.validate("fine", [accounts["x"]])).valid

        made = await client.accounts.create("threads", handle="from_asyncio")
        assert (await client.accounts.delete(made.id)).status == "disconnected"

        endpoint = await client.webhooks.create("http://127.0.0.1:9/hook", events=["post.published"])
        assert endpoint.secret and endpoint.secret.startswith("whsec_")
        assert endpoint.id in {w.id for w in await client.webhooks.list()}
        assert (await client.webhooks.get(endpoint.id)).events == ["post.published"]
        assert (await client.webhooks.rotate(endpoint.id, expire_now=True)).secret != endpoint.secret
        assert (await client.webhooks.enable(endpoint.id)).status == "enabled"
        test = await client.webhooks.test(endpoint.id)
        assert test.event.event == "webhook.test"
        assert test.delivery_id in {d.id for d in await client.webhooks.deliveries(endpoint.id)}
        assert (await client.events.redeliver(test.event.id)).event_id == test.event.id
        await client.webhooks.delete(endpoint.id)
        with pytest.raises(NotFoundError):
            await client.webhooks.get(endpoint.id)

        with pytest.raises(AuthenticationError) as denied:
            await AsyncClient("pd_test_wrong", base_url=live_server.url, session=session).accounts.list()
        assert denied.value.status == 401
        await client.close()
        assert not session.closed  # an injected session belongs to the caller

    run(body)


def test_sync_and_async_clients_read_the_same(live_server: Server) -> None:
    with Client(live_server.key, base_url=live_server.url) as sync:
        bluesky = [a.id for a in sync.accounts.list() if a.platform == "bluesky"]
        post = sync.posts.create("seen by both", bluesky)
        sync.posts.wait(post.id, timeout=30, interval=0.05)  # its publish moves the account's health: let it land
        expected = [a.model_dump() for a in sync.accounts.list()]

    async def body(session: aiohttp.ClientSession) -> tuple[list[dict[str, Any]], Post]:
        client = AsyncClient(live_server.key, base_url=live_server.url, session=session)
        return [a.model_dump() for a in await client.accounts.list()], await client.posts.get(post.id)

    accounts, read = run(body)
    assert accounts == expected and read.id == post.id and read.caption == "seen by both"


def test_own_session_is_opened_and_closed(live_server: Server) -> None:
    async def main() -> bool:
        async with AsyncClient(live_server.key, base_url=live_server.url) as client:
            assert await client.accounts.list()
            session = client._transport.session
            assert session is not None and not session.closed
        return session.closed

    assert asyncio.run(main())


def test_wait_times_out_with_the_last_state(live_server: Server) -> None:
    async def body(session: aiohttp.ClientSession) -> None:
        client = AsyncClient(live_server.key, base_url=live_server.url, session=session)
        account = next(a for a in await client.accounts.list() if a.platform == "x")
        post = await client.posts.create("not yet", account.id,
                                         scheduled_at=datetime.now(UTC) + timedelta(hours=1))
        with pytest.raises(WaitTimeout) as info:
            await client.posts.wait(post.id, timeout=0.2, interval=0.05)
        assert info.value.post.status == "scheduled"
        with pytest.raises(ValueError):
            await client.posts.wait(post.id, until="soon")  # type: ignore[arg-type]

    run(body)


# -- against scripted answers --------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Scripted:
    """A local aiohttp server: each request takes the next answer scripted for its method and path."""

    url: str
    answers: dict[tuple[str, str], list[Answer | Callable[[], Awaitable[Answer]]]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # set at teardown: stalled answers end

    def add(self, method: str, path: str, status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
            raw: bytes | None = None) -> None:
        """Script one answer; ``body`` is sent as JSON, ``raw`` as it is."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        kind = {} if raw is not None else {"Content-Type": "application/json"}
        self.answers.setdefault((method, path), []).append((status, {**kind, **(headers or {})}, data))


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    """The scripted server, on its own event loop in a thread, so the blocking Client can call it too."""
    port = free_port()
    server = Scripted(f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.StreamResponse:
        server.requests.append((request.method, request.path_qs, dict(request.headers), await request.read()))
        queue = server.answers.get((request.method, request.path), [])
        if not queue:
            return web.Response(status=599, text="nothing scripted")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        status, headers, body = await answer() if callable(answer) else answer
        return web.Response(status=status, headers=headers, body=body)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server
    loop.call_soon_threadsafe(server.release.set)
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def client_on(session: aiohttp.ClientSession, url: str, sleeps: Sleeps | None = None, **kwargs: Any) -> AsyncClient:
    return AsyncClient("pd_test_abc", base_url=url, session=session, sleep=sleeps if sleeps is not None else Sleeps(),
                       **kwargs)


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_TABLE)
def test_error_mapping_is_the_blocking_clients(scripted: Scripted, status: int, code: str, cls: type[APIError]) -> None:
    details = [{"field": "caption", "platform": "x", "rule": "x.text.max_weighted_length", "message": "too long"}]
    scripted.add("POST", "/v1/posts/validate", status, error_body(code, "it went wrong", param="caption",
                                                                   details=details), {"X-Request-Id": "req_header"})

    async def body(session: aiohttp.ClientSession) -> APIError:
        with pytest.raises(cls) as info:
            await client_on(session, scripted.url, max_retries=0).posts.validate("x", ["acct_1"])
        return info.value

    error = run(body)
    with pytest.raises(cls) as blocking:
        Client("pd_test_abc", base_url=scripted.url, max_retries=0).posts.validate("x", ["acct_1"])
    assert type(error) is cls and error.status == status and error.code == code
    assert error.message == "it went wrong" and error.param == "caption"
    assert error.details == details and error.request_id == "req_body"
    assert (type(blocking.value), blocking.value.code, blocking.value.message, blocking.value.details) == (
        type(error), error.code, error.message, error.details)


def test_retries_honour_retry_after_and_back_off(scripted: Scripted) -> None:
    scripted.add("GET", "/v1/accounts", 429, error_body("rate_limited"), {"Retry-After": "7"})
    scripted.add("GET", "/v1/accounts", 503, error_body("unavailable"))
    scripted.add("GET", "/v1/accounts", 502, raw=b"<html>bad gateway</html>")
    scripted.add("GET", "/v1/accounts", 200, {"data": [{"id": "acct_1", "platform": "x", "handle": "h",
                                                        "mode": "sandbox", "status": "active"}], "has_more": False})
    sleeps = Sleeps()

    async def body(session: aiohttp.ClientSession) -> list[str]:
        return [a.id for a in await client_on(session, scripted.url, sleeps).accounts.list()]

    assert run(body) == ["acct_1"]
    assert sleeps[0] == 7.0 and 0.5 <= sleeps[1] <= 1.0 and 1.0 <= sleeps[2] <= 2.0


def test_rate_limit_over_the_cap_is_raised_at_once(scripted: Scripted) -> None:
    scripted.add("GET", "/v1/accounts", 429, error_body("rate_limited"), {"Retry-After": "600"})
    sleeps = Sleeps()

    async def body(session: aiohttp.ClientSession) -> RateLimitError:
        with pytest.raises(RateLimitError) as info:
            await client_on(session, scripted.url, sleeps, max_retry_wait=30).accounts.list()
        return info.value

    assert run(body).retry_after == 600 and sleeps == [] and len(scripted.requests) == 1


def test_create_sends_one_key_across_retries_and_shapes_the_body(scripted: Scripted) -> None:
    scripted.add("POST", "/v1/posts", 500, error_body("internal_error"))
    scripted.add("POST", "/v1/posts", 201, POST_JSON)

    async def body(session: aiohttp.ClientSession) -> Post:
        return await client_on(session, scripted.url).posts.create(
            "hi", ["acct_1"], scheduled_at="2030-01-01T10:00:00+01:00", media=["https://cdn.test/b.mp4"])

    assert run(body).id == "post_1"
    keys = {headers["Idempotency-Key"] for _, _, headers, _ in scripted.requests}
    assert len(scripted.requests) == 2 and len(keys) == 1 and uuid.UUID(keys.pop()).version == 4
    _, _, headers, sent = scripted.requests[0]
    assert headers["Authorization"] == "Bearer pd_test_abc"
    assert headers["User-Agent"] == f"postdodo-connect/{postdodo_connect.__version__}"
    assert json.loads(sent) == {"caption": "hi", "account_ids": ["acct_1"], "scheduled_at": "2030-01-01T09:00:00Z",
                                "media": [{"type": "video", "url": "https://cdn.test/b.mp4"}]}


def test_post_without_key_is_never_retried(scripted: Scripted) -> None:
    scripted.add("POST", "/v1/webhooks/wh_1/test", 503, error_body("unavailable"))
    sleeps = Sleeps()

    async def body(session: aiohttp.ClientSession) -> APIError:
        with pytest.raises(APIError) as info:
            await client_on(session, scripted.url, sleeps).webhooks.test("wh_1")
        return info.value

    assert run(body).status == 503 and len(scripted.requests) == 1 and sleeps == []


def test_answers_that_are_not_the_api(scripted: Scripted) -> None:
    scripted.add("GET", "/v1/accounts", 404, raw=b"<html>Not Found</html>", headers={"X-Request-Id": "req_h"})
    scripted.add("GET", "/v1/posts/post_1", 200, raw=b"<html>login</html>", headers={"Content-Type": "text/html"})
    scripted.add("GET", "/v1/webhooks/wh_1", 302, raw=b"", headers={"Location": "https://x.test/"})

    async def body(session: aiohttp.ClientSession) -> tuple[APIError, APIError, APIError]:
        client = client_on(session, scripted.url, max_retries=0)
        with pytest.raises(NotFoundError) as missing:
            await client.accounts.list()
        with pytest.raises(APIError) as html:
            await client.posts.get("post_1")
        with pytest.raises(APIError) as moved:
            await client.webhooks.get("wh_1")
        return missing.value, html.value, moved.value

    missing, html, moved = run(body)
    assert missing.request_id == "req_h" and "Not Found" in missing.message and missing.code == "invalid_response"
    assert html.code == "invalid_response" and "text/html" in html.message
    assert moved.status == 302 and len(scripted.requests) == 3  # redirects are not followed


def test_lists_follow_cursors_and_stop_at_the_limit(scripted: Scripted) -> None:
    first = {"data": [POST_JSON | {"id": f"post_{i}"} for i in range(3)], "has_more": True, "next_cursor": "c2"}
    last = {"data": [POST_JSON | {"id": "post_9"}], "has_more": False, "next_cursor": None}
    scripted.add("GET", "/v1/posts", 200, first)
    scripted.add("GET", "/v1/posts", 200, last)

    async def body(session: aiohttp.ClientSession) -> list[str]:
        return [p.id async for p in client_on(session, scripted.url).posts.list(status="scheduled")]

    assert run(body) == ["post_0", "post_1", "post_2", "post_9"]
    assert [path for _, path, _, _ in scripted.requests] == ["/v1/posts?status=scheduled&limit=100",
                                                              "/v1/posts?status=scheduled&limit=100&cursor=c2"]


def test_unreachable_and_slow_servers_are_connection_errors(scripted: Scripted) -> None:
    async def slow() -> Answer:
        await scripted.release.wait()  # no answer until teardown; the client's timeout ends the wait
        return 200, {}, b"{}"

    scripted.answers[("GET", "/v1/posts/slow")] = [slow]
    sleeps = Sleeps()

    async def body(session: aiohttp.ClientSession) -> tuple[APIConnectionError, APIConnectionError]:
        refused = client_on(session, f"http://127.0.0.1:{free_port()}", sleeps)
        with pytest.raises(APIConnectionError, match=r"^cannot reach PostDodo at http://127\.0\.0\.1:\d+: "
                                                     r"connection refused$") as unreachable:
            await refused.accounts.list()
        with pytest.raises(APIConnectionError) as timed_out:
            await client_on(session, scripted.url, timeout=0.2, max_retries=0).posts.get("slow")
        return unreachable.value, timed_out.value

    unreachable, timed_out = run(body)
    assert len(sleeps) == 3 and "pd_test_abc" not in str(unreachable)
    assert str(timed_out) == f"cannot reach PostDodo at {scripted.url}: no answer in time"


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTDODO_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="POSTDODO_API_KEY"):
        AsyncClient()
    with pytest.raises(ConfigurationError, match="base URL"):
        AsyncClient("pd_test_abc", base_url="ftp://example.com")
    with pytest.raises(ConfigurationError):
        AsyncClient("pd_test_abc", max_retries=-1)
    assert "pd_test_abc" not in repr(AsyncClient("pd_test_abc", base_url="http://h.test/v1"))
    assert AsyncClient("pd_test_abc", base_url="http://h.test/v1/").base_url == "http://h.test"


def test_the_docs_example_runs(live_server: Server) -> None:
    """The asyncio example of docs/client.md runs as written against a real server."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text()
    [code] = [block for block in re.findall(r"```python\n(.*?)```", doc, re.S) if "asyncio.run(main())" in block]
    env = {**os.environ, "POSTDODO_API_KEY": str(live_server.key), "POSTDODO_BASE_URL": live_server.url}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("published ['https://")


def test_events_list_and_get_match_the_blocking_client(scripted: Scripted) -> None:
    event = {"id": "evt_1", "event": "post.published", "created_at": "2030-01-01T00:00:00Z",
             "data": {"post_id": "post_1"}}
    scripted.add("GET", "/v1/events", 200, {"data": [event], "has_more": True, "next_cursor": "c2"})
    scripted.add("GET", "/v1/events", 200, {"data": [event | {"id": "evt_2"}], "has_more": False,
                                            "next_cursor": "c3"})
    scripted.add("GET", "/v1/events/evt_1", 200, event)

    async def body(session: aiohttp.ClientSession) -> tuple[list[str], str]:
        client = client_on(session, scripted.url)
        listed = await client.events.list(type="post.published", post_id="post_1")
        return [e.id for e in listed], (await client.events.get("evt_1")).post_id or ""

    assert run(body) == (["evt_1", "evt_2"], "post_1")
    assert [path for _, path, _, _ in scripted.requests] == [
        "/v1/events?type=post.published&post_id=post_1&limit=100",
        "/v1/events?type=post.published&post_id=post_1&limit=100&cursor=c2", "/v1/events/evt_1"]
    blocking = calls.list_events("post.published", "post_1", 100)  # one request builder for both clients
    assert (blocking.path, dict(blocking.params or {})) == ("/v1/events", {"type": "post.published",
                                                                            "post_id": "post_1", "limit": 100})


def test_request_sends_any_body_with_the_clients_key_and_errors(live_server: Server) -> None:
    """AsyncClient.request / Client.request: a prepared body (alt text included) against the real API."""
    from postdodo_connect.client.aio import AsyncTransport as StillHere  # the old import path still works

    assert StillHere.__name__ == "AsyncTransport"
    body = {"caption": "raw", "scheduled_at": "2030-07-01T09:00:00Z",
            "media": [{"type": "image", "url": "https://cdn.test/a.jpg", "alt": "A test card"}]}

    async def body_of(session: aiohttp.ClientSession) -> tuple[Any, Any]:
        aclient = AsyncClient(live_server.key, base_url=live_server.url, session=session)
        account = next(a.id for a in await aclient.accounts.list() if a.platform == "mastodon")
        created = await aclient.request("POST", "/v1/posts", json=body | {"account_ids": [account]},
                                        idempotency_key="async-raw-1")
        with pytest.raises(InvalidRequestError):
            await aclient.request("POST", "/v1/posts", json={"caption": "no accounts"}, idempotency_key="raw-2")
        return created, await aclient.request("DELETE", f"/v1/posts/{created['id']}")

    created, canceled = run(body_of)
    assert created["media"][0]["alt"] == "A test card" and canceled["status"] == "canceled"
    with Client(live_server.key, base_url=live_server.url) as sync:
        assert sync.request("GET", f"/v1/posts/{created['id']}")["status"] == "canceled"
