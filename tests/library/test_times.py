"""Times leave the API and the client as ISO 8601 UTC with `Z`, milliseconds only when there are any."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from postdodo_connect.models import format_time


@pytest.mark.parametrize(("value", "text"), [
    (datetime(2026, 12, 3, 9, 5, 7, tzinfo=UTC), "2026-12-03T09:05:07Z"),
    (datetime(2026, 12, 3, 9, 5, 7, 123456, tzinfo=UTC), "2026-12-03T09:05:07.123Z"),
    (datetime(2026, 12, 3, 9, 5, 7, 999, tzinfo=UTC), "2026-12-03T09:05:07.000Z"),  # under a millisecond
    (datetime(2026, 12, 3, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2026-12-02T23:00:00Z"),  # to UTC
    (datetime(2026, 12, 3, 9, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))), "2026-12-03T14:30:00Z"),
    (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),  # four-digit years, as ISO 8601 has them
])
def test_format_time(value: datetime, text: str) -> None:
    assert format_time(value) == text
