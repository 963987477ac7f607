"""Read-only queries for listings, the CLI and the APIs. Each returns plain, JSON-ready dictionaries."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from engine import dossiers, sightings

from engine.errors import NotFound
from engine.models import (Dossier, ExternalTask, HistoryEvent, Incident, ProcessDefinition, ProcessInstance, UserTask,
                           UserTaskCandidate)
from engine.specs import SPECS


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def definition_dict(row: ProcessDefinition, running: int | None = None) -> dict[str, Any]:
    """A process definition as JSON."""
    out = {"id": row.id, "key": row.key, "version": row.version, "name": row.name,
           "deploymentId": row.deployment_id, "resource": row.resource_name, "deployedAt": _iso(row.deployed_at)}
    if running is not None:
        out["runningInstances"] = running
    return out


def definitions(session: Session, key: str | None = None) -> list[dict[str, Any]]:
    """Every definition, newest version first within a key, with its number of running instances."""
    counts = dict(session.execute(select(ProcessInstance.definition_id, func.count())
                                  .where(ProcessInstance.status.in_(("active", "suspended")))
                                  .group_by(ProcessInstance.definition_id)).all())
    stmt = select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    if key:
        stmt = stmt.where(ProcessDefinition.key == key)
    return [definition_dict(d, counts.get(d.id, 0)) for d in session.scalars(stmt)]


def instance_dict(row: ProcessInstance, with_variables: bool = False) -> dict[str, Any]:
    """A process instance as JSON."""
    out = {"id": row.id, "definitionId": row.definition_id, "processKey": row.process_key,
           "businessKey": row.business_key, "status": row.status, "version": row.version_no,
           "openIncidents": row.open_incidents, "startedBy": row.started_by, "startedAt": _iso(row.started_at),
           "updatedAt": _iso(row.updated_at), "endedAt": _iso(row.ended_at), "endReason": row.end_reason,
           "nextTimerAt": _iso(row.next_timer_at)}
    if with_variables:
        out["variables"] = json.loads(row.variables)
    return out


def instances(session: Session, key: str | None = None, status: str | None = None,
              business_key: str | None = None, limit: int = 100, offset: int = 0,
              agency: str | None = None) -> list[dict[str, Any]]:
    """Instances, newest first, filtered by process key, status, business key and the agency of their dossier."""
    stmt = select(ProcessInstance).order_by(ProcessInstance.started_at.desc(), ProcessInstance.id)
    if agency is not None:
        stmt = stmt.where(ProcessInstance.id.in_(select(Dossier.instance_id).where(Dossier.agency == agency)))
    if key:
        stmt = stmt.where(ProcessInstance.process_key == key)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if business_key:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    return [instance_dict(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def user_task_dict(row: UserTask) -> dict[str, Any]:
    """A user task as JSON (Camunda's field names where they exist)."""
    return {"id": row.id, "name": row.name, "taskDefinitionKey": row.activity_id, "processInstanceId": row.instance_id,
            "processDefinitionId": row.definition_id, "processKey": row.process_key, "businessKey": row.business_key,
            "assignee": row.assignee, "candidateGroups": [g for g in row.candidate_groups.split(",") if g],
            "candidateUsers": [u for u in row.candidate_users.split(",") if u], "formKey": row.form_key,
            "priority": row.priority, "due": _iso(row.due_at), "created": _iso(row.created_at),
            "overdue": row.due_at is not None and row.due_at < dt.datetime.now(dt.timezone.utc),
            "suspended": row.suspended}


def user_tasks(session: Session, group: str | None = None, assignee: str | None = None,
               instance_id: str | None = None, limit: int = 100, offset: int = 0,
               due_before: dt.datetime | None = None, overdue: bool = False,
               agency: str | None = None) -> list[dict[str, Any]]:
    """Open user tasks, by due date then age, filtered by candidate group, assignee, instance, due date
    (``due_before``), being overdue now, or the agency of their dossier."""
    stmt = select(UserTask).order_by(UserTask.due_at.is_(None), UserTask.due_at, UserTask.created_at, UserTask.id)
    if agency is not None:
        stmt = stmt.where(UserTask.instance_id.in_(select(Dossier.instance_id).where(Dossier.agency == agency)))
    if overdue:
        due_before = min(due_before or dt.datetime.now(dt.timezone.utc), dt.datetime.now(dt.timezone.utc))
    if due_before is not None:
        stmt = stmt.where(UserTask.due_at < due_before)
    if group:
        stmt = stmt.where(UserTask.id.in_(select(UserTaskCandidate.task_id).where(
            UserTaskCandidate.kind == "group", UserTaskCandidate.value == group)))
    if assignee:
        stmt = stmt.where(UserTask.assignee == assignee)
    if instance_id:
        stmt = stmt.where(UserTask.instance_id == instance_id)
    return [user_task_dict(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def external_task_dict(row: ExternalTask) -> dict[str, Any]:
    """An external task as JSON (Camunda's field names)."""
    return {"id": row.id, "topicName": row.topic, "activityId": row.activity_id, "processInstanceId": row.instance_id,
            "processDefinitionId": row.definition_id, "processDefinitionKey": row.process_key,
            "businessKey": row.business_key, "workerId": row.worker_id,
            "lockExpirationTime": _iso(row.lock_expires_at), "retries": row.retries, "errorMessage": row.error_message,
            "priority": row.priority, "suspended": row.suspended, "createTime": _iso(row.created_at)}


def incident_dict(row: Incident) -> dict[str, Any]:
    """An incident as JSON."""
    return {"id": row.id, "processInstanceId": row.instance_id, "activityId": row.activity_id, "taskId": row.task_id,
            "incidentType": row.kind, "incidentMessage": row.message, "createdAt": _iso(row.created_at),
            "resolvedAt": _iso(row.resolved_at)}


def history_dict(row: HistoryEvent) -> dict[str, Any]:
    """A history event as JSON."""
    return {"id": row.id, "at": _iso(row.at), "kind": row.kind, "activityId": row.activity_id,
            "activityName": row.activity_name, "activityType": row.activity_type, "taskId": row.task_id,
            "userId": row.user_id, "details": json.loads(row.details) if row.details else None}


def instance_detail(session: Session, instance_id: str) -> dict[str, Any]:
    """Everything about one instance: variables, open tasks, incidents and history."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    out = instance_dict(row, with_variables=True)
    out["userTasks"] = user_tasks(session, instance_id=instance_id, limit=1000)
    out["externalTasks"] = [external_task_dict(t) for t in session.scalars(
        select(ExternalTask).where(ExternalTask.instance_id == instance_id).order_by(ExternalTask.created_at))]
    out["incidents"] = [incident_dict(i) for i in session.scalars(
        select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.created_at))]
    dossier = session.get(Dossier, instance_id)
    out["dossier"] = dossiers.as_dict(dossier) if dossier is not None else None
    out["history"] = [history_dict(h) for h in session.scalars(
        select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id))]
    return out


def in_agency(session: Session, instance_id: str, agency: str | None) -> bool:
    """Whether an instance is a dossier of this agency (``agency`` None: any instance)."""
    if agency is None:
        return True
    dossier = session.get(Dossier, instance_id)
    return dossier is not None and dossier.agency == agency


def task_in_agency(session: Session, task_id: str, agency: str | None) -> bool:
    """Whether an open task's dossier is of this agency (True for a task that is not open: the command on it
    then says what became of it, which needs no look at the dossier)."""
    row = session.get(UserTask, task_id)
    return row is None or in_agency(session, row.instance_id, agency)


def user_task(session: Session, task_id: str) -> dict[str, Any]:
    """One open user task."""
    row = session.get(UserTask, task_id)
    if row is None:
        raise NotFound(f"no open user task {task_id}")
    return user_task_dict(row)


def task_form(session: Session, task_id: str) -> tuple[dict | None, dict[str, Any]]:
    """An open user task's form (the JSON Schema deployed with its definition, or None) and the variables the task
    sees: the instance's current ones, and those it holds for itself (an instance's item of a multi-instance
    activity)."""
    row = session.get(UserTask, task_id)
    if row is None:
        raise NotFound(f"no open user task {task_id}")
    instance = session.get(ProcessInstance, row.instance_id)
    schema = SPECS.get(session, SPECS.definition(session, row.definition_id)).forms.get(row.form_key) \
        if row.form_key else None
    return schema, {**json.loads(instance.variables), **local_variables(row)}


def local_variables(row: UserTask) -> dict[str, Any]:
    """The variables an open user task holds for itself (empty for most tasks)."""
    return json.loads(row.local_variables) if row.local_variables else {}


def external_tasks(session: Session, topic: str | None = None, worker_id: str | None = None,
                   instance_id: str | None = None, locked: bool | None = None, retries_left: bool | None = None,
                   limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """External tasks, oldest first, with Camunda's filters."""
    stmt = select(ExternalTask).order_by(ExternalTask.created_at, ExternalTask.id)
    if topic:
        stmt = stmt.where(ExternalTask.topic == topic)
    if worker_id:
        stmt = stmt.where(ExternalTask.worker_id == worker_id)
    if instance_id:
        stmt = stmt.where(ExternalTask.instance_id == instance_id)
    now = dt.datetime.now(dt.timezone.utc)
    if locked is True:
        stmt = stmt.where(ExternalTask.lock_expires_at > now)
    elif locked is False:
        stmt = stmt.where(or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now))
    if retries_left is True:
        stmt = stmt.where(or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))
    elif retries_left is False:
        stmt = stmt.where(ExternalTask.retries == 0)
    return [external_task_dict(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def external_task(session: Session, task_id: str, with_details: bool = False) -> dict[str, Any]:
    """One external task (with the worker's error details if asked)."""
    row = session.get(ExternalTask, task_id)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist (it may have been completed already)")
    out = external_task_dict(row)
    if with_details:
        out["errorDetails"] = row.error_details
    return out


def incidents(session: Session, instance_id: str | None = None, kind: str | None = None, open_only: bool = True,
              limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Incidents, newest first."""
    stmt = select(Incident).order_by(Incident.created_at.desc(), Incident.id)
    if instance_id:
        stmt = stmt.where(Incident.instance_id == instance_id)
    if kind:
        stmt = stmt.where(Incident.kind == kind)
    if open_only:
        stmt = stmt.where(Incident.resolved_at.is_(None))
    return [incident_dict(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def incident(session: Session, incident_id: str) -> dict[str, Any]:
    """One incident, with its details."""
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return {**incident_dict(row), "details": row.details}


def topics(session: Session, served: set[str] | None = None, window: dt.timedelta = dt.timedelta(minutes=1)
           ) -> list[dict[str, Any]]:
    """Each topic with its waiting and locked tasks, incidents, the workers seen polling it within ``window``
    and whether a handler in ``workers/`` serves it (when ``served`` is given)."""
    now = dt.datetime.now(dt.timezone.utc)
    locked = case((ExternalTask.lock_expires_at > now, 1), else_=0)
    dead = case((ExternalTask.retries == 0, 1), else_=0)
    rows = session.execute(select(ExternalTask.topic, func.count(), func.sum(locked), func.sum(dead))
                           .group_by(ExternalTask.topic)).all()
    counts = {topic: (total, int(locked_n or 0), int(dead_n or 0)) for topic, total, locked_n, dead_n in rows}
    seen = sightings.recent(session, now - window)
    names = sorted(set(counts) | set(seen) | set(served or ()))
    out = []
    for name in names:
        total, locked_n, dead_n = counts.get(name, (0, 0, 0))
        entry = {"topicName": name, "waiting": total - locked_n - dead_n, "locked": locked_n, "incidents": dead_n,
                 "workers": seen.get(name, [])}
        if served is not None:
            entry["handler"] = name in served
        out.append(entry)
    return out


def instance(session: Session, instance_id: str, with_variables: bool = False) -> dict[str, Any]:
    """One instance (without its tasks and history: see :func:`instance_detail`)."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return instance_dict(row, with_variables)


def dossier_list(session: Session, overdue: bool = False, running: bool = True, limit: int = 100,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Dossiers, soonest due first: running ones (not finished), or only those overdue now."""
    stmt = select(Dossier).order_by(Dossier.due_at, Dossier.instance_id)
    if running or overdue:
        stmt = stmt.where(Dossier.finished_at.is_(None))
    if overdue:
        stmt = stmt.where(Dossier.paused_at.is_(None), Dossier.due_at < dt.datetime.now(dt.timezone.utc))
    return [{"instanceId": d.instance_id, **dossiers.as_dict(d)} for d in session.scalars(stmt.limit(limit).offset(offset))]
