"""The browser's time zone on the server: read from a cookie posts.js sets, used to show times and read the composer's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request

from .blueprint import bp

COOKIE = "postdodo_tz"
# an IANA name ("Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"): nothing else reaches ZoneInfo,
# which would otherwise take a path-like name as a file to open
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}$")


def zone_named(name: str | None) -> tzinfo:
    """The zone of an IANA name; UTC for no name, an unknown one or one this machine lacks."""
    if not name or len(name) > 64 or not _NAME.match(name):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone() -> tzinfo:
    """The zone this request's browser is in (UTC until posts.js has told us)."""
    return zone_named(request.cookies.get(COOKIE))


def zone_label(tz: tzinfo | None = None) -> str:
    """A zone's name as people read it: "Europe/Paris" or "UTC"."""
    tz = tz or zone()
    return "UTC" if tz is UTC else str(tz)


def local(value: datetime, tz: tzinfo | None = None) -> datetime:
    """An aware time in the browser's zone."""
    return value.astimezone(tz or zone())


def today(now: datetime, tz: tzinfo | None = None) -> date:
    """The browser's date at `now`."""
    return local(now, tz).date()


def day_start(day: date, tz: tzinfo | None = None) -> datetime:
    """Midnight starting `day` in the browser's zone, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=tz or zone()).astimezone(UTC)


def parse_local(value: str, tz: tzinfo) -> datetime:
    """A `datetime-local` value ("2026-12-03T09:30") read in `tz`, in UTC; ValueError when it is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value):
        raise ValueError("not a date and time")
    return datetime.fromisoformat(value).replace(tzinfo=tz).astimezone(UTC)


def parse_day(value: str | None) -> date | None:
    """A `date` input's value ("2026-12-03"); None when empty, ValueError when malformed."""
    if not value:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("not a date")
    return date.fromisoformat(value)


@bp.app_template_filter("local_time")
def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the browser's zone, for templates."""
    return "—" if value is None else local(value).strftime(fmt)


@bp.app_template_global("utc_iso")
def utc_iso(value: datetime) -> str:
    """The machine form of a time, for `<time datetime>` and scripts."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_global("zone_offset_minutes")
def zone_offset_minutes() -> int:
    """The browser zone's UTC offset now, in minutes: posts.js redraws a page drawn for another offset."""
    offset = datetime.now(zone()).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


ONE_DAY = timedelta(days=1)
