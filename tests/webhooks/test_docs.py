"""docs/webhooks.md stays in step with the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from postdodo_connect.config import Settings
from postdodo_connect.models import EVENT_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()


def test_every_event_type_is_documented() -> None:
    for event in (*EVENT_TYPES, "webhook.test"):
        assert f"| `{event}` |" in DOC, event


def test_the_retry_table_matches_the_default_schedule() -> None:
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", DOC, re.M)
    units = {"s": 1, "min": 60, "h": 3600}
    delays = []
    for _, text in rows[1:]:
        value, unit = text.split()
        delays.append(float(value) * units[unit])
    assert [int(n) for n, _ in rows] == list(range(1, 11))
    assert tuple(delays) == Settings().webhook_retry_delays


def test_documented_settings_exist() -> None:
    names = {var for var, _ in Settings._ENV.values()}  # type: ignore[attr-defined]
    for var in set(re.findall(r"POSTDODO_WEBHOOK_[A-Z_]+", DOC)):
        assert var in names, var


def test_the_ordering_example_runs() -> None:
    """The Python block of "Ordering a post's events" runs as written (its asserts included)."""
    section = DOC.split("## Ordering a post's events", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(code, "webhooks.md", "exec"), {})
