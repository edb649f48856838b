"""The verify-and-enqueue view against a real Redis and a real RQ worker."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from receiver.app import EXTENSION_KEY
from receiver.queue import job_id_for
from tests.receiver.helpers import (
    OTHER_SECRET,
    PATH,
    deliver,
    job_keys,
    make_event,
    queue_length,
    recorded,
    run_worker,
    signed,
)


def test_signed_post_published_is_enqueued_and_runs(client: FlaskClient, rconn: Redis) -> None:
    event = make_event("evt_happy")
    response = deliver(client, event)
    assert response.status_code == 202
    assert response.json == {"status": "enqueued", "event_id": "evt_happy", "job_id": job_id_for("evt_happy")}
    assert queue_length(rconn) == 1
    job = Job.fetch(job_id_for("evt_happy"), connection=rconn, serializer=JSONSerializer)
    assert job.func_name == "tests.receiver.jobs.record"
    assert job.args == [event]  # the verified event as a dict, not the request
    assert job.result_ttl is not None and job.result_ttl >= 3 * 24 * 3600 + 3600
    run_worker(rconn)
    assert recorded(rconn) == [event]
    assert queue_length(rconn) == 0


def test_post_published_is_routed_by_default(make_app: Callable[..., Flask], rconn: Redis,
                                             caplog: pytest.LogCaptureFixture) -> None:
    client = make_app().test_client()
    assert deliver(client, make_event("evt_default")).status_code == 202
    job = Job.fetch(job_id_for("evt_default"), connection=rconn, serializer=JSONSerializer)
    assert job.func_name == "receiver.jobs.log_event"
    with caplog.at_level(logging.INFO, logger="receiver.jobs"):
        run_worker(rconn)
    assert any("evt_default" in record.getMessage() for record in caplog.records if record.name == "receiver.jobs")


def test_standard_header_names_alone_are_accepted(client: FlaskClient, rconn: Redis) -> None:
    body = json.dumps(make_event("evt_std")).encode()
    headers = {k: v for k, v in signed(body, "evt_std").items() if k.startswith("webhook-")}
    assert client.post(PATH, data=body, headers=headers).status_code == 202


def test_rotation_any_configured_secret(make_app: Callable[..., Flask], rconn: Redis) -> None:
    from tests.receiver.helpers import SECRET

    client = make_app(secrets=f"{SECRET} {OTHER_SECRET}", routes="post.published=tests.receiver.jobs:record")
    test_client = client.test_client()
    assert deliver(test_client, make_event("evt_a"), secrets=[OTHER_SECRET]).status_code == 202
    assert deliver(test_client, make_event("evt_b"), secrets=[SECRET]).status_code == 202
    assert queue_length(rconn) == 2


# --- the attack table: every case answers its 4xx and enqueues nothing ----------------------------

BODY = json.dumps(make_event("evt_attack")).encode()


def _tamper(headers: dict[str, str], **changes: str | None) -> dict[str, str]:
    """Change or drop headers in both name sets."""
    out = dict(headers)
    for short, value in changes.items():
        for name in (f"X-PostDodo-{short.capitalize()}", f"webhook-{short}"):
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
    return out


def _attacks() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    """(name, body, headers, status, error code) of every hostile or broken delivery, signed now."""
    now = int(time.time())
    good = signed(BODY, "evt_attack")
    bad_utf8 = b'{"event":"post.published","x":"\xff"}'
    not_json = b"this is not json"
    array = b'[{"event":"post.published"}]'
    no_type = b'{"id":"evt_attack","data":{}}'
    type_not_str = b'{"id":"evt_attack","event":42}'
    nan = b'{"event":"post.published","x":NaN}'
    return [
        ("bad signature", BODY + b" ", good, 401, "invalid_signature"),
        ("wrong secret", BODY, signed(BODY, "evt_attack", secrets=[OTHER_SECRET]), 401, "invalid_signature"),
        ("stale", BODY, signed(BODY, "evt_attack", timestamp=now - 400), 400, "stale_timestamp"),
        ("future", BODY, signed(BODY, "evt_attack", timestamp=now + 400), 400, "future_timestamp"),
        ("no headers", BODY, {}, 401, "missing_signature"),
        ("missing signature", BODY, _tamper(good, signature=None), 401, "missing_signature"),
        ("missing id", BODY, _tamper(good, id=None), 401, "missing_signature"),
        ("missing timestamp", BODY, _tamper(good, timestamp=None), 401, "missing_signature"),
        ("timestamp not an integer", BODY, _tamper(good, timestamp="soon"), 400, "malformed_header"),
        ("garbage signature list", BODY, _tamper(good, signature="garbage"), 400, "malformed_header"),
        ("signature bad base64", BODY, _tamper(good, signature="v1,!!!"), 400, "malformed_header"),
        ("signature extra commas", BODY, _tamper(good, signature="v1a,abc v1,xx,yy"), 400, "malformed_header"),
        ("non-ASCII header", BODY, _tamper(good, id="evt_\u00e9"), 400, "malformed_header"),
        ("non-UTF-8 body", bad_utf8, signed(bad_utf8, "evt_attack"), 401, "invalid_signature"),
        ("non-JSON after valid signature", not_json, signed(not_json, "evt_attack"), 400, "invalid_event"),
        ("JSON array after valid signature", array, signed(array, "evt_attack"), 400, "invalid_event"),
        ("object without event", no_type, signed(no_type, "evt_attack"), 400, "invalid_event"),
        ("event type not a string", type_not_str, signed(type_not_str, "evt_attack"), 400, "invalid_event"),
        ("NaN is not JSON", nan, signed(nan, "evt_attack"), 400, "invalid_event"),
    ]


@pytest.mark.parametrize("name", [attack[0] for attack in _attacks()])
def test_attack_table(client: FlaskClient, rconn: Redis, name: str) -> None:
    # Built at run time, not collection time, so the stale/future cases really sit 400 s off.
    _, body, headers, status, code = next(attack for attack in _attacks() if attack[0] == name)
    response = client.post(PATH, data=body, headers=headers, content_type="application/json")
    assert response.status_code == status, response.json
    assert response.json is not None and response.json["error"]["code"] == code
    assert set(response.json["error"]) == {"code", "message"}
    assert queue_length(rconn) == 0 and job_keys(rconn) == []


def test_oversized_body_is_413_and_not_enqueued(make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(max_body=1024, routes="post.published=tests.receiver.jobs:record").test_client()
    event = make_event("evt_big", caption="x" * 2000)
    response = deliver(client, event)  # correctly signed, just too big
    assert response.status_code == 413
    assert response.json is not None and response.json["error"]["code"] == "payload_too_large"
    assert queue_length(rconn) == 0 and job_keys(rconn) == []


def test_oversized_body_without_content_length(make_app: Callable[..., Flask], rconn: Redis) -> None:
    import io

    client = make_app(max_body=1024).test_client()
    body = json.dumps(make_event("evt_chunked", caption="x" * 5000)).encode()
    response = client.post(
        PATH,
        input_stream=io.BytesIO(body),
        headers=signed(body, "evt_chunked"),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},  # chunked: no length
    )
    assert response.status_code == 413
    assert response.json is not None and response.json["error"]["code"] == "payload_too_large"
    assert job_keys(rconn) == []


def test_body_exactly_at_the_cap_is_accepted(make_app: Callable[..., Flask], rconn: Redis) -> None:
    import io

    event = make_event("evt_cap")
    body = json.dumps(event).encode()
    client = make_app(max_body=len(body)).test_client()
    response = client.post(
        PATH,
        input_stream=io.BytesIO(body),
        headers=signed(body, "evt_cap"),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 202
    assert deliver(client, make_event("evt_cap2", caption="longer than the first")).status_code == 413


def test_lying_content_length_is_refused_before_reading(make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(max_body=1024).test_client()
    body = json.dumps(make_event("evt_lie")).encode()
    response = client.post(
        PATH, data=body, headers=signed(body, "evt_lie"), environ_overrides={"CONTENT_LENGTH": "999999"}
    )
    assert response.status_code == 413
    assert job_keys(rconn) == []


# --- duplicates, replays, redeliveries -----------------------------------------------------------


def test_duplicate_while_queued_is_200_and_one_job(client: FlaskClient, rconn: Redis) -> None:
    event = make_event("evt_dup")
    assert deliver(client, event).status_code == 202
    second = deliver(client, event)
    assert second.status_code == 200
    assert second.json is not None and second.json["status"] == "duplicate"
    assert queue_length(rconn) == 1 and len(job_keys(rconn)) == 1
    run_worker(rconn)
    assert recorded(rconn) == [event]


def test_replay_of_processed_event_is_200_and_runs_once(client: FlaskClient, rconn: Redis) -> None:
    event = make_event("evt_replay")
    body = json.dumps(event).encode()
    headers = signed(body, "evt_replay")  # captured once, sent twice
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    run_worker(rconn)
    replay = client.post(PATH, data=body, headers=headers)
    assert replay.status_code == 200
    assert queue_length(rconn) == 0
    run_worker(rconn)
    assert recorded(rconn) == [event]


def test_redelivery_after_failed_job_is_requeued_and_runs(make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(routes="post.published=tests.receiver.jobs:flaky").test_client()
    event = make_event("evt_flaky")
    rconn.set("test:fail", "1")
    assert deliver(client, event).status_code == 202
    run_worker(rconn)
    failed = FailedJobRegistry("postdodo-events", connection=rconn, serializer=JSONSerializer)
    assert failed.get_job_ids() == [job_id_for("evt_flaky")]
    assert recorded(rconn) == []

    rconn.delete("test:fail")
    again = deliver(client, event)  # the sender retries with a fresh timestamp
    assert again.status_code == 202
    assert again.json is not None and again.json["status"] == "requeued"
    assert queue_length(rconn) == 1 and failed.get_job_ids() == []
    run_worker(rconn)
    assert recorded(rconn) == [event]
    assert deliver(client, event).status_code == 200  # now finished: a plain duplicate


def test_redelivery_of_canceled_job_is_requeued(client: FlaskClient, rconn: Redis) -> None:
    event = make_event("evt_cancel")
    assert deliver(client, event).status_code == 202
    Job.fetch(job_id_for("evt_cancel"), connection=rconn, serializer=JSONSerializer).cancel()
    assert queue_length(rconn) == 0
    again = deliver(client, event)
    assert again.status_code == 202
    assert again.json is not None and again.json["status"] == "requeued"
    run_worker(rconn)
    assert recorded(rconn) == [event]


# --- routes ---------------------------------------------------------------------------------------


def test_two_event_types_on_two_queues(make_app: Callable[..., Flask], rconn: Redis) -> None:
    routes = "post.published=tests.receiver.jobs:record@events,\npost.failed=tests.receiver.jobs:alert@alerts"
    client = make_app(routes=routes).test_client()
    published, failed = make_event("evt_p"), make_event("evt_f", "post.failed")
    assert deliver(client, published).status_code == 202
    assert deliver(client, failed).status_code == 202
    assert queue_length(rconn, "events") == 1 and queue_length(rconn, "alerts") == 1
    run_worker(rconn, "events", "alerts")
    assert recorded(rconn) == [published]
    assert recorded(rconn, "test:alerts") == [failed]


def test_unrouted_event_is_204_and_not_enqueued(client: FlaskClient, rconn: Redis) -> None:
    response = deliver(client, make_event("evt_other", "post.scheduled"))
    assert response.status_code == 204
    assert response.data == b""
    assert job_keys(rconn) == []


# --- the rest of the surface ---------------------------------------------------------------------


def test_configurable_path(make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(path="/hooks/pd").test_client()
    assert deliver(client, make_event("evt_path"), path="/hooks/pd").status_code == 202
    assert deliver(client, make_event("evt_path2")).status_code == 404


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"redis": {"status": "ok", "required": True}}}


@pytest.mark.parametrize(("method", "path", "status"), [("GET", PATH, 405), ("GET", "/nope", 404),
                                                        ("POST", "/healthz", 405)])
def test_http_errors_are_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.is_json and response.json is not None and "code" in response.json["error"]


def test_a_real_bug_is_a_json_500_without_internals(app: Flask, client: FlaskClient,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.extensions[EXTENSION_KEY].queue, "enqueue", broken)
    response = deliver(client, make_event("evt_bug"))
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal_error", "message": "internal error"}}


def test_missing_headers_name_ours_first(client: FlaskClient, rconn: Redis) -> None:
    response = client.post(PATH, data=BODY, headers={}, content_type="application/json")
    assert response.status_code == 401 and response.json is not None
    assert response.json["error"]["message"] == "missing header X-PostDodo-Id (or webhook-id)"
    standard = {k: v for k, v in signed(BODY, "evt_std").items() if k.startswith("webhook-") and k != "webhook-id"}
    response = client.post(PATH, data=BODY, headers=standard, content_type="application/json")
    assert response.status_code == 401 and response.json is not None
    assert response.json["error"]["message"] == "missing header webhook-id"  # the family the sender uses
    assert queue_length(rconn) == 0
