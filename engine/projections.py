"""Bringing the projection tables in line with a workflow after a command.

The workflow's active tasks before and after the command are compared, so only what changed is written:
new user tasks and external tasks are inserted, finished ones deleted, message subscriptions follow the
waiting catch events, failed tasks open incidents, and every element entered or left becomes a history
event. The next timer's due time goes on the instance row; what the command did to its dossier comes from
:mod:`engine.dossier_clock`. Every row goes into the command's write batch (:mod:`engine.write_batch`).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine import assignment, dialect, dossier_clock, joins, multi_instance
from engine.models import (Dossier, ExternalTask, HistoryEvent, Incident, MessageSubscription, UserTask,
                           UserTaskCandidate)
from engine.serializer import dumps_variables
from engine.task_elements import element_id, element_type, stamp, work_element_id
from engine.task_tree import tasks_in_state
from engine.write_batch import WriteBatch

DEFAULT_PRIORITY = 50


def variables_of(wf: BpmnWorkflow, active: dict[UUID, int] | None = None) -> dict[str, Any]:
    """The instance's variables: the data of its active tasks (latest last), or of its last task."""
    tasks = [wf.get_task_from_id(task_id) for task_id in (active or {})]
    tasks = [t for t in tasks if t is not None]
    if not tasks:
        last = wf.last_task  # (the last instance of a multi-instance activity, in an instance terminated in it)
        return dict(_shared(last, last.data)) if last is not None else dict(wf.data)
    merged: dict[str, Any] = {}
    for task in sorted(tasks, key=lambda t: t.last_state_change):
        merged.update(_shared(task, joins.waiting_data(task) if joins.is_waiting_join(task) else task.data))
    return merged


def _shared(task, data: dict[str, Any]) -> dict[str, Any]:
    """A task's data without what is its own: one reviewer's name is not the process's."""
    local = multi_instance.local_names(task)
    return {k: v for k, v in data.items() if k not in local} if local else data


def variables_json(wf: BpmnWorkflow, active: dict[UUID, int]) -> str:
    """:func:`variables_of` as JSON text."""
    return dumps_variables(variables_of(wf, active))


def _event_definitions(task):
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return definition.event_definitions
    return [definition]


def next_timer(wf: BpmnWorkflow) -> dt.datetime | None:
    """When the earliest waiting timer of the workflow is due."""
    due: list[dt.datetime] = []
    for task in list(wf.event_manager.tasks.values()):
        if not any(isinstance(d, TimerEventDefinition) for d in _event_definitions(task)):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            if value.get("cycles") == 0:
                continue
            value = value.get("next")
        if value is None:
            continue
        moment = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else value
        if isinstance(moment, dt.datetime):
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc))
    return min(due) if due else None


def _messages_waiting(wf: BpmnWorkflow) -> dict[UUID, tuple[Any, list[str]]]:
    waiting = {}
    for task in list(wf.event_manager.tasks.values()):
        names = [d.name for d in _event_definitions(task) if isinstance(d, MessageEventDefinition)]
        if names:
            waiting[task.id] = (task, names)
    return waiting


def sync(session: Session, loaded, after: dict[UUID, int], actor, at: dt.datetime, batch: WriteBatch) -> None:
    """Add every projection change that the command caused to ``batch`` (which holds the instance row's write)."""
    wf, row, before = loaded.wf, loaded.row, loaded.before
    new_ids = [tid for tid in after if tid not in before or before[tid] != after[tid]]
    gone_ids = [tid for tid in before if tid not in after or before[tid] != after[tid]]
    _delete_gone(session, wf, gone_ids, batch)
    messages = _messages_waiting(wf) if new_ids else {}
    events = loaded.events
    activity_events = _finished_events(wf, loaded)
    for tid in new_ids:
        task = wf.get_task_from_id(tid)
        spec = task.task_spec
        if tid not in before and element_id(task):
            activity_events.append({"kind": "activity_started", "task": task, "user_id": None, "details": None})
        if task.state == TaskState.READY and isinstance(spec, dialect.UserTask):
            _insert_user_task(session, loaded, task, at, batch)
        elif task.state == TaskState.STARTED and isinstance(spec, dialect.ExternalTask):
            _insert_external_task(loaded, task, at, batch)
        if task.state == TaskState.WAITING and tid in messages:
            for name in messages[tid][1]:
                batch.insert(MessageSubscription, task_id=str(tid), instance_id=row.id, message_name=name,
                         business_key=row.business_key, activity_id=element_id(task) or spec.name, created_at=at)
    activity_events.sort(key=lambda e: e["task"].last_state_change)
    events = events + activity_events
    if row.status == "completed" and row.ended_at == at:
        events.append({"kind": "instance_completed", "task": None, "user_id": None, "details": None})
    _event_subprocess_subscriptions(session, loaded, at, batch)
    events.extend(dossier_clock.apply(session, loaded, activity_events, actor, at, batch))
    if loaded.errors:
        events.extend(_open_incidents(loaded, at, batch))
    write_events(session, loaded, events, actor, batch)


