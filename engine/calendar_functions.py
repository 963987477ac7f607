"""Working-time functions for BPMN expressions: ``working_days(n)``, ``working_hours(n)``,
``next_working_moment()``.

They use the province's calendar (``MOTCUA_CALENDAR_DIR``, one TOML file per year, loaded on first use)
and return ISO 8601 text in UTC, which timers (``timeDate``), due dates and process variables all take.
"""
from __future__ import annotations

import datetime as dt
import threading

from engine.config import load_settings
from engine.working_calendar import WorkingCalendar

_calendar: WorkingCalendar | None = None
_lock = threading.Lock()


def calendar() -> WorkingCalendar:
    """The configured working calendar (loaded once per process)."""
    global _calendar
    with _lock:
        if _calendar is None:
            _calendar = WorkingCalendar.from_folder(load_settings().calendar_dir)
        return _calendar


def _start(start: dt.datetime | str | None) -> dt.datetime:
    if start is None:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def working_days(n: float, start: dt.datetime | str | None = None) -> str:
    """The moment ``n`` working days after ``start`` (default now), as ISO text."""
    return calendar().add_working_days(_start(start), n).isoformat()


def working_hours(n: float, start: dt.datetime | str | None = None) -> str:
    """The moment ``n`` working hours after ``start`` (default now), as ISO text."""
    return calendar().add_working_hours(_start(start), n).isoformat()


def next_working_moment(start: dt.datetime | str | None = None) -> str:
    """The next moment the offices work, from ``start`` (default now), as ISO text."""
    return calendar().next_working_moment(_start(start)).isoformat()


FUNCTIONS = {"working_days": working_days, "working_hours": working_hours, "next_working_moment": next_working_moment}
