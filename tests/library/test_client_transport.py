"""Transport behaviour with `responses`: retries, backoff, Retry-After, idempotency keys, the error mapping."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
import responses

import postdodo_connect
from postdodo_connect import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    Client,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    UnsupportedMediaTypeError,
)
from postdodo_connect.client import error_from_response
from postdodo_connect.client._http import parse_retry_after
from tests.support.server import free_port

BASE = "http://api.test"
POST_JSON: dict[str, Any] = {
    "id": "post_1", "status": "publishing", "caption": "hi", "scheduled_at": None, "media": [],
    "targets": [{"account_id": "acct_1", "platform": "x", "status": "scheduled", "attempts": 0}],
    "created_at": "2030-01-01T00:00:00Z",
}
ACCOUNTS_JSON = {"data": [{"id": "acct_1", "platform": "x", "handle": "h", "mode": "sandbox", "status": "active"}],
                 "has_more": False, "next_cursor": None}


class Sleeps(list[float]):
    """A sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Client:
    return Client("pd_test_abc", base_url=BASE, sleep=sleeps)


def error_body(code: str, message: str = "nope", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": "req_body", **extra}}


@responses.activate
def test_429_with_retry_after_waits_then_succeeds(client: Client, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/v1/accounts", status=429, json=error_body("rate_limited"), headers={"Retry-After": "7"})
    responses.get(f"{BASE}/v1/accounts", json=ACCOUNTS_JSON)
    assert [a.id for a in client.accounts.list()] == ["acct_1"]
    assert sleeps == [7.0]


@responses.activate
def test_429_retry_after_over_the_cap_is_raised_at_once(sleeps: Sleeps) -> None:
    client = Client("pd_test_abc", base_url=BASE, sleep=sleeps, max_retry_wait=30)
    responses.get(f"{BASE}/v1/accounts", status=429, json=error_body("rate_limited"), headers={"Retry-After": "600"})
    with pytest.raises(RateLimitError) as info:
        client.accounts.list()
    assert info.value.retry_after == 600 and sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_429_gives_up_after_max_retries(client: Client, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/v1/accounts", status=429, json=error_body("rate_limited"), headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError) as info:
        client.accounts.list()
    assert len(responses.calls) == 4 and sleeps == [1.0, 1.0, 1.0]
    assert info.value.retry_after == 1.0 and info.value.request_id == "req_body"


@responses.activate
def test_429_of_a_post_without_key_is_retried(client: Client, sleeps: Sleeps) -> None:
    # the rate limiter answers before anything runs, so repeating is safe even without a key
    responses.post(f"{BASE}/v1/webhooks/wh_1/rotate", status=429, json=error_body("rate_limited"),
                   headers={"Retry-After": "2"})
    responses.post(f"{BASE}/v1/webhooks/wh_1/rotate", json={"id": "wh_1", "url": "https://h.test/x", "events": [],
                                                            "status": "enabled", "secret": "whsec_x"})
    assert client.webhooks.rotate("wh_1").secret == "whsec_x" and sleeps == [2.0]


@responses.activate
def test_503_then_200_backs_off(client: Client, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/v1/posts/post_1", status=503, json=error_body("unavailable"))
    responses.get(f"{BASE}/v1/posts/post_1", status=502, body="<html>bad gateway</html>")
    responses.get(f"{BASE}/v1/posts/post_1", json=POST_JSON)
    assert client.posts.get("post_1").id == "post_1"
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, with jitter


@responses.activate
def test_connection_error_then_200(client: Client, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/v1/accounts", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/v1/accounts", json=ACCOUNTS_JSON)
    assert len(client.accounts.list()) == 1 and len(sleeps) == 1


@responses.activate
def test_connection_errors_end_as_api_connection_error(client: Client, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/v1/accounts", body=requests.ConnectTimeout("slow"))
    with pytest.raises(APIConnectionError) as info:
        client.accounts.list()
    assert str(info.value) == f"cannot reach PostDodo at {BASE}: no answer in time"
    assert len(responses.calls) == 4 and len(sleeps) == 3


def test_a_refused_connection_is_said_in_words() -> None:
    port = free_port()
    with pytest.raises(APIConnectionError) as info:
        Client("pd_test_abc", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0).accounts.list()
    assert str(info.value) == f"cannot reach PostDodo at http://127.0.0.1:{port}: connection refused"
    with pytest.raises(APIConnectionError) as info:
        Client("pd_test_abc", base_url="http://no-such-host.invalid", max_retries=0).accounts.list()
    assert str(info.value) == "cannot reach PostDodo at http://no-such-host.invalid: host name not found"


@responses.activate
def test_post_without_idempotency_key_is_never_retried(client: Client, sleeps: Sleeps) -> None:
    responses.post(f"{BASE}/v1/webhooks/wh_1/test", status=503, json=error_body("unavailable"))
    with pytest.raises(APIError) as info:
        client.webhooks.test("wh_1")
    assert info.value.status == 503 and len(responses.calls) == 1 and sleeps == []
    responses.post(f"{BASE}/v1/events/evt_1/redeliver", body=requests.ConnectionError("reset"))
    with pytest.raises(APIConnectionError):
        client.events.redeliver("evt_1")
    assert len(responses.calls) == 2 and sleeps == []


@responses.activate
def test_create_always_sends_a_key_and_repeats_it(client: Client, sleeps: Sleeps) -> None:
    responses.post(f"{BASE}/v1/posts", status=500, json=error_body("internal_error"))
    responses.post(f"{BASE}/v1/posts", body=requests.ConnectionError("reset"))
    responses.post(f"{BASE}/v1/posts", status=201, json=POST_JSON)
    post = client.posts.create("hi", "acct_1")
    assert post.id == "post_1" and len(sleeps) == 2
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert len(keys) == 1 and uuid.UUID(keys.pop()).version == 4
    assert json.loads(responses.calls[0].request.body) == {"caption": "hi", "account_ids": ["acct_1"]}


@responses.activate
def test_create_uses_the_given_key_and_shapes_the_body(client: Client) -> None:
    responses.post(f"{BASE}/v1/posts", status=201, json=POST_JSON)
    client.posts.create("hi", ["acct_1", "acct_2"], scheduled_at="2030-01-01T10:00:00+01:00",
                        media=["https://cdn.test/a.jpg", "https://cdn.test/b.MP4?x=1",
                               {"type": "image", "url": "https://cdn.test/c"}], idempotency_key="mine")
    request = responses.calls[0].request
    assert request.headers["Idempotency-Key"] == "mine"
    assert request.headers["User-Agent"] == f"postdodo-connect/{postdodo_connect.__version__}"
    assert request.headers["Authorization"] == "Bearer pd_test_abc"
    assert json.loads(request.body) == {
        "caption": "hi", "account_ids": ["acct_1", "acct_2"], "scheduled_at": "2030-01-01T09:00:00Z",
        "media": [{"type": "image", "url": "https://cdn.test/a.jpg"}, {"type": "video", "url": "https://cdn.test/b.MP4?x=1"},
                  {"type": "image", "url": "https://cdn.test/c"}]}


@responses.activate
def test_max_retries_zero_means_one_try(sleeps: Sleeps) -> None:
    client = Client("pd_test_abc", base_url=BASE, sleep=sleeps, max_retries=0)
    responses.get(f"{BASE}/v1/accounts", status=503, json=error_body("unavailable"))
    with pytest.raises(APIError):
        client.accounts.list()
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_list_follows_cursors_and_stops_at_limit(client: Client) -> None:
    page = {"data": [POST_JSON | {"id": f"post_{i}"} for i in range(3)], "has_more": True, "next_cursor": "c2"}
    last = {"data": [POST_JSON | {"id": "post_9"}], "has_more": False, "next_cursor": None}
    responses.get(f"{BASE}/v1/posts", json=page, match=[responses.matchers.query_param_matcher(
        {"limit": "100", "status": "scheduled"})])
    responses.get(f"{BASE}/v1/posts", json=last, match=[responses.matchers.query_param_matcher(
        {"limit": "100", "status": "scheduled", "cursor": "c2"})])
    assert [p.id for p in client.posts.list(status="scheduled")] == ["post_0", "post_1", "post_2", "post_9"]
    responses.calls.reset()
    responses.get(f"{BASE}/v1/posts", json=page, match=[responses.matchers.query_param_matcher({"limit": "2"})])
    assert [p.id for p in client.posts.list(limit=2)] == ["post_0", "post_1"]
    assert len(responses.calls) == 1  # no second page fetched once the limit is reached


ERROR_TABLE = [
    (400, "invalid_request", InvalidRequestError),
    (401, "unauthorized", AuthenticationError),
    (404, "not_found", NotFoundError),
    (405, "method_not_allowed", MethodNotAllowedError),
    (409, "conflict", ConflictError),
    (409, "idempotency_conflict", ConflictError),
    (413, "payload_too_large", PayloadTooLargeError),
    (415, "unsupported_media_type", UnsupportedMediaTypeError),
    (429, "rate_limited", RateLimitError),
    (500, "internal_error", APIError),
    (503, "unavailable", APIError),
    (418, "teapot", APIError),
]


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_TABLE)
@responses.activate
def test_error_mapping_table(status: int, code: str, cls: type[APIError]) -> None:
    details = [{"field": "caption", "platform": "x", "rule": "x.text.max_weighted_length", "message": "too long"}]
    responses.post(f"{BASE}/v1/posts/validate", status=status, headers={"X-Request-Id": "req_header"},
                   json=error_body(code, "it went wrong", param="caption", details=details))
    client = Client("pd_test_abc", base_url=BASE, max_retries=0)
    with pytest.raises(cls) as info:
        client.posts.validate("x", ["acct_1"])
    error = info.value
    assert type(error) is cls and error.status == status and error.code == code
    assert error.message == "it went wrong" and error.param == "caption"
    assert error.details == details and error.request_id == "req_body"


@responses.activate
def test_non_json_answers_still_map() -> None:
    client = Client("pd_test_abc", base_url=BASE, max_retries=0)
    responses.get(f"{BASE}/v1/accounts", status=404, body="<html>Not Found</html>", headers={"X-Request-Id": "req_h"})
    with pytest.raises(NotFoundError) as info:
        client.accounts.list()
    assert info.value.request_id == "req_h" and "Not Found" in info.value.message
    responses.replace(responses.GET, f"{BASE}/v1/accounts", status=200, body="<html>login</html>",
                      content_type="text/html")
    with pytest.raises(APIError) as bad:
        client.accounts.list()
    assert bad.value.code == "invalid_response" and "text/html" in bad.value.message
    responses.replace(responses.GET, f"{BASE}/v1/accounts", status=302, headers={"Location": "https://x.test/"})
    with pytest.raises(APIError) as moved:
        client.accounts.list()
    assert moved.value.status == 302 and len(responses.calls) == 3  # redirects are not followed


def test_retry_after_forms() -> None:
    from datetime import UTC, datetime

    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Tue, 01 Jan 2030 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_error_from_response_keeps_headers() -> None:
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = "3"
    response._content = json.dumps(error_body("rate_limited")).encode()
    response.request = requests.Request("GET", f"{BASE}/v1/accounts").prepare()
    response.url = f"{BASE}/v1/accounts"
    error = error_from_response(response)
    assert isinstance(error, RateLimitError) and error.retry_after == 3.0 and error.headers["Retry-After"] == "3"


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTDODO_API_KEY", raising=False)
    monkeypatch.delenv("POSTDODO_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="POSTDODO_API_KEY"):
        Client()
    monkeypatch.setenv("POSTDODO_API_KEY", "pd_test_env")
    client = Client()
    assert client.base_url == "http://127.0.0.1:8080" and "pd_test_env" not in repr(client)
    with pytest.raises(ConfigurationError):
        Client(base_url="ftp://nope")
    assert Client(base_url="https://api.example.com/v1/").base_url == "https://api.example.com"


def test_ids_cannot_escape_their_path_segment(client: Client) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE}/v1/posts/..%2Fwebhooks", json=POST_JSON)
        client.posts.get("../webhooks")
    with pytest.raises(ValueError):
        client.posts.get("")
