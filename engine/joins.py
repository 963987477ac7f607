"""Parallel and inclusive joins: the data of branches waiting at one, and a join no branch can reach any more.

SpiffWorkflow keeps what a branch wrote on the task *before* the join while the join waits (the waiting join task
itself has no data until it fires and merges its branches), so the instance's variables would leave out what a
finished branch wrote — an officer's answer, a script's result — until the last branch arrived: the console, the
REST variables and message correlation keys did not see it. :func:`waiting_data` gives it.

A join also waits for ever when a branch it needs left another way (an exclusive gateway sent it to an end event):
nothing is left to do and nothing to wait for, yet the instance is neither finished nor failed. :func:`stuck` finds
those joins so that they get an incident (engine.runtime.advance) instead of an instance waiting for nothing.
"""
from __future__ import annotations

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


def waiting_data(task) -> dict[str, Any]:
    """The data a waiting join will merge: that of each branch already arrived (oldest first), as SpiffWorkflow's
    join does when it fires."""
    arrived = [t for t in task.workflow.tasks.values()
               if t.task_spec == task.task_spec and t.parent is not None
               and (t is task or (t.has_state(TaskState.FINISHED_MASK) and not task.is_descendant_of(t)))]
    merged: dict[str, Any] = {}
    for branch in sorted(arrived, key=lambda t: t.last_state_change):
        merged.update(branch.parent.data)
    merged.update(task.data)
    return merged


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
