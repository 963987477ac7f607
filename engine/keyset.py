"""Keyset paging: the rows after (or before) a given row, in an order of several columns, some of which may be NULL.

A page is asked for by the sort keys of the row it starts after, never by an offset, so a late page costs what the
first one does: the database walks its index from that row on. NULL sorts as the largest value — last going up,
first going down — which is PostgreSQL's default and how its indexes keep NULLs, so the index serves both
directions. The cursor handed to the browser is the keys as URL-safe text.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import BadInput

Key = tuple[Any, bool]  # (a column, whether it may be NULL)


def order_by(keys: Sequence[Key], descending: bool) -> list[Any]:
    """The ORDER BY clauses of the keys: NULL last going up, first going down."""
    return [c.desc().nulls_first() if descending else c.asc().nulls_last() for c, _ in keys]


def _same(column, value) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _beyond(column, value, nullable: bool, descending: bool) -> ColumnElement[bool] | None:
    """Rows whose ``column`` comes strictly after ``value`` (None: nothing comes after NULL going up)."""
    if descending:
        return column.is_not(None) if value is None else column < value
    if value is None:
        return None
    return or_(column > value, column.is_(None)) if nullable else column > value


def after(keys: Sequence[Key], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """The rows strictly after the row whose keys are ``values``, in the order of the keys."""
    clauses = []
    for j, (column, nullable) in enumerate(keys):
        beyond = _beyond(column, values[j], nullable, descending)
        if beyond is not None:
            clauses.append(and_(*(_same(c, v) for (c, _), v in zip(keys[:j], values[:j])), beyond))
    return or_(*clauses) if clauses else false()


def segments(keys: Sequence[Key], values: Sequence[Any] | None, descending: bool) -> list[ColumnElement[bool] | None]:
    """Bounds on the leading key that an index can start from, to run in turn (each with :func:`after`) until the
    page is full: going up from a value of a key that may be NULL, the values from there on, then the NULLs."""
    if values is None:
        return [None]
    column, nullable = keys[0]
    value = values[0]
    if descending:
        return [column <= value] if value is not None else [None]
    if value is None:
        return [column.is_(None)]
    return [column >= value, column.is_(None)] if nullable else [column >= value]


def encode(label: str, values: Sequence[Any]) -> str:
    """A cursor: the order's label and the keys of a row, as URL-safe text."""
    def one(v):
        return {"t": v.isoformat()} if isinstance(v, dt.datetime) else v
    raw = json.dumps([label, [one(v) for v in values]], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _value(raw: Any) -> Any:
    if isinstance(raw, dict):
        moment = dt.datetime.fromisoformat(raw["t"])
        if moment.tzinfo is None:
            raise ValueError("a moment without its time zone")
        return moment
    if raw is not None and not isinstance(raw, (str, int, float)):
        raise ValueError("not a key")
    return raw


def decode(label: str, cursor: str, size: int) -> list[Any]:
    """The keys of a cursor made by :func:`encode` for the same order; :class:`BadInput` for anything else."""
    try:
        found_label, raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if found_label != label or not isinstance(raw, list) or len(raw) != size:
            raise ValueError("another order")
        return [_value(v) for v in raw]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as err:
        raise BadInput(f"not a page cursor of this list ({err})") from None
