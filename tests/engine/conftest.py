"""An engine driven by hand: fake clock, no sandbox sleeping, jobs run inline when the scheduler ticks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from postdodo_connect.engine import Runtime
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.platforms.sandbox import sandbox_posts_for
from tests.support.factory import Api, FakeClock, make_api


class InlineDispatcher:
    """Runs each claimed job at once, in the scheduler's thread (or drops it, to play a dead worker)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.drop = False
        self.ran: list[tuple[str, str, int, str]] = []

    def free_slots(self, kind: str) -> int:
        return 1000

    def submit(self, kind: str, jobs: list[tuple[str, int]]) -> None:
        if self.drop:
            return
        run = {"publish": self.runtime.publisher.run, "deliver": self.runtime.deliverer.run,
               "refresh": self.runtime.keeper.refresh_ahead}[kind]
        for row_id, attempt in jobs:
            self.ran.append((kind, row_id, attempt, run(row_id, attempt)))

    def close(self) -> None:
        pass


@dataclass
class Engine:
    """API + engine on one database with one fake clock."""

    api: Api
    runtime: Runtime
    scheduler: Scheduler
    dispatcher: InlineDispatcher
    clock: FakeClock

    def tick(self) -> int:
        return self.scheduler.tick()

    def post(self, key: str, account_ids: list[str], **body: Any) -> dict[str, Any]:
        response = self.api.call("POST", "/v1/posts", key, json={"caption": "hello", "account_ids": account_ids, **body})
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def get(self, key: str, post_id: str) -> dict[str, Any]:
        return dict(self.api.call("GET", f"/v1/posts/{post_id}", key).get_json())

    def sandbox_posts(self, account_id: str) -> list[dict[str, Any]]:
        return sandbox_posts_for(self.runtime.db, account_id)


def build_engine(url: str, **settings: Any) -> Engine:
    """An Engine on a fresh database at `url`."""
    clock = FakeClock()
    defaults: dict[str, Any] = {"retry_delays": (30.0, 120.0), "max_attempts": 4, "retry_jitter": 0.0,
                                "lease_seconds": 60.0}
    api = make_api(url, clock=clock, **(defaults | settings))
    runtime = Runtime(api.service.settings, api.db, clock=clock, sandbox_sleep=lambda s: None)
    dispatcher = InlineDispatcher(runtime)
    scheduler = Scheduler(api.db, dispatcher, clock, lease_seconds=runtime.settings.lease_seconds,
                          tick_seconds=0.01, batch=100, tokens=runtime.token_sweep())
    return Engine(api, runtime, scheduler, dispatcher, clock)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """An engine on a fresh SQLite file."""
    return build_engine(f"sqlite:///{tmp_path / 'engine.db'}")
