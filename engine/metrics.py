"""The figures ``/metrics`` exposes, read from the engine's tables (the caller passes the session).

Each is one grouped query on an indexed projection: instances by process key and state, external-task backlog by
topic, open incidents and user tasks by process key, the lateness of the oldest due timer, overdue dossiers.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.models import Dossier, ExternalTask, Incident, ProcessInstance, ScheduledStart, UserTask


def instances_by_state(session: Session) -> list[tuple[str, str, int]]:
    """(process key, state, number of instances): active, suspended, completed, terminated."""
    rows = session.execute(select(ProcessInstance.process_key, ProcessInstance.status, func.count())
                           .group_by(ProcessInstance.process_key, ProcessInstance.status))
    return sorted((key, status, count) for key, status, count in rows)


def external_backlog(session: Session, now: dt.datetime) -> list[tuple[str, int, int]]:
    """(topic, waiting, locked) external tasks: locked ones are being worked on (a lock not yet expired); a task
    out of retries is an incident, counted by :func:`incidents_open`, not here."""
    locked = case((ExternalTask.lock_expires_at > now, 1), else_=0)
    dead = case((ExternalTask.retries == 0, 1), else_=0)
    rows = session.execute(select(ExternalTask.topic, func.count(), func.sum(locked), func.sum(dead))
                           .group_by(ExternalTask.topic))
    out = []
    for topic, total, locked_n, dead_n in rows:
        locked_n, dead_n = int(locked_n or 0), int(dead_n or 0)
        out.append((topic, total - locked_n - dead_n, locked_n))
    return sorted(out)


def incidents_open(session: Session) -> list[tuple[str, int]]:
    """(process key, number of open incidents)."""
    rows = session.execute(select(ProcessInstance.process_key, func.count())
                           .select_from(Incident).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
                           .where(Incident.resolved_at.is_(None)).group_by(ProcessInstance.process_key))
    return sorted((key, count) for key, count in rows)


def user_tasks_open(session: Session) -> list[tuple[str, int]]:
    """(process key, number of open user tasks)."""
    rows = session.execute(select(UserTask.process_key, func.count()).group_by(UserTask.process_key))
    return sorted((key, count) for key, count in rows)


def timer_lateness(session: Session, now: dt.datetime) -> float:
    """Seconds since the oldest timer that is due but has not fired (an active instance's next timer, or a timer
    start event's next start); 0 when none is due. A scheduler fires a timer within a second: a lateness that grows
    means no scheduler is firing."""
    due = [session.scalar(select(func.min(ProcessInstance.next_timer_at))
                          .where(ProcessInstance.status == "active", ProcessInstance.next_timer_at <= now)),
           session.scalar(select(func.min(ScheduledStart.next_at)).where(ScheduledStart.next_at <= now))]
    oldest = min((d for d in due if d is not None), default=None)
    return max((now - _aware(oldest)).total_seconds(), 0.0) if oldest is not None else 0.0


def dossiers_overdue(session: Session, now: dt.datetime) -> int:
    """Open dossiers past their due time whose clock is running (a dossier paused for a supplement is not late)."""
    return session.scalar(select(func.count()).select_from(Dossier)
                          .where(Dossier.finished_at.is_(None), Dossier.paused_at.is_(None), Dossier.due_at < now)) or 0


def _aware(value: dt.datetime) -> dt.datetime:
    # func.min over a UTCDateTime column comes back through the type on most backends, but not always (SQLite)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
