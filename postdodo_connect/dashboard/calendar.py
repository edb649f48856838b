"""The week and month calendar: posts on the day they go out, in the browser's time zone, on a server-drawn grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import render_template, request

from ..api.service import service
from ..storage import posts as posts_store
from .blueprint import bp
from .localtime import day_start, local, parse_day, today, zone, zone_label
from .session import workspace_page

VIEWS = ("week", "month")
MOST = 500  # posts drawn on one grid: a month of a busy workspace, not a reason to stream a table


@dataclass
class Day:
    """One cell of the grid."""

    date: date
    in_range: bool  # False for the days of the neighbouring months that fill a month's first and last week
    is_today: bool
    posts: list[dict[str, Any]] = field(default_factory=list)


def grid(view: str, day: date) -> tuple[date, int]:
    """The first day (a Monday) and the number of days of the week or month around `day`."""
    if view == "week":
        return day - timedelta(days=day.weekday()), 7
    first = day.replace(day=1)
    last = _add_months(first, 1) - timedelta(days=1)
    start, end = first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())
    return start, (end - start).days + 1


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def neighbours(view: str, day: date) -> tuple[date, date]:
    """The day the "previous" and "next" links open."""
    if view == "week":
        return day - timedelta(days=7), day + timedelta(days=7)
    return _add_months(day, -1), _add_months(day, 1)


@bp.get("/w/<workspace_id>/posts/calendar")
@workspace_page
def posts_calendar(workspace: dict[str, Any]) -> Any:
    """Scheduled and published posts on a week or month grid (?view=week|month&day=YYYY-MM-DD)."""
    tz, now = zone(), service().clock()
    view, error = request.args.get("view", "month"), None
    if view not in VIEWS:
        view, error = "month", f"view must be week or month, not {view!r}"
    try:
        day = parse_day(request.args.get("day")) or today(now, tz)
    except ValueError:
        day, error = today(now, tz), "day must be a date (YYYY-MM-DD)"
    start, count = grid(view, day)
    with service().db.read() as conn:
        found = posts_store.posts_between(conn, workspace["id"], day_start(start, tz),
                                          day_start(start + timedelta(days=count), tz), limit=MOST)
    this_day = today(now, tz)
    days = [Day(start + timedelta(days=i), view == "week" or (start + timedelta(days=i)).month == day.month,
                start + timedelta(days=i) == this_day) for i in range(count)]
    for post in found:
        post["when"] = local(post["scheduled_at"] or post["created_at"], tz)
        index = (post["when"].date() - start).days
        if 0 <= index < count:  # always, unless the zone's rules moved midnight under us
            days[index].posts.append(post)
    previous, following = neighbours(view, day)
    title = (f"Week of {start.strftime('%d %B %Y')}" if view == "week" else day.strftime("%B %Y"))
    return render_template("posts/calendar.html", view=view, day=day, title=title, today=this_day,
                           weeks=[days[i:i + 7] for i in range(0, count, 7)], previous=previous,
                           following=following, found=bool(found), truncated=len(found) >= MOST, zone=zone_label(tz),
                           error=error), 400 if error else 200
