"""The embedded pools' capacity: claims never run ahead of the workers by more than one job each."""

from __future__ import annotations

import threading

from postdodo_connect.engine.dispatch import ThreadDispatcher
from tests.support.server import wait_until


def test_the_pools_take_a_pool_full_at_a_time_and_at_most_one_waiting_job_per_worker() -> None:
    gate = threading.Event()
    done: list[str] = []

    def job(row_id: str, attempt: int) -> str:
        gate.wait(10)
        done.append(row_id)
        return "confirmed"

    pools = ThreadDispatcher({"publish": job, "deliver": job}, workers=2)
    try:
        assert pools.free_slots("publish") == 4  # two running and two waiting
        pools.submit("publish", [(f"t{i}", 1) for i in range(4)])
        assert pools.free_slots("publish") == 0
        assert len(pools.outstanding()) == 4  # what the lease renewer keeps leased while they wait
        assert pools.free_slots("deliver") == 4  # deliveries have pools of their own
        gate.set()
        wait_until(lambda: len(done) == 4, what="the four jobs")
        wait_until(lambda: pools.free_slots("publish") == 4, what="the room back")
        assert pools.outstanding() == []
    finally:
        gate.set()
        pools.close(grace=5)
