"""Commands on external tasks: fetch and lock, complete, report a failure, throw a BPMN error, and the
lock management around them (extend, unlock, set retries).

A worker locks tasks in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never
wait on each other), works outside any database lock, then completes in the instance's transaction. The
lock (worker id + expiry) is the claim: a worker whose lock expired or was taken over is refused.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session

from engine import audit, dialect, limits, multi_instance, runtime, sightings
from engine.error_events import ErrorEventDefinition
from engine.errors import BadInput, InstanceNotActive, LockNotHeld, NotFound, TaskNotActive
from engine.instances import check_variables
from engine.models import ExternalTask, Incident
from engine.runtime import Actor, Loaded


@dataclass
class LockedTask:
    """A task handed to a worker, with the variables it needs."""

    id: str
    topic: str
    worker_id: str
    lock_expires_at: dt.datetime
    instance_id: str
    business_key: str | None
    activity_id: str
    process_key: str
    definition_id: str
    priority: int
    retries: int | None
    error_message: str | None
    variables: dict[str, Any]


def fetch_and_lock(session: Session, worker_id: str, topics: dict[str, int], max_tasks: int = 1,
                   use_priority: bool = True) -> list[LockedTask]:
    """Lock up to ``max_tasks`` tasks of the given topics ({topic: lock duration in ms}) for a worker."""
    if not worker_id:
        raise BadInput("a worker id is required")
    limits.check_length("the worker id", worker_id, limits.WORKER_ID_MAX)
    for topic, duration in topics.items():
        limits.check_length("the topic name", topic, limits.TOPIC_MAX)
        limits.check_number(f"the lock duration (ms) of topic {topic}", duration, 1, limits.DURATION_MAX_MS)
    if not topics or max_tasks < 1:
        return []
    now = runtime.now()
    topic_names = tuple(topics)
    params = {"topics": list(topic_names), "now": now, "max_tasks": max_tasks, "worker_id": worker_id,
              **{f"topic_{i}": t for i, t in enumerate(topic_names)},
              **{f"expiry_{i}": now + dt.timedelta(milliseconds=topics[t]) for i, t in enumerate(topic_names)}}
    rows = session.connection().execute(_fetch_statement(len(topic_names), use_priority), params).all()
    rows.sort(key=lambda r: ((-r.priority if use_priority else 0), r.created_at, r.id))
    expiry = {t: params[f"expiry_{i}"] for i, t in enumerate(topic_names)}
    locked = [LockedTask(id=r.id, topic=r.topic, worker_id=worker_id, lock_expires_at=expiry[r.topic],
                         instance_id=r.instance_id, business_key=r.business_key, activity_id=r.activity_id,
                         process_key=r.process_key, definition_id=r.definition_id, priority=r.priority,
                         retries=r.retries, error_message=r.error_message, variables=json.loads(r.variables))
              for r in rows]
    sightings.seen(session, worker_id, topics, now)
    return locked


_FETCH_STATEMENTS: dict[tuple[int, bool], Any] = {}


def _fetch_statement(topic_count: int, use_priority: bool):
    """The statement that locks tasks for a worker (built once per number of topics and order): choose the ids
    (a narrow sort), skip rows other workers hold, and lock and return them in one statement."""
    stmt = _FETCH_STATEMENTS.get((topic_count, use_priority))
    if stmt is not None:
        return stmt
    task = ExternalTask.__table__.c
    now = bindparam("now", type_=task.lock_expires_at.type)
    order = (*((task.priority.desc(),) if use_priority else ()), task.created_at, task.id)
    chosen = (select(task.id)
              .where(task.topic.in_(bindparam("topics", expanding=True)), task.suspended.is_(False),
                     or_(task.retries.is_(None), task.retries > 0),
                     or_(task.lock_expires_at.is_(None), task.lock_expires_at < now),
                     or_(task.retry_at.is_(None), task.retry_at <= now))
              .order_by(*order).limit(bindparam("max_tasks")).with_for_update(skip_locked=True))
    # each topic's lock expiry: the topic is matched against its parameter's position in the worker's list
    expiry = case(*((task.topic == bindparam(f"topic_{i}"), bindparam(f"expiry_{i}", type_=task.lock_expires_at.type))
                    for i in range(topic_count)))
    stmt = (update(ExternalTask.__table__).where(task.id.in_(chosen.scalar_subquery()))
            .values(worker_id=bindparam("worker_id"), lock_expires_at=expiry)
            .returning(task.id, task.topic, task.instance_id, task.business_key, task.activity_id, task.process_key,
                       task.definition_id, task.priority, task.retries, task.error_message, task.variables,
                       task.created_at))
    _FETCH_STATEMENTS[(topic_count, use_priority)] = stmt
    return stmt


def _check_lock(row: ExternalTask, task_id: str, worker_id: str) -> ExternalTask:
    if row.worker_id != worker_id:
        raise LockNotHeld(f"external task {task_id} is not locked by worker '{worker_id}'"
                          + (f" (it is locked by '{row.worker_id}')" if row.worker_id else ""))
    if row.lock_expires_at is None or row.lock_expires_at <= runtime.now():
        raise LockNotHeld(f"the lock of worker '{worker_id}' on external task {task_id} has expired")
    if row.suspended:  # as its completion is refused: nobody acts on a suspended instance (Camunda's too)
        raise InstanceNotActive(f"the instance {row.instance_id} of external task {task_id} is suspended", "suspended")
    return row


def _locked_row(session: Session, task_id: str, worker_id: str) -> ExternalTask:
    row = session.get(ExternalTask, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    return _check_lock(row, task_id, worker_id)


def _load_started(session: Session, task_id: str, worker_id: str):
    instance, row = runtime.lock_with_task(session, ExternalTask, task_id)
    if instance is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    _check_lock(row, task_id, worker_id)
    loaded = runtime.loaded_from(session, instance)
    runtime.require_running(loaded)
    task = loaded.task(task_id)
    if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec, dialect.ExternalTask):
        raise TaskNotActive(f"external task {task_id} is no longer waiting for a worker")
    return loaded, task


def complete(session: Session, task_id: str, worker_id: str, variables: dict[str, Any] | None = None,
             local_variables: dict[str, Any] | None = None) -> Loaded:
    """Complete a locked task with the worker's result variables. ``local_variables`` are the task's own (Camunda's
    localVariables): they end with it, so they are kept in its history and never become process variables."""
    variables = check_variables(variables)
    local_variables = check_variables(local_variables)
    loaded, task = _load_started(session, task_id, worker_id)
    task.data.update(variables)
    multi_instance.note_answers(task, variables)
    runtime.finish_task(loaded, task)
    loaded.record("external_task_completed", task, user_id=worker_id,
                  **({"localVariables": local_variables} if local_variables else {}))
    runtime.advance(loaded)
    runtime.save(session, loaded, Actor(worker_id, operator=True))
    return loaded


def failure(session: Session, task_id: str, worker_id: str, error_message: str, error_details: str | None = None,
            retries: int = 0, retry_timeout_ms: int = 0) -> ExternalTask:
    """Record that a worker failed; with no retries left an incident opens and the task waits for an operator."""
    limits.check_number("retries", retries, 0)
    limits.check_number("the retry timeout (ms)", retry_timeout_ms or 0, 0, limits.DURATION_MAX_MS)
    limits.check_text("the error message", error_message)
    limits.check_text("the error details", error_details)
    instance, row = runtime.lock_with_task(session, ExternalTask, task_id)
    if instance is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    _check_lock(row, task_id, worker_id)
    now = runtime.now()
    row.retries = retries
    row.error_message = (error_message or "")[:666]
    row.error_details = error_details
    row.worker_id = None
    row.lock_expires_at = None
    row.retry_at = now + dt.timedelta(milliseconds=retry_timeout_ms or 0)
    if retries == 0:
        _open_incident(session, instance, row, row.error_message or "the worker failed", error_details, now)
    session.flush()
    return row


def _open_incident(session: Session, instance, row: ExternalTask, message: str, details: str | None,
                   at: dt.datetime) -> None:
    """Open the incident of a task with no retries left (it is fetched no more: an operator must act)."""
    session.add(Incident(id=str(uuid.uuid4()), instance_id=row.instance_id, task_id=row.id,
                         activity_id=row.activity_id, kind="failedExternalTask", message=message, details=details,
                         created_at=at))
    instance.open_incidents += 1


def bpmn_error(session: Session, task_id: str, worker_id: str, error_code: str, error_message: str | None = None,
               variables: dict[str, Any] | None = None) -> Loaded:
    """Throw a BPMN error from a task: an error boundary event with this code catches it, else an incident."""
    if not error_code:
        raise BadInput("an error code is required")
    limits.check_text("the error code", error_code)
    limits.check_text("the error message", error_message)
    variables = check_variables(variables)
    loaded, task = _load_started(session, task_id, worker_id)
    payload = dict(variables)
    event = BpmnEvent(ErrorEventDefinition(error_code, code=error_code, message=error_message), payload=payload,
                      target=task.workflow)
    loaded.record("bpmn_error", task, user_id=worker_id, code=error_code, message=error_message)
    if not _catch_in_scope(loaded.wf, event, task.workflow):
        loaded.errors[task.id] = (f"the BPMN error '{error_code}' was thrown but no error event catches it"
                                  + (f": {error_message}" if error_message else ""))
        task.error()
    runtime.advance(loaded)
    runtime.save(session, loaded, Actor(worker_id, operator=True))
    return loaded


def _catch_in_scope(wf, event: BpmnEvent, scope) -> bool:
    """Deliver an error to the catch events of ``scope`` (the task's own process or subprocess), else of the
    process around it, and so on outwards; whether one caught it. SpiffWorkflow's ``send_event`` does the same
    walk but reports only the innermost scope, so an error caught by the boundary on a subprocess or call
    activity looked uncaught."""
    while scope is not None:
        catchers = [t for t in wf.event_manager.tasks.values()
                    if t.workflow == scope and t.task_spec.event_definition.catches(t, event)]
        if catchers:
            event.target = scope
            for catcher in catchers:
                catcher.task_spec.catch(catcher, event)
                catcher.task_spec._update(catcher)
            return True
        scope = scope.parent_workflow
    return False


def extend_lock(session: Session, task_id: str, worker_id: str, new_duration_ms: int) -> ExternalTask:
    """Extend the lock a worker holds, to ``new_duration_ms`` from now (a heartbeat for long handlers)."""
    limits.check_number("newDuration (ms)", new_duration_ms, 1, limits.DURATION_MAX_MS)
    row = _locked_row(session, task_id, worker_id)
    row.lock_expires_at = runtime.now() + dt.timedelta(milliseconds=new_duration_ms)
    session.flush()
    return row


def _task_row(session: Session, task_id: str) -> ExternalTask:
    row = session.get(ExternalTask, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    return row


def unlock(session: Session, task_id: str) -> ExternalTask:
    """Release a task's lock so any worker may fetch it at once (an operator's or a stopping worker's act)."""
    row = _task_row(session, task_id)
    row.worker_id = None
    row.lock_expires_at = None
    session.flush()
    return row


def set_retries(session: Session, task_id: str, retries: int, actor: Actor | None = None,
                reason: str | None = None) -> ExternalTask:
    """Set a task's retries; more than 0 makes it fetchable again and resolves its open incident, 0 opens one (as
    Camunda's: the task is fetched no more, and the incident says it waits for an operator). Audited as
    ``incident_retry`` when an incident was resolved, else ``retries_set``."""
    limits.check_number("retries", retries, 0)
    instance, row = runtime.lock_with_task(session, ExternalTask, task_id)
    if instance is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    row.retries = retries
    resolved = []
    now = runtime.now()
    open_ = session.scalars(select(Incident).where(Incident.task_id == task_id, Incident.resolved_at.is_(None))).all()
    if retries > 0:
        row.retry_at = None
        for incident in open_:
            incident.resolved_at = now
            instance.open_incidents = max(instance.open_incidents - 1, 0)
            resolved.append(incident.id)
    elif not open_:
        _open_incident(session, instance, row, row.error_message or "the retries were set to 0", row.error_details,
                       now)
    session.flush()
    audit.record(session, actor.user_id if actor else None, "incident_retry" if resolved else "retries_set",
                 "external_task", task_id, reason, retries=retries, incidents=resolved, instanceId=instance.id,
                 topic=row.topic, activityId=row.activity_id)
    return row
