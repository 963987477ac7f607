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


def element_type(task) -> str:
    """The kind of BPMN element, as a short name (``userTask``, ``exclusiveGateway``...)."""
    name = type(task.task_spec).__name__
    return {"ExternalTask": "serviceTask", "UserTask": "userTask", "PassThroughTask": "task"}.get(
        name, name[:1].lower() + name[1:])


def stamp(ts: float) -> dt.datetime:
    """A SpiffWorkflow state-change time as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
