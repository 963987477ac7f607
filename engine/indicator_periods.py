"""Reporting periods of the Decision 766 indicators: a month, a quarter, a year or a range of days, in Vietnam time.

A period is written the way the dashboard's address carries it — ``2026-05``, ``2026-Q2``, ``2026`` or
``2026-01-01..2026-03-31`` (both days included) — and held as a half-open interval of UTC moments ``[start, end)``
between Vietnam midnights, so a dossier received at 23:30 on 31 May (16:30 UTC) belongs to May.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from engine.errors import BadInput

VIETNAM = dt.timezone(dt.timedelta(hours=7))
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC; ``key`` as the address writes it, ``label`` as people read it."""

    kind: str  # month, quarter, year, range
    key: str
    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def first_day(self) -> dt.date:
        """The period's first day (Vietnam time)."""
        return self.start.astimezone(VIETNAM).date()

    @property
    def last_day(self) -> dt.date:
        """The period's last day (Vietnam time), included."""
        return (self.end.astimezone(VIETNAM) - dt.timedelta(days=1)).date()


def midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in Vietnam, in UTC."""
    return dt.datetime.combine(day, dt.time(0, 0), VIETNAM).astimezone(dt.timezone.utc)


def _month_start(year: int, month: int) -> dt.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, 1)


def month(year: int, number: int) -> Period:
    """The month ``number`` (1-12) of ``year``."""
    return Period("month", f"{year:04d}-{number:02d}", f"Tháng {number}/{year}", midnight(_month_start(year, number)),
                  midnight(_month_start(year, number + 1)))


def quarter(year: int, number: int) -> Period:
    """The quarter ``number`` (1-4) of ``year``."""
    first = 3 * (number - 1) + 1
    return Period("quarter", f"{year:04d}-Q{number}", f"Quý {number}/{year}", midnight(_month_start(year, first)),
                  midnight(_month_start(year, first + 3)))


def year(number: int) -> Period:
    """The calendar year."""
    return Period("year", f"{number:04d}", f"Năm {number}", midnight(dt.date(number, 1, 1)),
                  midnight(dt.date(number + 1, 1, 1)))


def days(first: dt.date, last: dt.date) -> Period:
    """From ``first`` to ``last``, both included; :class:`BadInput` if they are in the wrong order."""
    if last < first:
        raise BadInput("Ngày kết thúc phải sau hoặc bằng ngày bắt đầu")
    check_year(first.year)
    check_year(last.year)
    return Period("range", f"{first.isoformat()}..{last.isoformat()}",
                  f"Từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}", midnight(first), midnight(last + dt.timedelta(days=1)))


def check_year(number: int) -> int:
    """``number`` if it is a year the indicators (and the console's date filters) accept; :class:`BadInput`
    otherwise, so a day like 01/01/0001 or 31/12/9999 is a message, not an overflow."""
    if not EARLIEST_YEAR <= number <= LATEST_YEAR:
        raise BadInput(f"Năm {number} nằm ngoài khoảng {EARLIEST_YEAR}-{LATEST_YEAR}")
    return number


def parse(key: str) -> Period:
    """The period an address names; :class:`BadInput` for anything else."""
    key = (key or "").strip()
    try:
        if found := _MONTH.match(key):
            number = int(found.group(2))
            if not 1 <= number <= 12:
                raise ValueError
            return month(check_year(int(found.group(1))), number)
        if found := _QUARTER.match(key):
            return quarter(check_year(int(found.group(1))), int(found.group(2)))
        if found := _YEAR.match(key):
            return year(check_year(int(found.group(1))))
        if found := _RANGE.match(key):
            return days(dt.date.fromisoformat(found.group(1)), dt.date.fromisoformat(found.group(2)))
    except ValueError:
        pass
    raise BadInput(f"'{key[:40]}' không phải một kỳ báo cáo (tháng 2026-05, quý 2026-Q2, năm 2026 hoặc "
                   "khoảng ngày 2026-01-01..2026-03-31)")


def containing(moment: dt.datetime, kind: str = "month") -> Period:
    """The month, quarter or year that holds ``moment``."""
    local = moment.astimezone(VIETNAM)
    if kind == "year":
        return year(local.year)
    if kind == "quarter":
        return quarter(local.year, (local.month - 1) // 3 + 1)
    return month(local.year, local.month)


def choices(now: dt.datetime, months: int = 24, quarters: int = 8, years: int = 3) -> list[Period]:
    """The periods a form offers, newest first: recent months, quarters and years."""
    local = now.astimezone(VIETNAM)
    found = [month(*_shift(local.year, local.month, -k)) for k in range(months)]
    current = (local.month - 1) // 3
    found += [quarter(local.year + (current - k) // 4, (current - k) % 4 + 1) for k in range(quarters)]
    found += [year(local.year - k) for k in range(years)]
    return found


def _shift(year_number: int, month_number: int, by: int) -> tuple[int, int]:
    start = _month_start(year_number, month_number + by)
    return start.year, start.month


def trend_months(end: dt.datetime, count: int = 12) -> list[Period]:
    """The ``count`` months up to the one that holds the moment just before ``end``, oldest first."""
    last = containing(end - dt.timedelta(microseconds=1))
    local = last.start.astimezone(VIETNAM)
    return [month(*_shift(local.year, local.month, -k)) for k in range(count - 1, -1, -1)]
