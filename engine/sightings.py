"""Which workers poll which topics: a topic nobody has asked for in the last minute shows up at once."""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.db import database_name
from engine.models import WorkerSeen

WRITE_EVERY = dt.timedelta(seconds=10)
_last_written: dict[tuple[str, str, str], dt.datetime] = {}  # (database, worker, topic) -> when written
_lock = threading.Lock()


def seen(session: Session, worker_id: str, topics, now: dt.datetime) -> None:
    """Note that a worker asked for these topics; written at most every ``WRITE_EVERY`` per worker and topic,
    so polling does not turn into a write per request."""
    due = []
    database = database_name(session)
    with _lock:
        for topic in topics:
            last = _last_written.get((database, worker_id, topic))
            if last is None or now - last >= WRITE_EVERY:
                _last_written[(database, worker_id, topic)] = now
                due.append(topic)
    if not due:
        return
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = upsert(WorkerSeen).values([{"worker_id": worker_id, "topic": t, "last_seen": now} for t in sorted(due)])
    session.execute(stmt.on_conflict_do_update(index_elements=["worker_id", "topic"],
                                               set_={"last_seen": stmt.excluded.last_seen}))


def forget_cache() -> None:
    """Forget what was written (tests use a fresh database each)."""
    with _lock:
        _last_written.clear()


def recent(session: Session, since: dt.datetime) -> dict[str, list[str]]:
    """For each topic, the workers seen polling it since ``since``."""
    out: dict[str, list[str]] = {}
    for worker_id, topic in session.execute(select(WorkerSeen.worker_id, WorkerSeen.topic)
                                            .where(WorkerSeen.last_seen >= since).order_by(WorkerSeen.worker_id)):
        out.setdefault(topic, []).append(worker_id)
    return out


def prune(session: Session, before: dt.datetime) -> int:
    """Delete sightings older than ``before``; return how many."""
    return session.execute(delete(WorkerSeen).where(WorkerSeen.last_seen < before)).rowcount
