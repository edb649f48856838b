"""Inline (development) mode: the job runs inside the request, before the answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from receiver import create_app
from tests.receiver import jobs
from tests.receiver.helpers import SECRET, deliver, free_port, make_event


@pytest.fixture
def inline_app(caplog: pytest.LogCaptureFixture) -> Iterator[Flask]:
    """A receiver in inline mode pointing at a Redis that does not exist (it must not need one)."""
    jobs.INLINE_SEEN.clear()
    with caplog.at_level(logging.WARNING, logger="receiver"):
        app = create_app({
            "secrets": SECRET,
            "queue": "inline",
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
            "routes": "post.published=tests.receiver.jobs:inline_record,post.failed=tests.receiver.jobs:inline_fail",
        })
    yield app
    jobs.INLINE_SEEN.clear()


def test_startup_warns_that_nothing_is_durable(inline_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    records = caplog.get_records("setup")
    assert any(r.levelno == logging.WARNING and "nothing is durable" in r.getMessage() for r in records)


def test_job_runs_before_the_answer(inline_app: Flask) -> None:
    client = inline_app.test_client()
    event = make_event("evt_inline")
    response = deliver(client, event)
    assert response.status_code == 200
    assert response.json is not None and response.json["status"] == "processed"
    assert jobs.INLINE_SEEN == [event]
    duplicate = deliver(client, event)
    assert duplicate.status_code == 200 and duplicate.json is not None
    assert duplicate.json["status"] == "duplicate"
    assert jobs.INLINE_SEEN == [event]
    assert client.get("/healthz").status_code == 200


def test_failing_inline_job_asks_for_a_redelivery(inline_app: Flask) -> None:
    client = inline_app.test_client()
    event = make_event("evt_inline_fail", "post.failed")
    for _ in range(2):  # not remembered as processed, so the redelivery runs again
        response = deliver(client, event)
        assert response.status_code == 500
        assert response.json is not None and response.json["error"]["code"] == "job_failed"


def test_signature_still_checked_inline(inline_app: Flask) -> None:
    client = inline_app.test_client()
    response = client.post("/webhooks/postdodo", json=make_event("evt_unsigned"))
    assert response.status_code == 401
    assert jobs.INLINE_SEEN == []
