"""The receiver's /metrics: deliveries by event type and the status answered, enqueue latency; /healthz checks."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from receiver import create_app
from tests.receiver.helpers import OTHER_SECRET, PATH, SECRET, deliver, free_port, make_event, signed
from tests.support.metrics import sample, scrape

EVENTS = "postdodo_receiver_events_total"


def counts(client: FlaskClient) -> Callable[..., float]:
    """A function giving how much a sample grew since this call."""
    before = scrape(client)

    def grew(name: str = EVENTS, **labels: str) -> float:
        return sample(scrape(client), name, **labels) - sample(before, name, **labels)

    return grew


def test_each_answer_is_counted_by_event_type_and_status(make_app: Callable[..., Flask], rconn: Redis) -> None:
    client = make_app(max_body=1024).test_client()
    grew = counts(client)
    assert deliver(client, make_event("evt_m1")).status_code == 202
    assert deliver(client, make_event("evt_m1")).status_code == 200  # the sender retried: a duplicate
    assert deliver(client, make_event("evt_m2", "post.retrying")).status_code == 204  # no route for it
    body = json.dumps(make_event("evt_m3", "post.forged")).encode()
    assert client.post(PATH, data=body, headers=signed(body, "evt_m3", secrets=[OTHER_SECRET])).status_code == 401
    assert deliver(client, make_event("evt_m4", caption="x" * 2000)).status_code == 413

    assert grew(event="post.published", status="202") == 1
    assert grew(event="post.published", status="200") == 1
    assert grew(event="post.retrying", status="204") == 1
    # before the signature is checked the body is anyone's words: its type is never a label
    assert grew(event="unverified", status="401") == 1 and grew(event="post.forged") == 0
    assert grew(event="unverified", status="413") == 1
    assert grew("postdodo_receiver_enqueue_duration_seconds_count") == 2  # the new event and the duplicate


def test_redis_down_is_counted_as_503_and_healthz_names_redis() -> None:
    client = create_app({"secrets": SECRET, "redis_url": f"redis://:pw-hidden@127.0.0.1:{free_port()}/0"}).test_client()
    grew = counts(client)
    assert deliver(client, make_event("evt_down")).status_code == 503
    assert grew(event="post.published", status="503") == 1
    health = client.get("/healthz")
    assert health.status_code == 503 and "Retry-After" in health.headers
    assert health.json is not None and health.json["status"] == "down"
    assert health.json["checks"]["redis"]["status"] == "error"
    assert "pw-hidden" not in health.get_data(as_text=True)
