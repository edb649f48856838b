"""Retry schedule, Retry-After, overload floors, 410, the 5-day rule and redirects, on an injected clock."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest

from postdodo_connect.engine.deliveries import MAX_RETRY_AFTER, OVERLOAD_FLOOR
from tests.support.server import free_port

from .conftest import Env, Receiver, Reply

#: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)


def gaps(env: Env, delivery_id: str) -> list[float]:
    """Seconds between consecutive attempts of a delivery."""
    times = [a["attempted_at"] for a in env.attempts(delivery_id)]
    return [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]


def assert_on_schedule(found: list[float]) -> None:
    for gap, base in zip(found, SCHEDULE, strict=False):
        assert base * 0.8 <= gap <= base * 1.2, (gap, base)


def only_delivery(env: Env, endpoint_id: str) -> dict:
    [row] = env.delivery_rows(endpoint_id)
    return row


def test_the_default_schedule_is_the_standard_webhooks_one(env: Env) -> None:
    assert env.runtime.settings.webhook_retry_delays == SCHEDULE
    assert env.deliverer.policy.max_attempts == 10
    assert env.deliverer.policy.jitter == 0.2
    assert env.deliverer.timeout == 15.0


def test_receiver_down_retries_follow_the_schedule_and_arrive_after_recovery(env: Env, receivers) -> None:
    port = free_port()  # nobody listens: every attempt is refused
    endpoint = env.webhook(f"http://127.0.0.1:{port}/hook")
    event = env.emit("post.failed", {"post_id": "post_down"})
    env.drain()
    for _ in range(5):
        env.advance_to_next()
    delivery = only_delivery(env, endpoint["id"])
    assert delivery["status"] == "pending" and delivery["attempts"] == 6
    receiver: Receiver = receivers(port)  # the receiver comes back on the same port
    env.advance_to_next()
    [hit] = receiver.hits
    assert hit.headers["X-PostDodo-Id"] == hit.json()["id"] == event["id"]
    delivery = only_delivery(env, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 7
    assert_on_schedule(gaps(env, delivery["id"]))
    log = env.ok("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")["data"][0]["log"]
    assert [a["error"] for a in log] == ["connection_refused"] * 6 + [None]
    assert [a["status_code"] for a in log] == [None] * 6 + [200]
    assert env.endpoint_row(endpoint["id"])["failing_since"] is None  # the success reset the failure clock


def test_the_whole_schedule_runs_ten_attempts_over_about_three_days_then_gives_up(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500, body=b"boom")
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    while env.next_due() is not None:
        env.advance_to_next()
    delivery = only_delivery(env, endpoint["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 10
    assert delivery["last_status_code"] == 500
    found = gaps(env, delivery["id"])
    assert len(found) == 9
    assert_on_schedule(found)
    assert sum(SCHEDULE) * 0.8 <= sum(found) <= sum(SCHEDULE) * 1.2  # about 75.6 h
    assert len(receiver.hits) == 10
    assert len({hit.json()["id"] for hit in receiver.hits}) == 1
    assert env.endpoint_row(endpoint["id"])["status"] == "enabled"  # 3 days of failures is not 5


def test_jitter_spreads_retries(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(503)
    endpoint = env.webhook(receiver.url)
    for _ in range(12):
        env.emit()
    env.drain()
    waits = {(row["next_attempt_at"] - row["created_at"]).total_seconds() for row in env.delivery_rows(endpoint["id"])}
    assert len(waits) > 6
    assert all(4.0 <= w <= 6.0 for w in waits)


@pytest.mark.parametrize(("header", "low", "high"), [
    ("120", 120, 120),  # longer than the 5 s step: honoured
    ("999999999", MAX_RETRY_AFTER, MAX_RETRY_AFTER),  # absurd: clamped
    ("1", 4, 6),  # shorter than the schedule: the schedule wins
    ("soon", 4, 6),  # unreadable: ignored
])
def test_retry_after_is_honoured_and_clamped(env: Env, receiver: Receiver, header: str, low: float,
                                             high: float) -> None:
    receiver.script = [Reply(503, {"Retry-After": header})]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    row = only_delivery(env, endpoint["id"])
    wait = (row["next_attempt_at"] - row["created_at"]).total_seconds()
    assert low <= wait <= high
    env.advance_to_next()
    assert only_delivery(env, endpoint["id"])["status"] == "delivered"


def test_retry_after_as_an_http_date(env: Env, receiver: Receiver) -> None:
    when = env.clock() + timedelta(seconds=900)
    receiver.script = [Reply(503, {"Retry-After": format_datetime(when, usegmt=True)})]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    row = only_delivery(env, endpoint["id"])
    assert row["next_attempt_at"] == when


def test_429_waits_at_least_a_minute(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(429)]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    row = only_delivery(env, endpoint["id"])
    assert (row["next_attempt_at"] - row["created_at"]).total_seconds() >= OVERLOAD_FLOOR == 60
    assert env.attempts(row["id"])[0]["error"] == "http_429"


def test_a_timeout_waits_at_least_a_minute(env: Env, receiver: Receiver) -> None:
    env.deliverer.timeout = 0.3
    receiver.script = [Reply(200, delay=1.5)]  # answers after the sender gave up
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    row = only_delivery(env, endpoint["id"])
    [attempt] = env.attempts(row["id"])
    assert attempt["error"] == "timeout" and attempt["status_code"] is None
    assert (row["next_attempt_at"] - row["created_at"]).total_seconds() >= 60
    assert row["status"] == "pending"


def test_a_500_retries_at_the_scheduled_step(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(500)]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    row = only_delivery(env, endpoint["id"])
    assert 4 <= (row["next_attempt_at"] - row["created_at"]).total_seconds() <= 6


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(env: Env, receiver: Receiver, status: int) -> None:
    receiver.script = [Reply(status, {"Location": receiver.url + "/moved"})]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    assert [hit.path for hit in receiver.hits] == ["/hook"]
    row = only_delivery(env, endpoint["id"])
    assert row["status"] == "pending" and row["last_status_code"] == status
    assert env.attempts(row["id"])[0]["error"] == f"http_{status}"
    env.advance_to_next()
    assert [hit.path for hit in receiver.hits] == ["/hook", "/hook"]
    assert only_delivery(env, endpoint["id"])["status"] == "delivered"


def test_410_disables_the_endpoint_at_once_until_re_enabled(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(410)]
    endpoint = env.webhook(receiver.url)
    other = env.webhook(receiver.url.replace("/hook", "/other"))
    first, second = env.emit(), env.emit()
    env.drain()
    rows = {(r["event_id"], r["endpoint_id"]): r for r in env.delivery_rows()}
    gone = [r for r in rows.values() if r["last_status_code"] == 410]
    assert len(gone) == 1 and gone[0]["status"] == "failed" and gone[0]["attempts"] == 1
    dead = gone[0]["endpoint_id"]
    alive = other["id"] if dead == endpoint["id"] else endpoint["id"]
    row = env.ok("GET", f"/v1/webhooks/{dead}")
    assert row["status"] == "disabled" and "410" in row["disabled_reason"]
    # the disabled endpoint's other delivery was canceled; the other endpoint got both events
    assert {r["status"] for r in rows.values() if r["endpoint_id"] == dead} == {"failed", "canceled"}
    assert {r["status"] for r in rows.values() if r["endpoint_id"] == alive} == {"delivered"}
    assert {first["id"], second["id"]} == {e for e, ep in rows if ep == alive}
    # later events skip it until it is enabled again
    env.emit()
    env.drain()
    assert len(env.delivery_rows(dead)) == 2
    assert env.ok("POST", f"/v1/webhooks/{dead}/enable")["status"] == "enabled"
    assert env.ok("GET", f"/v1/webhooks/{dead}")["disabled_reason"] is None
    later = env.emit()
    env.drain()
    newest = [r for r in env.delivery_rows(dead) if r["event_id"] == later["id"]]
    assert [r["status"] for r in newest] == ["delivered"]


def test_an_endpoint_failing_for_five_days_is_disabled_until_re_enabled(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500)
    endpoint = env.webhook(receiver.url)
    start = env.clock()
    env.emit()
    env.drain()
    assert env.endpoint_row(endpoint["id"])["failing_since"] == start
    env.clock.advance(2 * 86400)
    env.emit()
    env.drain()
    env.clock.set(start + timedelta(days=5) - timedelta(seconds=1))
    env.emit()
    env.drain()
    assert env.endpoint_row(endpoint["id"])["status"] == "enabled"
    env.clock.set(start + timedelta(days=5, seconds=1))
    env.emit()
    env.drain()
    row = env.ok("GET", f"/v1/webhooks/{endpoint['id']}")
    assert row["status"] == "disabled" and "5 days" in row["disabled_reason"]
    statuses = [r["status"] for r in env.delivery_rows(endpoint["id"])]
    assert "pending" not in statuses and statuses[-1] == "failed"
    hits = len(receiver.hits)
    env.emit()
    env.clock.advance(86400)
    env.drain()
    assert len(receiver.hits) == hits  # nothing goes out while disabled
    assert len(env.delivery_rows(endpoint["id"])) == 4
    receiver.default = Reply(200)
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/enable")
    assert env.endpoint_row(endpoint["id"])["failing_since"] is None
    env.emit()
    env.drain()
    assert env.delivery_rows(endpoint["id"])[-1]["status"] == "delivered"


def test_a_success_restarts_the_five_day_clock(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500)
    endpoint = env.webhook(receiver.url)
    start = env.clock()
    env.emit()
    env.drain()
    env.clock.advance(4 * 86400)
    receiver.default = Reply(200)
    env.emit()
    env.drain()
    assert env.endpoint_row(endpoint["id"])["failing_since"] is None
    receiver.default = Reply(500)
    env.clock.set(start + timedelta(days=5, hours=1))
    env.emit()
    env.drain()
    row = env.endpoint_row(endpoint["id"])
    assert row["status"] == "enabled" and row["failing_since"] == env.clock()


def test_other_4xx_answers_are_retried(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(400), Reply(404)]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    env.advance_to_next()
    env.advance_to_next()
    row = only_delivery(env, endpoint["id"])
    assert row["status"] == "delivered" and row["attempts"] == 3
    assert [a["error"] for a in env.attempts(row["id"])] == ["http_400", "http_404", None]