def _delete_gone(session: Session, wf: BpmnWorkflow, gone_ids: list[UUID], batch: WriteBatch) -> None:
    """Delete the projection rows of tasks that left their state (one statement per kind of row)."""
    by_table: dict[type, list[str]] = {}
    for tid in gone_ids:
        task = _in_tree(wf, tid)
        spec = task.task_spec if task is not None else None
        if task is None:  # dropped from the tree (the instances of a multi-instance activity a boundary event
            for table in (UserTask, ExternalTask, MessageSubscription):  # interrupted): whatever row it had goes
                by_table.setdefault(table, []).append(str(tid))
            continue
        if isinstance(spec, dialect.UserTask):
            table = UserTask  # its candidates go with it (ON DELETE CASCADE)
        elif isinstance(spec, dialect.ExternalTask):
            table = ExternalTask
        elif spec is not None and hasattr(spec, "event_definition") and any(
                isinstance(d, MessageEventDefinition) for d in _event_definitions(task)):
            table = MessageSubscription
        else:
            continue
        by_table.setdefault(table, []).append(str(tid))
    for table, ids in by_table.items():
        # deleted with the batch (an ORM delete would search the session for the rows to synchronise, on every
        # command); the task rows the command read are taken out of the session with them
        batch.delete(table, ids)
        if table is not MessageSubscription:
            for tid in ids:
                gone = session.identity_map.get(identity_key(table, tid))
                if gone is not None:
                    session.expunge(gone)


def _in_tree(wf: BpmnWorkflow, task_id: UUID):
    """The workflow's task with this id, or None when it is no longer in the tree (SpiffWorkflow drops the unfinished
    children of a task it cancels)."""
    try:
        return wf.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None


def _finished_events(wf: BpmnWorkflow, loaded) -> list[dict[str, Any]]:
    events = []
    for task in tasks_in_state(wf, TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR, loaded.started):
        if not element_id(task) or loaded.finished_before.get(task.id) == (task.state, task.last_state_change):
            continue  # an end written before (a clock that stood still or went back would report it again)
        if task.state == TaskState.COMPLETED:
            kind = "activity_completed"
        elif task.state == TaskState.ERROR:
            kind = "activity_failed"
        elif task.id in loaded.before:
            kind = "activity_cancelled"
        else:
            continue  # a predicted branch that was never entered
        events.append({"kind": kind, "task": task, "user_id": None, "details": None})
    return events


def _evaluate(loaded, task, expression: str | None) -> Any:
    if not expression:
        return None
    return loaded.wf.script_engine.evaluate(task, expression)


