"""Working time for deadlines: office hours, weekends, Vietnamese public holidays and each year's swaps.

Public holidays (Tết by the lunar calendar, Hùng Kings, 30/4, 1/5, 2/9 and its adjacent day, 24/11 from
2026, observed days) come from the ``holidays`` package, in Vietnamese. An administrator adds one TOML file
per year (``calendar/2026.toml``) with the extra days off and the make-up working days (a worked Saturday).

Conventions (domain reference §6, deployed system ``CaculateTime.cs``): office hours 07:00–11:30 and
13:30–17:00, Asia/Ho_Chi_Minh; a moment outside office hours counts from the next working moment; one
working day is the daily office time (8 h by default). Datetimes taken must be timezone-aware; datetimes
returned are aware and in UTC, like everything the engine stores.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from engine.errors import BadInput

OfficeHours = tuple[tuple[dt.time, dt.time], ...]

DEFAULT_OFFICE_HOURS: OfficeHours = ((dt.time(7, 0), dt.time(11, 30)), (dt.time(13, 30), dt.time(17, 0)))
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_SCAN_DAYS = 366 * 200   # no calendar has two centuries without a working moment
_UTC = dt.timezone.utc
_FILE_KEYS = frozenset({"office_hours", "timezone", "days_off", "working_days"})
_ENTRY_KEYS = frozenset({"date", "name", "source"})


class CalendarFileError(BadInput):
    """A working-calendar file is not valid."""

    code = "calendar_invalid"


class WorkingCalendar:
    """Office hours in one time zone, minus weekends, public holidays and extra days off, plus make-up days.

    A day is a working day when it is a configured make-up day; otherwise not when it is a configured
    day off or a public holiday of the ``holidays`` package; otherwise when the package lists it as a
    worked weekend day or it is Monday to Friday. The administrator's file therefore wins over the package.
    Instances are immutable apart from an internal, locked cache of holidays by year, so one may be shared
    between threads.
    """

    def __init__(self, office_hours: Iterable[tuple[dt.time, dt.time]] = DEFAULT_OFFICE_HOURS,
                 timezone: str = DEFAULT_TIMEZONE, extra_days_off: Iterable[dt.date] = frozenset(),
                 make_up_days: Iterable[dt.date] = frozenset(),
                 holiday_names: Mapping[dt.date, str] | None = None, country: str = "VN"):
        periods = tuple((start, end) for start, end in office_hours)
        for i, (start, end) in enumerate(periods or [(None, None)]):
            if not (isinstance(start, dt.time) and isinstance(end, dt.time)) or start.tzinfo or end.tzinfo:
                raise ValueError("office hours must be one or more (start, end) pairs of naive datetime.time")
            if start >= end or (i and start < periods[i - 1][1]):
                raise ValueError(f"office hours {start:%H:%M}-{end:%H:%M}: empty, out of order or overlapping")
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{timezone}'") from None
        self.office_hours: OfficeHours = periods
        self.timezone = timezone
        self.extra_days_off = frozenset(extra_days_off)
        self.make_up_days = frozenset(make_up_days)
        for day in sorted(self.extra_days_off & self.make_up_days)[:1]:
            raise ValueError(f"{day:%d/%m/%Y} is both a day off and a make-up working day")
        self.holiday_names = MappingProxyType(dict(holiday_names or {}))
        self.country = country
        self.day_length = sum((_since_midnight(e) - _since_midnight(s) for s, e in periods), dt.timedelta())
        self._lock = threading.Lock()
        self._loaded: set[int] = set()
        self._ready: set[int] = set()
        self._holidays: dict[dt.date, str] = {}
        self._weekend_workdays: set[dt.date] = set()

    def _public(self, day: dt.date) -> tuple[str | None, bool]:
        """(public-holiday name or None, whether the package lists the day as a worked weekend day).

        The package knows the years 1901-2100; a swap may cross the new year, so the years either side load too.
        """
        if day.year not in self._ready:
            with self._lock:  # the package fills its tables lazily: load whole years once, under a lock
                for year in range(max(day.year - 1, 1), day.year + 2):
                    if year not in self._loaded:
                        table = holidays.country_holidays(self.country, years=year, language="vi")
                        self._holidays.update(table.items())
                        self._weekend_workdays.update(getattr(table, "weekend_workdays", ()))
                        self._loaded.add(year)
                self._ready.add(day.year)
        return self._holidays.get(day), day in self._weekend_workdays

    def _day(self, day: dt.date | dt.datetime) -> dt.date:
        return self._local(day).date() if isinstance(day, dt.datetime) else day

    def is_working_day(self, day: dt.date | dt.datetime) -> bool:
        """Whether ``day`` (a date, or an aware datetime taken in the calendar's zone) is a working day."""
        day = self._day(day)
        if day in self.make_up_days:
            return True
        if day in self.extra_days_off:
            return False
        name, worked_weekend = self._public(day)
        return name is None and (worked_weekend or day.weekday() < 5)

    def holiday_name(self, day: dt.date | dt.datetime) -> str | None:
        """The Vietnamese name of the holiday or day off on ``day``; None on working days and plain weekends.

        Configured names (the administrator's file) come first, then the ``holidays`` package's.
        """
        day = self._day(day)
        if self.is_working_day(day):
            return None
        if day in self.extra_days_off:
            return self.holiday_names.get(day) or "Ngày nghỉ"
        return self.holiday_names.get(day) or self._public(day)[0]

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if not isinstance(moment, dt.datetime):
            raise TypeError(f"expected a datetime, not {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment.isoformat()} refused: give a timezone-aware datetime "
                             f"(e.g. with tzinfo=ZoneInfo('{self.timezone}') or datetime.timezone.utc)")
        return moment.astimezone(self.zone)

    def _periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The office periods of ``day`` as UTC (start, end) pairs; none on a non-working day."""
        if not self.is_working_day(day):
            return []
        return [(dt.datetime.combine(day, s, self.zone).astimezone(_UTC),
                 dt.datetime.combine(day, e, self.zone).astimezone(_UTC)) for s, e in self.office_hours]

    def _days_from(self, moment: dt.datetime) -> Iterable[dt.date]:
        day = self._local(moment).date()
        for i in range(MAX_SCAN_DAYS):
            yield day + dt.timedelta(days=i)
        raise ValueError(f"no working time within {MAX_SCAN_DAYS} days of {moment.isoformat()}")

    def is_working_moment(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` (aware) falls inside office hours of a working day; periods are [start, end)."""
        local = self._local(moment)
        return self.is_working_day(local.date()) and any(s <= local.time() < e for s, e in self.office_hours)

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself if it is a working moment, else the next start of office hours (aware, UTC)."""
        return self.add_working_hours(moment, 0)

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        """The moment (aware, UTC) when ``hours`` of office time have passed since ``moment``.

        Only office time counts: lunch, nights, weekends, holidays and days off are skipped. A ``moment``
        outside office hours counts from the next working moment. A deadline ending exactly at the close
        of a period is returned as that close (17:00), not as the next opening. ``hours`` may be fractional
        and must be finite and not negative.
        """
        return self._add(moment, dt.timedelta(hours=_amount(hours, "working hours")))

    def add_working_days(self, moment: dt.datetime, days: float) -> dt.datetime:
        """The deadline (aware, UTC) ``days`` working days after ``moment``.

        Convention (docs reference §6, deployed system ``CaculateTime.cs``: "8 h = 1 working day", after
        17:00 → next morning, before 07:00 → 07:00, lunch → 13:30): one working day is the daily office
        time (8 h with the default hours) and the count starts at the moment of receipt, or at the next
        working moment when received outside office hours. So a dossier received at a working moment
        at clock time T on day D is due at T on the N-th working day after D (received Friday 16:50 with
        3 working days → due Wednesday 16:50); one received outside office hours, whose count starts at
        the opening of working day D', is due at the close (17:00) of the N-th working day counting D'
        (the same instant of working time as the next morning's opening). ``days`` may be fractional
        (0.5 = 4 h) and must be finite and not negative.
        """
        return self._add(moment, self.day_length * _amount(days, "working days"))

    def _add(self, moment: dt.datetime, remaining: dt.timedelta) -> dt.datetime:
        current = self._local(moment).astimezone(_UTC)
        for day in self._days_from(moment):
            for start, end in self._periods(day):
                if end <= current:
                    continue
                start = max(start, current)
                if remaining <= end - start:
                    return start + remaining
                remaining -= end - start
        raise AssertionError("unreachable")  # pragma: no cover: _days_from raises first

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The office time between two aware moments; negative when ``end`` is before ``start``."""
        a, b = self._local(start).astimezone(_UTC), self._local(end).astimezone(_UTC)
        if b < a:
            return -self.working_time_between(end, start)
        total = dt.timedelta()
        last = self._local(b).date()
        for day in self._days_from(a):
            if day > last:
                break
            for s, e in self._periods(day):
                if min(e, b) > max(s, a):
                    total += min(e, b) - max(s, a)
        return total

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> WorkingCalendar:
        """A calendar from one administrator's TOML file (see ``calendar/2026.toml``); keyword arguments win."""
        return cls.from_files([Path(path)], **overrides)

    @classmethod
    def from_folder(cls, folder: str | Path, **overrides: Any) -> WorkingCalendar:
        """A calendar merging every ``*.toml`` file of ``folder`` (one per year); an empty folder gives defaults."""
        if not Path(folder).is_dir():
            raise CalendarFileError(f"{folder}: the working-calendar folder does not exist")
        return cls.from_files(sorted(Path(folder).glob("*.toml")), **overrides)

    @classmethod
    def from_files(cls, paths: Iterable[Path], **overrides: Any) -> WorkingCalendar:
        """A calendar merging TOML files; office hours and zone must agree, a date may be listed only once.

        File keys: ``timezone``, ``days_off`` and ``working_days`` (lists of ``{date = 2026-08-31, name = "…",
        source = "…"}``), then an ``[office_hours]`` table of ``"HH:MM-HH:MM"`` periods. Errors raise
        :class:`CalendarFileError` naming the file and the key.
        """
        settings: dict[str, tuple[Any, Path]] = {}
        days: dict[str, dict[dt.date, tuple[str, Path]]] = {"days_off": {}, "working_days": {}}
        for path in paths:
            data = _read_toml(path)
            for key in ("office_hours", "timezone"):
                if key in data:
                    value = _office_hours(path, data[key]) if key == "office_hours" else data[key]
                    if key in settings and settings[key][0] != value:
                        raise CalendarFileError(f"{path}: '{key}' differs from the one in {settings[key][1]}")
                    settings[key] = (value, path)
            for key in days:
                for day, name in _entries(path, key, data.get(key, [])):
                    for seen_key, seen in days.items():
                        if day in seen:
                            raise CalendarFileError(f"{path}: '{key}': {day:%d/%m/%Y} is already in "
                                                    f"'{seen_key}' of {seen[day][1]}")
                    days[key][day] = (name, path)
        kwargs: dict[str, Any] = {key: value for key, (value, _) in settings.items()}
        kwargs.update(extra_days_off=frozenset(days["days_off"]), make_up_days=frozenset(days["working_days"]),
                      holiday_names={d: n for table in days.values() for d, (n, _) in table.items() if n})
        try:
            return cls(**{**kwargs, **overrides})
        except (ValueError, TypeError) as e:
            where = ", ".join(str(path) for _, path in settings.values()) or "working calendar"
            raise CalendarFileError(f"{where}: {e}") from None


def _since_midnight(t: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _amount(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, not {value!r}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise CalendarFileError(f"{path}: cannot read the working-calendar file ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise CalendarFileError(f"{path}: not valid TOML ({e})") from None
    unknown = sorted(k for k in data if k not in _FILE_KEYS)
    if isinstance(data.get("office_hours"), dict):
        unknown += sorted(f"office_hours.{k}" for k in data["office_hours"] if k not in ("morning", "afternoon"))
    if unknown:
        misplaced = unknown[0].removeprefix("office_hours.") in _FILE_KEYS
        hint = " (put it above the [office_hours] table)" if misplaced else ""
        raise CalendarFileError(f"{path}: unknown key '{unknown[0]}'{hint}; allowed: timezone, days_off, "
                                f"working_days, office_hours.morning, office_hours.afternoon")
    if not isinstance(data.get("timezone", ""), str):
        raise CalendarFileError(f"{path}: 'timezone' must be text such as \"{DEFAULT_TIMEZONE}\"")
    return data


def _office_hours(path: Path, table: Any) -> OfficeHours:
    if not isinstance(table, dict) or not table:
        raise CalendarFileError(f"{path}: 'office_hours' must be a table such as morning = \"07:00-11:30\"")
    periods = []
    for key, value in table.items():
        try:
            start, end = (dt.time.fromisoformat(part.strip()) for part in str(value).split("-"))
        except ValueError:
            raise CalendarFileError(f"{path}: 'office_hours.{key}' = {value!r} is not \"HH:MM-HH:MM\"") from None
        periods.append((start, end))
    try:
        return WorkingCalendar(office_hours=sorted(periods)).office_hours
    except ValueError as e:
        raise CalendarFileError(f"{path}: 'office_hours': {e}") from None


def _entries(path: Path, key: str, value: Any) -> Iterable[tuple[dt.date, str]]:
    if not isinstance(value, list):
        raise CalendarFileError(f"{path}: '{key}' must be a list such as [{{date = 2026-08-31, name = \"…\"}}]")
    for i, entry in enumerate(value, 1):
        where = f"{path}: '{key}' entry {i}"
        unknown = sorted(set(entry) - _ENTRY_KEYS) if isinstance(entry, dict) else ["(not a table)"]
        if unknown:
            raise CalendarFileError(f"{where}: unexpected {unknown[0]}; write {{date = YYYY-MM-DD, name = \"…\"}}")
        day, name = entry.get("date"), entry.get("name", "")
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise CalendarFileError(f"{where}: 'date' must be a TOML date such as 2026-08-31 (no quotes, no time), "
                                    f"not {day!r}")
        if not isinstance(name, str):
            raise CalendarFileError(f"{where}: 'name' must be text")
        yield day, name.strip()


def expression_functions(calendar: WorkingCalendar,
                         now: dt.datetime | Callable[[], dt.datetime] | None = None) -> dict[str, Callable[..., Any]]:
    """Working-time helpers for BPMN expressions: ``working_days(n)``, ``working_hours(n)``, ``next_working_moment()``.

    Each returns an aware UTC datetime (``.isoformat()`` gives the text a timer's timeDate needs) counted
    from ``start`` when given (an aware datetime or ISO 8601 text with an offset, as process variables
    hold dates) or else from now: ``now`` fixed, a callable, or None for the clock at each call.
    """
    if isinstance(now, dt.datetime):
        calendar.is_working_moment(now)  # refuses a naive 'now' at once

    def moment(start: dt.datetime | str | None) -> dt.datetime:
        if start is None:
            return now() if callable(now) else (now or dt.datetime.now(_UTC))
        return dt.datetime.fromisoformat(start) if isinstance(start, str) else start

    def working_days(n: float, start: dt.datetime | str | None = None) -> dt.datetime:
        """The deadline n working days from ``start`` (default now)."""
        return calendar.add_working_days(moment(start), n)

    def working_hours(n: float, start: dt.datetime | str | None = None) -> dt.datetime:
        """The deadline n working hours from ``start`` (default now)."""
        return calendar.add_working_hours(moment(start), n)

    def next_working_moment(start: dt.datetime | str | None = None) -> dt.datetime:
        """The next working moment from ``start`` (default now)."""
        return calendar.next_working_moment(moment(start))

    return {"working_days": working_days, "working_hours": working_hours,
            "next_working_moment": next_working_moment}
