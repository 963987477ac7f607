"""Heartbeats: running components (each scheduler process) say in the database that they are alive.

A scheduler writes its row (component ``scheduler``, instance ``host:pid``) after each round of firing timers, at
most every :data:`WRITE_EVERY`; ``/healthz`` in any web process reads the newest row, so a separate
``motcua scheduler`` and schedulers inside several web processes all count, wherever they run.
"""
from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.audit_models import Heartbeat

WRITE_EVERY = dt.timedelta(seconds=5)
FORGET_AFTER = dt.timedelta(days=1)  # rows of processes gone this long are deleted


def this_process() -> str:
    """This process's instance name: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(session: Session, component: str, instance: str, now: dt.datetime, started_at: dt.datetime) -> None:
    """Record that ``instance`` of ``component`` is alive now (an upsert), and forget long-gone instances."""
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = upsert(Heartbeat).values(component=component, instance=instance, started_at=started_at, last_seen=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["component", "instance"],
                                               set_={"last_seen": stmt.excluded.last_seen}))
    session.execute(delete(Heartbeat).where(Heartbeat.component == component,
                                            Heartbeat.last_seen < now - FORGET_AFTER))


def latest(session: Session, component: str, since: dt.datetime) -> tuple[dt.datetime | None, int]:
    """The newest heartbeat of ``component`` (None if it never beat), and how many instances beat since ``since``."""
    newest = session.scalar(select(func.max(Heartbeat.last_seen)).where(Heartbeat.component == component))
    alive = session.scalar(select(func.count()).select_from(Heartbeat)
                           .where(Heartbeat.component == component, Heartbeat.last_seen >= since))
    return newest, alive or 0


class Beater:
    """Writes one process's heartbeats for a component, at most every :data:`WRITE_EVERY` (thread-unsafe: one
    scheduler job calls it)."""

    def __init__(self, component: str, instance: str | None = None) -> None:
        self.component = component
        self.instance = instance or this_process()
        self.started_at = dt.datetime.now(dt.timezone.utc)
        self.last: dt.datetime | None = None

    def due(self, now: dt.datetime) -> bool:
        """Whether a heartbeat should be written now."""
        return self.last is None or now - self.last >= WRITE_EVERY

    def beat(self, session: Session, now: dt.datetime) -> None:
        """Write the heartbeat in the caller's transaction, if it is due."""
        if self.due(now):
            beat(session, self.component, self.instance, now, self.started_at)
            self.last = now