def due_moment(value: Any, at: dt.datetime) -> dt.datetime | None:
    """A due date from what a ``dueDate`` expression gave: a datetime, a date, an ISO date or a duration."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(23, 59), dt.timezone.utc)
    if isinstance(value, dt.timedelta):
        return at + value
    if isinstance(value, dict):  # a parsed ISO duration
        return at + TimerEventDefinition.get_timedelta_from_start(dict(value), at)
    if isinstance(value, str):
        moment = TimerEventDefinition.parse_time_or_duration(value)
        return due_moment(moment, at)
    raise ValueError(f"a due date must be a date, a datetime or a duration, not {value!r}")


def _insert_user_task(session: Session, loaded, task, at: dt.datetime, batch: WriteBatch) -> None:
    spec, row = task.task_spec, loaded.row
    try:
        due = due_moment(_evaluate(loaded, task, spec.due_date), at)
    except Exception as err:  # a bad due date must not lose the task: show it without one
        due = None
        loaded.events.append({"kind": "due_date_failed", "task": task, "user_id": None,
                              "details": {"message": str(err)}})
    priority = spec.priority
    tid = str(task.id)
    assignee, groups, users = assignment.of(task)
    batch.insert(
        UserTask, id=tid, instance_id=row.id, definition_id=row.definition_id, process_key=row.process_key,
        business_key=row.business_key, activity_id=work_element_id(task), name=spec.bpmn_name, lane=spec.lane,
        form_key=spec.form_key, assignee=assignee, candidate_groups=",".join(groups), candidate_users=",".join(users),
        priority=int(priority) if priority and str(priority).lstrip("-").isdigit() else DEFAULT_PRIORITY,
        due_at=due, created_at=at, suspended=row.status == "suspended", agency=_dossier_agency(session, loaded, task),
        local_variables=_local_variables(task))
    for group in dict.fromkeys(groups):
        batch.insert(UserTaskCandidate, task_id=tid, kind="group", value=group)
    for user in dict.fromkeys(users):
        batch.insert(UserTaskCandidate, task_id=tid, kind="user", value=user)


def _local_variables(task) -> str | None:
    """The variables a task holds for itself (an instance's item of a multi-instance activity), as JSON; or None."""
    local = {name: task.data[name] for name in sorted(multi_instance.local_names(task)) if name in task.data}
    return dumps_variables(local) if local else None


def _dossier_agency(session: Session, loaded, task) -> str | None:
    """The agency whose inbox a new task goes to: its dossier's. A new instance's dossier, received after this,
    will be its procedure's agency. An instance without a deadline has no dossier; one working for another's
    dossier (the built-in apology process) names it in ``dossier_instance_id`` and sends its tasks there."""
    procedure = loaded.parsed.procedure or {}
    if not procedure.get("deadline"):
        named = task.data.get("dossier_instance_id")
        dossier = session.get(Dossier, named) if isinstance(named, str) and named else None
        return dossier.agency if dossier is not None else None
    if loaded.is_new:
        return procedure.get("agency")
    dossier = session.get(Dossier, loaded.row.id)  # in the session already: runtime.load reads it with the lock
    return dossier.agency if dossier is not None else None


def _insert_external_task(loaded, task, at: dt.datetime, batch: WriteBatch) -> None:
    spec, row = task.task_spec, loaded.row
    priority = spec.priority
    batch.insert(
        ExternalTask, id=str(task.id), instance_id=row.id, definition_id=row.definition_id, process_key=row.process_key,
        business_key=row.business_key, activity_id=work_element_id(task), activity_name=spec.bpmn_name,
        topic=spec.topic, priority=int(priority) if priority else 0,
        variables=dumps_variables({**task.data, **getattr(spec, "input_parameters", {})}),
        retries=None, suspended=row.status == "suspended", created_at=at)


def _open_incidents(loaded, at: dt.datetime, batch: WriteBatch) -> list[dict[str, Any]]:
    events = []
    for tid, message in loaded.errors.items():
        task = loaded.wf.get_task_from_id(tid)
        batch.insert(Incident, id=str(uuid.uuid4()), instance_id=loaded.row.id, task_id=str(tid),
                     activity_id=work_element_id(task) if task else None, kind="failedExpression", message=message,
                     created_at=at)
        events.append({"kind": "incident_opened", "task": task, "user_id": None, "details": {"message": message}})
    return events


def _event_subprocess_subscriptions(session: Session, loaded, at: dt.datetime, batch: WriteBatch) -> None:
    """An instance listens for the messages that start its event subprocesses from its start to its end."""
    row = loaded.row
    if loaded.is_new and row.status == "active":
        for name, start_id in loaded.parsed.trigger_messages.items():
            batch.insert(MessageSubscription, task_id=str(uuid.uuid5(uuid.UUID(row.id), name)), instance_id=row.id,
                         message_name=name, business_key=row.business_key, activity_id=start_id, created_at=at)
    elif loaded.parsed.trigger_messages and row.status in ("completed", "terminated"):
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == row.id))


def write_events(session: Session, loaded, events: list[dict[str, Any]], actor,
                 batch: WriteBatch | None = None) -> None:
    """Write history events of a loaded instance (its elements entered and left, its status changes...): add them
    to ``batch``, or send them as a batch of their own."""
    row = loaded.row
    rows = []
    for event in events:
        task = event["task"]
        details = event["details"]
        rows.append(dict(
            instance_id=row.id,
            at=stamp(task.last_state_change) if task is not None and event["kind"].startswith("activity_")
            else row.updated_at,
            kind=event["kind"],
            activity_id=work_element_id(task) if task is not None else None,
            activity_name=task.task_spec.bpmn_name if task is not None else None,
            activity_type=element_type(task) if task is not None else None,
            task_id=str(task.id) if task is not None else None,
            user_id=event["user_id"] or (actor.user_id if not event["kind"].startswith("activity_") else None),
            details=json.dumps(details, ensure_ascii=False, default=str) if details is not None else None))
    own = batch is None
    batch = WriteBatch() if own else batch
    for values in rows:
        batch.insert(HistoryEvent, **values)
    if own:
        batch.send(session)
