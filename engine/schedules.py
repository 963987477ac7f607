"""Timer start events: a process whose start event has a timer starts a new instance at each occurrence.

Deploying a version with a timer start event (re)places the process's schedule; the scheduler claims due
schedules with ``FOR UPDATE SKIP LOCKED``, starts the instance of the newest version and moves the
schedule on, in one transaction, so each occurrence starts exactly one instance. ``timeDate``: once at
that moment; ``timeDuration``: once, that long after the deployment; ``timeCycle`` (``R3/2026-12-01T07:00
+07:00/P1D``, ``R/PT1H``): at each repetition (a cycle without a start begins one interval after the
deployment). Occurrences missed while nothing ran start one instance at the next start, not one each.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import dialect, instances, runtime
from engine.errors import BadInput
from engine.models import ScheduledStart
from engine.runtime import Actor

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


def timer_start(key: str, bpmn: Mapping[str, bytes]) -> tuple[str, str, str] | None:
    """The (element id, kind, expression) of the process's timer start event, if it has one."""
    for data in bpmn.values():
        for process in dialect.parse_xml(data).findall(f"{B}process"):
            if process.get("id") != key:
                continue
            for start in process.findall(f"{B}startEvent"):
                for timer in start.findall(f"{B}timerEventDefinition"):
                    for child in timer:
                        kind = KINDS.get(child.tag.removeprefix(B))
                        text = (child.text or "").strip()
                        if kind and text:
                            return start.get("id"), kind, dialect.due_date_expression(text)
    return None


def _value(expression: str):
    from engine.specs import SCRIPT_ENGINE
    try:
        return SCRIPT_ENGINE.environment.evaluate(expression, {})
    except Exception as err:
        raise BadInput(f"the timer start event's expression {expression!r} failed: {err}") from None


def first_occurrence(kind: str, expression: str, now: dt.datetime) -> tuple[dt.datetime, int | None, float | None]:
    """When the schedule first fires, how many times in all (None: for ever) and the interval (seconds)."""
    value = _value(expression)
    if kind == "date":
        moment = value if isinstance(value, dt.datetime) else TimerEventDefinition.parse_time_or_duration(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)), 1, None
    if kind == "duration":
        delta = value if isinstance(value, dt.timedelta) else None
        if delta is None:
            parsed = TimerEventDefinition.parse_time_or_duration(str(value))
            delta = parsed if isinstance(parsed, dt.timedelta) else \
                TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return now + delta, 1, None
    text = str(value)
    repetitions, start, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
    first = start if text.count("/") == 2 else now + interval
    while first < now:  # a start in the past: the first occurrence from now on
        first += interval
    return first, (None if repetitions < 0 else repetitions), interval.total_seconds()


def replace(session: Session, key: str, definition_id: str, timer: tuple[str, str, str] | None,
            now: dt.datetime | None = None) -> None:
    """Give the process the schedule of its newest version (none if that version has no timer start)."""
    session.execute(delete(ScheduledStart).where(ScheduledStart.process_key == key))
    if timer is None:
        return
    now = now or runtime.now()
    element_id, kind, expression = timer
    first, remaining, interval = first_occurrence(kind, expression, now)
    session.add(ScheduledStart(process_key=key, definition_id=definition_id, element_id=element_id, kind=kind,
                               expression=expression, next_at=first, remaining=remaining, interval_seconds=interval,
                               created_at=now))


def start_one_due(session: Session, actor: Actor, now: dt.datetime | None = None) -> str | None:
    """Start the instance of one due schedule and move it on; return the new instance's id, or None."""
    now = now or runtime.now()
    schedule = session.scalars(select(ScheduledStart).where(ScheduledStart.next_at <= now)
                               .order_by(ScheduledStart.next_at).limit(1).with_for_update(skip_locked=True)).first()
    if schedule is None:
        return None
    loaded = instances.start(session, actor, definition_id=schedule.definition_id)
    if schedule.remaining is not None:
        schedule.remaining -= 1
    if schedule.remaining == 0 or not schedule.interval_seconds:
        session.delete(schedule)
    else:
        step = dt.timedelta(seconds=schedule.interval_seconds)
        while schedule.next_at <= now:
            schedule.next_at += step
    return loaded.row.id
