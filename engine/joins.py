"""Parallel and inclusive joins: the data of branches waiting at one, and a join no branch can reach any more.

SpiffWorkflow keeps what a branch wrote on the task *before* the join while the join waits (the waiting join task
itself has no data until it fires and merges its branches), so the instance's variables would leave out what a
finished branch wrote — an officer's answer, a script's result — until the last branch arrived: the console, the
REST variables and message correlation keys did not see it. :func:`waiting_data` gives it.

Each branch carries its own copy of the variables, taken at the split, and the join merges the copies in the order the
branches arrived: the last one's stale copy put back a value another branch had replaced (an officer's answer lost).
:func:`reconcile_branches` gives every arrived branch the values the branches changed before the join merges them.

A join also waits for ever when a branch it needs left another way (an exclusive gateway sent it to an end event):
nothing is left to do and nothing to wait for, yet the instance is neither finished nor failed. :func:`stuck` finds
those joins so that they get an incident (engine.runtime.advance) instead of an instance waiting for nothing.
"""
from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.task_elements import element_id
from engine.task_tree import tasks_in_state

_MOVING = TaskState.READY | TaskState.STARTED | TaskState.ERROR


def is_waiting_join(task) -> bool:
    """Whether ``task`` is a BPMN join (parallel or inclusive gateway) waiting for more branches."""
    return task.state == TaskState.WAITING and isinstance(task.task_spec, UnstructuredJoin)


def _arrived(task) -> list:
    """The join's tasks of the branches arrived at it (``task`` among them), oldest first, as SpiffWorkflow's join
    merges them."""
    arrived = [t for t in task.workflow.tasks.values()
               if t.task_spec == task.task_spec and t.parent is not None
               and (t is task or (t.has_state(TaskState.FINISHED_MASK) and not task.is_descendant_of(t)))]
    return sorted(arrived, key=lambda t: t.last_state_change)


def waiting_data(task) -> dict[str, Any]:
    """The data a waiting join will merge: that of each branch already arrived (oldest first), as SpiffWorkflow's
    join does when it fires."""
    merged: dict[str, Any] = {}
    for branch in _arrived(task):
        merged.update(branch.parent.data)
    merged.update(task.data)
    return merged


def reconcile_branches(task) -> None:
    """Before a join ``task`` runs: give every arrived branch each value a branch changed since the split (the last
    one to change it wins), so that the join's merge cannot put back the split's value from a branch that left it."""
    if not isinstance(task.task_spec, UnstructuredJoin):
        return
    branches = [t.parent for t in _arrived(task)]
    if len(branches) < 2:
        return
    base = _common_ancestor(branches).data
    changed: dict[str, Any] = {}
    for branch in branches:
        changed.update({k: v for k, v in branch.data.items() if k not in base or base[k] != v})
    for branch in branches:
        for name, value in changed.items():
            if name not in branch.data or branch.data[name] != value:
                branch.data[name] = copy.deepcopy(value)


def _common_ancestor(tasks: list):
    """The nearest task all of ``tasks`` descend from (or are): the split the branches left."""
    lineage = []
    task = tasks[0]
    while task is not None:
        lineage.append(task)
        task = task.parent
    for candidate in lineage:
        if all(t is candidate or t.is_descendant_of(candidate) for t in tasks[1:]):
            return candidate
    return lineage[-1]


def stuck(wf: BpmnWorkflow) -> list:
    """The joins of an unfinished workflow that wait for branches which can no longer come: no task is ready,
    started or failed, and no event is awaited anywhere in it, yet a join waits. Empty in every other case."""
    if wf.event_manager.tasks:  # (runs after every command: the cheap test first; a finished workflow has no joins
        return []               # waiting, so it needs no test of its own)
    waiting = []
    for task in tasks_in_state(wf, TaskState.WAITING | _MOVING):
        if task.has_state(_MOVING):
            return []
        if is_waiting_join(task) and element_id(task) is not None:
            waiting.append(task)
    return waiting


def stuck_message(task) -> str:
    """What an operator reads on the incident of a stuck join."""
    spec = task.task_spec
    label = f"'{spec.bpmn_name}' ({spec.bpmn_id})" if getattr(spec, "bpmn_name", None) else spec.bpmn_id
    return (f"the gateway {label} waits for branches that can no longer reach it (they ended or went another way), "
            "so the instance cannot go on: check the conditions of the gateways before it, then move the token or "
            "terminate the instance")
