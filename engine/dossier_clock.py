"""What a command does to its dossier: the status it reached, the clock paused, resumed, delivered, extended
or finished by the elements it entered and left (the ``dossier_status`` and ``dossier_clock`` marks), each
change returned as a history event for the instance."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from engine import dossier_notices, dossiers
from engine.models import HistoryEvent
from engine.task_elements import element_id, stamp


def apply(session: Session, loaded, activity_events: list[dict[str, Any]], actor,
          at: dt.datetime, batch=None) -> list[dict[str, Any]]:
    """The dossier changes of one command, as history events: for a procedure with a deadline its status and
    clock; for a process without a dossier of its own, the extension of the dossier it names."""
    row, events = loaded.row, []
    if (loaded.parsed.procedure or {}).get("deadline"):
        loaded.status_reached = status_reached(loaded, activity_events)
        if not loaded.is_new:  # a new instance's dossier is received after this (engine.instances.start)
            events.extend(move_clock(session, loaded, activity_events, at))
            if loaded.status_reached and dossiers.set_status(session, row.id, *loaded.status_reached):
                events.append(status_event(*loaded.status_reached))
                dossier_notices.record(session, row.id, row.business_key, *loaded.status_reached, batch=batch)
    elif loaded.parsed.extensions:
        events.extend(extend_named_dossier(session, loaded, activity_events, actor))
    return events


def status_reached(loaded, activity_events: list[dict[str, Any]]) -> tuple[int, dt.datetime] | None:
    """The dossier status of the last element marked ``dossier_status`` that the token reached in this command
    (an element is reached when it starts; an event that passes at once, when it completes)."""
    statuses = loaded.parsed.statuses
    if not statuses:
        return None
    started = {e["task"].id for e in activity_events if e["kind"] == "activity_started"}
    reached = None
    for event in activity_events:
        task = event["task"]
        if element_id(task) not in statuses:
            continue
        if event["kind"] == "activity_started" or (
                event["kind"] == "activity_completed" and task.id not in started and task.id not in loaded.before):
            reached = (statuses[element_id(task)], stamp(task.last_state_change))
    return reached


def status_event(status: int, at: dt.datetime) -> dict[str, Any]:
    """The history event of a dossier status change."""
    return {"kind": "dossier_status", "task": None, "user_id": None,
            "details": {"status": status, "label": dossiers.STATUSES.get(status), "at": at.isoformat()}}


def move_clock(session: Session, loaded, activity_events: list[dict[str, Any]],
                        at: dt.datetime) -> list[dict[str, Any]]:
    """Stop the dossier's clock while a ``dossier_clock = pause`` element is active, note the delivery of the
    result and a new appointment (returned as history events), and end the clock with the instance."""
    pauses, deliveries = loaded.parsed.clock_pauses, loaded.parsed.deliveries
    events = []
    for event in activity_events:
        element = element_id(event["task"])
        moment = stamp(event["task"].last_state_change)
        if element in deliveries and event["kind"] == "activity_completed":
            dossiers.deliver(session, loaded.row.id, moment)
        if element in loaded.parsed.extensions and event["kind"] == "activity_completed":
            extended = dossiers.extend(session, loaded.row.id, event["task"].data.get("new_due_date"))
            if extended is not None:
                events.append({"kind": "dossier_extended", "task": event["task"], "user_id": None,
                               "details": {"extendedDueAt": extended.isoformat()}})
        if element not in pauses:
            continue
        if event["kind"] == "activity_started":
            dossiers.pause(session, loaded.row.id, moment)
        elif event["kind"] in ("activity_completed", "activity_cancelled"):
            dossiers.resume(session, loaded.row.id, moment)
    if loaded.row.status in ("completed", "terminated"):
        dossiers.finish(session, loaded.row.id, at)
    return events


def extend_named_dossier(session: Session, loaded, activity_events: list[dict[str, Any]],
                          actor) -> list[dict[str, Any]]:
    """In a process without a dossier of its own (the built-in apology process), a completed ``dossier_clock =
    extend`` element gives its ``new_due_date`` to the dossier its ``dossier_instance_id`` names, if that one
    exists and runs. The change goes into the history of that dossier's instance, and of this one (returned)."""
    events = []
    for event in activity_events:
        task = event["task"]
        if event["kind"] != "activity_completed" or element_id(task) not in loaded.parsed.extensions:
            continue
        target = task.data.get("dossier_instance_id")
        moment = dossiers.extend_named(session, target, task.data.get("new_due_date"))
        if moment is None:
            continue
        at = stamp(task.last_state_change)
        session.add(HistoryEvent(instance_id=target, at=at, kind="dossier_extended", user_id=actor.user_id,
                                 details=json.dumps({"extendedDueAt": moment.isoformat(), "byInstanceId": loaded.row.id,
                                                     "byProcess": loaded.row.process_key}, ensure_ascii=False)))
        events.append({"kind": "dossier_extended", "task": task, "user_id": None,
                       "details": {"extendedDueAt": moment.isoformat(), "dossierInstanceId": target}})
    return events
