"""Rate limits: a window per key, counted across processes in the database."""
from __future__ import annotations

import datetime as dt

from engine import db, rate_limits

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)
WINDOW = dt.timedelta(minutes=10)


def allow(factory, key, at):
    with db.transaction(factory) as session:
        return rate_limits.allow(session, key, 3, WINDOW, at)


def test_a_key_gets_its_limit_per_window_and_a_new_window_later(factory):
    assert [allow(factory, "lookup:1.2.3.4", T0 + dt.timedelta(seconds=i)) for i in range(4)] == [True] * 3 + [False]
    assert allow(factory, "lookup:5.6.7.8", T0) is True  # another client has its own count
    assert allow(factory, "lookup:1.2.3.4", T0 + WINDOW + dt.timedelta(seconds=1)) is True
