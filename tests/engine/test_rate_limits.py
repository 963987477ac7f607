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


def test_exhausted_tells_a_used_up_window_without_counting(factory):
    with db.transaction(factory) as session:
        assert rate_limits.exhausted(session, "login:1.2.3.4", 2, WINDOW, T0) is False  # no row yet
    assert [allow(factory, "login:1.2.3.4", T0) for _ in range(2)] == [True, True]
    with db.transaction(factory) as session:
        checks = [rate_limits.exhausted(session, "login:1.2.3.4", 3, WINDOW, T0) for _ in range(5)]
        assert checks == [False] * 5  # two of three used, and asking five times counted nothing
        assert rate_limits.exhausted(session, "login:1.2.3.4", 2, WINDOW, T0) is True
        assert rate_limits.exhausted(session, "login:1.2.3.4", 2, WINDOW, T0 + WINDOW) is False  # the window ended
