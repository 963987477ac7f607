"""Server-side web sessions: open one at sign-in, check it on every request, revoke it at sign-out or when the
account is disabled. The caller's database session is used and never committed here."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.web_session_models import WebSession

KINDS = ("citizen", "officer")


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def open_session(session: Session, kind: str, subject: str, lifetime: dt.timedelta,
                 now: dt.datetime | None = None) -> str:
    """Open a web session for ``subject`` (a citizen's number, an officer's account) and return its random id,
    for the cookie; expired sessions are cleaned away on the way."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of web session: {kind!r}")
    now = _now(now)
    purge_expired(session, now)
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_hash(session_id), kind=kind, subject=subject, created_at=now,
                           expires_at=now + lifetime))
    session.flush()
    return session_id


def is_open(session: Session, session_id: str | None, kind: str, subject: str,
            now: dt.datetime | None = None) -> bool:
    """Whether ``session_id`` is an unexpired, unrevoked web session of this kind for this subject."""
    if not session_id:
        return False
    row = session.get(WebSession, _hash(session_id))
    return (row is not None and row.kind == kind and row.subject == subject
            and row.expires_at > _now(now))


def revoke(session: Session, session_id: str | None) -> None:
    """End one web session (signing out); an unknown or already ended one is no error."""
    if session_id:
        session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session_id)))


def revoke_all(session: Session, kind: str, subject: str) -> int:
    """End every web session of a subject (a disabled account); returns how many were open."""
    return session.execute(delete(WebSession).where(WebSession.kind == kind, WebSession.subject == subject)).rowcount


def purge_expired(session: Session, now: dt.datetime | None = None) -> int:
    """Delete the sessions that have expired; returns how many."""
    return session.execute(delete(WebSession).where(WebSession.expires_at <= _now(now))).rowcount

