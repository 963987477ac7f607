"""Retrying an incident, as an operator does from the console.

A worker that ran out of retries (``failedExternalTask``) gets one more try: the task is fetchable again. A
failed expression or an uncaught error (the element is in ERROR) is reset with SpiffWorkflow's
``reset_from_task_id`` — optionally with corrected variables — and the workflow runs on; if it fails again, a
new incident opens and the old one stays resolved with the retry on record.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine import audit, external_tasks, multi_instance, runtime
from engine.errors import BadInput, Conflict, Forbidden, NotFound
from engine.instances import check_variables
from engine.models import Incident
from engine.runtime import Actor


def retry(session: Session, incident_id: str, actor: Actor, variables: dict[str, Any] | None = None,
          reason: str | None = None) -> Incident:
    """Retry an open incident (an operator's act, with ``reason`` kept in the history and the audit log); returns
    the incident, now resolved."""
    if not actor.operator:
        raise Forbidden(f"{actor.user_id} may not retry incidents: it needs an operator")
    incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident_id} was already resolved at {incident.resolved_at:%Y-%m-%d %H:%M} UTC")
    if incident.kind == "failedExternalTask":
        if variables:
            raise BadInput("a worker's task is retried as it is; its variables come from the instance")
        external_tasks.set_retries(session, incident.task_id, 1, actor, reason)
        return incident
    loaded = runtime.load(session, incident.instance_id)
    runtime.require_running(loaded)
    task = loaded.task(incident.task_id) if incident.task_id else None
    if task is None:
        raise Conflict(f"the element of incident {incident_id} is no longer in the instance")
    fixed = check_variables(variables) if variables else {}
    if multi_instance.is_activity_waiting(task):  # its completion condition failed: check it again, keep the answers
        multi_instance.check_again(task, fixed)
    elif task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
        pass  # the element ended meanwhile (every instance answered): there is nothing to run again
    else:
        _reset(loaded, task, incident.task_id, fixed)
    incident.resolved_at = runtime.now()
    loaded.row.open_incidents = max(loaded.row.open_incidents - 1, 0)
    task = loaded.task(incident.task_id)
    loaded.record("incident_retried", task, user_id=actor.user_id, incident=incident_id,
                  **({"variables": sorted(variables)} if variables else {}), **({"reason": reason} if reason else {}))
    audit.record(session, actor.user_id, "incident_retry", "incident", incident_id, reason,
                 instance=incident.instance_id, element=incident.activity_id,
                 **({"variables": sorted(variables)} if variables else {}))
    runtime.advance(loaded)
    runtime.save(session, loaded, actor)
    return incident


def _reset(loaded, task, task_id: str, fixed: dict[str, Any]) -> None:
    """Run the failed task again from the start, with the fixed variables. They are the task's own change: its parent
    holds them only while the reset gives the task its parent's data again (and may work out its assignee), so that a
    parallel split the task is the first step after does not hand them to the other branches' join as the split's
    (engine.joins.reconcile_branches would take them for unchanged there)."""
    parent = task.parent
    kept = dict(parent.data) if parent is not None else None
    if parent is not None:
        parent.data.update(fixed)
    try:
        loaded.wf.reset_from_task_id(UUID(task_id))
    except WorkflowException as err:  # what failed fails again: a new incident says so, and the retry is kept
        runtime.fail_task(loaded, err)
    finally:
        if parent is not None:
            parent.data.clear()
            parent.data.update(kept)
    loaded.task(task_id).data.update(fixed)
