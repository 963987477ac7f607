"""engine/web_sessions.py: server-side web sessions open, are checked, revoked, and expire and are cleaned away."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from engine import db, web_sessions
from engine.web_session_models import WebSession

T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(hours=8)


def test_a_session_is_open_for_its_kind_and_subject_only_until_revoked(factory):
    with db.transaction(factory) as session:
        sid = web_sessions.open_session(session, "officer", "can-bo-1", DAY, T0)
    with db.transaction(factory) as session:
        assert web_sessions.is_open(session, sid, "officer", "can-bo-1", T0)
        assert not web_sessions.is_open(session, sid, "officer", "can-bo-2", T0)
        assert not web_sessions.is_open(session, sid, "citizen", "can-bo-1", T0)
        assert not web_sessions.is_open(session, None, "officer", "can-bo-1", T0)
        assert session.scalar(select(WebSession.id_hash)) != sid  # only its hash is stored
        web_sessions.revoke(session, sid)
    with db.transaction(factory) as session:
        assert not web_sessions.is_open(session, sid, "officer", "can-bo-1", T0)


def test_an_expired_session_is_closed_and_cleaned_away_at_the_next_sign_in(factory):
    with db.transaction(factory) as session:
        old = web_sessions.open_session(session, "citizen", "001099012345", DAY, T0)
    later = T0 + DAY + dt.timedelta(seconds=1)
    with db.transaction(factory) as session:
        assert not web_sessions.is_open(session, old, "citizen", "001099012345", later)
        web_sessions.open_session(session, "citizen", "001099012345", DAY, later)
    with db.transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1


def test_revoking_a_subject_ends_all_of_its_sessions(factory):
    with db.transaction(factory) as session:
        first, second = (web_sessions.open_session(session, "officer", "can-bo-1", DAY, T0) for _ in range(2))
        other = web_sessions.open_session(session, "officer", "can-bo-2", DAY, T0)
        assert web_sessions.revoke_all(session, "officer", "can-bo-1") == 2
    with db.transaction(factory) as session:
        assert not web_sessions.is_open(session, first, "officer", "can-bo-1", T0)
        assert not web_sessions.is_open(session, second, "officer", "can-bo-1", T0)
        assert web_sessions.is_open(session, other, "officer", "can-bo-2", T0)
