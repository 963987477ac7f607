"""Vietnamese formatting for pages: money, deadlines, dates (one-stop-domain.md §13)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

VIETNAM = dt.timezone(dt.timedelta(hours=7))
UNITS = {"working_days": "ngày làm việc", "working_hours": "giờ làm việc", "days": "ngày"}


def vnd(amount: Any) -> str:
    """``1.500.000 đồng``; 0 is ``Miễn phí``."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return str(amount)
    return "Miễn phí" if value == 0 else f"{value:,}".replace(",", ".") + " đồng"


def deadline(entry: dict[str, Any]) -> str:
    """A catalogue entry's deadline in words, per channel, with its cut-off."""
    rule = entry.get("deadline") or {}
    unit = UNITS.get(rule.get("unit", ""), "")
    online, counter = rule.get("online"), rule.get("counter", rule.get("online"))

    def amount(value):
        return f"{value:g}" if isinstance(value, (int, float)) else str(value)
    text = f"{amount(online)} {unit}" if online == counter else \
        f"{amount(online)} {unit} (nộp trực tuyến), {amount(counter)} {unit} (nộp trực tiếp)"
    if rule.get("cutoff"):
        text += f"; hồ sơ nhận sau {rule['cutoff']} được tính từ ngày làm việc tiếp theo"
    return text


def date_vn(value: Any) -> str:
    """``dd/MM/yyyy`` (and ``HH:mm`` when there is a time), in Vietnam time."""
    if isinstance(value, str):  # a bare ISO date stays a date (no "00:00")
        value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        local = value.astimezone(VIETNAM) if value.tzinfo else value
        return local.strftime("%H:%M %d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def file_name(path: Any) -> str:
    """An uploaded file's name as the citizen gave it, without the server's folders."""
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def register(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(vnd=vnd, deadline=deadline, date_vn=date_vn, file_name=file_name)
