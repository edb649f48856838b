"""One slow endpoint never holds up deliveries to another."""

from __future__ import annotations

import time
from collections.abc import Callable

from postdodo_connect.engine.deliveries import STEP_BACK
from postdodo_connect.storage import utcnow, work

from .conftest import Env, Reply

SLOW = 1.5  # seconds the slow receiver sleeps inside its handler
EVENTS = 16


def test_a_slow_endpoint_does_not_delay_a_fast_one(make_env: Callable[..., Env], receivers) -> None:
    env = make_env(clock=utcnow, workers=8)  # real threads, real time: this measures
    slow, fast = receivers(), receivers()
    slow.default = Reply(200, delay=SLOW)
    env.webhook(slow.url)
    env.webhook(fast.url)
    for _ in range(EVENTS):
        env.emit()
    started = time.time()
    env.runtime.start()
    fast.wait_for(EVENTS, timeout=SLOW * EVENTS)
    fast_done = max(hit.arrived for hit in fast.hits)
    slow_so_far = len(slow.hits)
    # the slow endpoint holds at most its share of the 8 workers: the fast one's last event arrives while
    # the slow one's first replies are still being awaited (measured against the slow receiver's own clock,
    # not a wall-clock bound a loaded machine can break)
    first_slow_reply = min(hit.arrived for hit in slow.hits) + SLOW
    assert fast_done < first_slow_reply, f"fast endpoint waited {fast_done - started:.2f}s behind the slow one"
    assert slow_so_far < EVENTS
    slow.wait_for(EVENTS, timeout=SLOW * EVENTS)
    assert {h.json()["id"] for h in slow.hits} == {h.json()["id"] for h in fast.hits}


def test_a_busy_endpoint_steps_back_only_while_others_wait(env: Env, receivers) -> None:
    busy, other = receivers(), receivers()
    busy_endpoint = env.webhook(busy.url)
    for _ in range(6):
        env.emit()
        env.clock.advance(1)
    now = env.clock()
    with env.db.write() as conn:
        claimed = work.claim_deliveries(conn, now, now.replace(year=now.year + 1), 100)
    by_age = sorted((r for r in env.delivery_rows(busy_endpoint["id"])), key=lambda r: (r["created_at"], r["id"]))
    assert len(claimed) == 6 and env.deliverer.max_in_flight == 4
    # nobody else waits: a fifth delivery in flight is fine
    assert env.deliverer.run(by_age[4]["id"], 1) == "delivered"
    other_endpoint = env.webhook(other.url, ["post.retrying"])
    env.emit("post.retrying")
    # now another endpoint has work due: the busy endpoint's sixth delivery gives its worker back
    assert env.deliverer.run(by_age[5]["id"], 1) == "deferred"
    row = [r for r in env.delivery_rows(busy_endpoint["id"]) if r["id"] == by_age[5]["id"]][0]
    assert row["status"] == "pending" and row["attempts"] == 0 and row["lease_until"] is None
    assert (row["next_attempt_at"] - now).total_seconds() == STEP_BACK
    assert env.attempts(row["id"]) == []  # stepping back is not an attempt
    assert len(busy.hits) == 1
    # the oldest ones always go ahead
    assert env.deliverer.run(by_age[0]["id"], 1) == "delivered"
    for row in by_age[1:4]:
        assert env.deliverer.run(row["id"], 1) == "delivered"
    env.drain()
    assert len(other.hits) == 1 and other_endpoint["id"]
    env.clock.advance(STEP_BACK)
    env.drain()
    assert {r["status"] for r in env.delivery_rows(busy_endpoint["id"])} == {"delivered"}
    assert len(busy.hits) == 7  # six events, and the post.retrying one every endpoint gets
