"""Rate limits shared by every web process: a counter row per key (an action and a client) and time window,
taken and incremented in one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.citizen_models import RateLimit


def allow(session: Session, key: str, limit: int, window: dt.timedelta, now: dt.datetime) -> bool:
    """Count one attempt for ``key``; False once more than ``limit`` were made in the current window (a window
    starts at the first attempt after the previous one ended)."""
    table = RateLimit.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    expired = table.c.window_start <= now - window
    statement = insert(table).values(key=key[:200], window_start=now, count=1).on_conflict_do_update(
        index_elements=["key"],
        set_={"window_start": case((expired, now), else_=table.c.window_start),
              "count": case((expired, 1), else_=table.c.count + 1)})
    count = session.execute(statement.returning(table.c.count)).scalar_one()
    return count <= limit


def exhausted(session: Session, key: str, limit: int, window: dt.timedelta, now: dt.datetime) -> bool:
    """True when ``key`` already made ``limit`` attempts in its current window; counts nothing (for limits on
    failures only: check first, then :func:`allow` counts a failure)."""
    table = RateLimit.__table__
    count = session.execute(select(table.c.count).where(table.c.key == key[:200],
                                                        table.c.window_start > now - window)).scalar_one_or_none()
    return count is not None and count >= limit
