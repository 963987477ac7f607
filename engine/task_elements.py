"""What a SpiffWorkflow task is in the analyst's terms: its BPMN element's id and kind, and its times."""
from __future__ import annotations

import datetime as dt


def element_id(task) -> str | None:
    """The analyst's id of the BPMN element a task runs, or None for SpiffWorkflow's own tasks."""
    spec = task.task_spec
    bpmn_id = getattr(spec, "bpmn_id", None)
    if bpmn_id is None or spec.name.endswith(" [child]"):
        return None
    return bpmn_id


def work_element_id(task) -> str | None:
    """The id of the BPMN element whose work a task is: :func:`element_id`, and for one instance of a
    multi-instance activity (SpiffWorkflow's ``<id> [child]`` task) the activity's id, so that each reviewer's
    task of a parallel review shows in the inbox, its history and its incidents as that activity."""
    return getattr(task.task_spec, "bpmn_id", None)


def element_type(task) -> str:
    """The kind of BPMN element, as a short name (``userTask``, ``exclusiveGateway``...)."""
    name = type(task.task_spec).__name__
    return {"ExternalTask": "serviceTask", "UserTask": "userTask", "PassThroughTask": "task"}.get(
        name, name[:1].lower() + name[1:])


def stamp(ts: float) -> dt.datetime:
    """A SpiffWorkflow state-change time as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
