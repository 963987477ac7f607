"""Bounds on BPMN loops: the iterations of a standard loop and the instances of a multi-instance activity.

SpiffWorkflow runs a loop over an automatic task (a script, say) inside the command that reaches it, and creates
every instance of a multi-instance activity at once. A loop whose condition never turns false, or a
``loopCardinality`` read from a variable that holds ten million, would therefore run one command without end — on
SQLite with the write lock held, so the whole engine would wait — and grow the instance's state without bound.
The sandbox's script engine checks the two expressions that drive loops (:func:`checked`): past the bound the
element fails with a plain message, which opens an incident on it, and the command ends.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.util.task import TaskState

MAX_LOOP_ITERATIONS = 500    # iterations of one standard loop (loopMaximum may set fewer)
MAX_INSTANCES = 500          # instances of one multi-instance activity from loopCardinality
MAX_AUTOMATIC_STEPS = 1_500  # tasks one command runs by itself (gateways, scripts, events, instances...)
MAX_SUBPROCESS_DEPTH = 20    # subprocesses and call activities nested in one another


def checked(task, expression: str, value: Any) -> Any:
    """``value``, the result of ``expression`` evaluated for ``task``, unless it drives a loop past its bound."""
    spec = task.task_spec
    if isinstance(spec, StandardLoopTask) and expression == spec.condition and value:
        done = len(task.internal_data.get("merged", []))
        if done >= MAX_LOOP_ITERATIONS:
            raise WorkflowTaskException(
                f"the loop of {element_label(task)} has run {done:,} times and its condition '{expression}' still says go "
                f"on: a loop may run at most {MAX_LOOP_ITERATIONS:,} times (set loopMaximum, or fix the condition)",
                task=task)
    elif isinstance(spec, MultiInstanceTask) and spec.cardinality is not None and expression == spec.cardinality:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise WorkflowTaskException(f"loopCardinality '{expression}' of {element_label(task)} must be a whole number "
                                        f"of instances, not {value!r}", task=task)
        if value > MAX_INSTANCES:
            raise WorkflowTaskException(f"loopCardinality '{expression}' of {element_label(task)} asks for {value:,} "
                                        f"instances: at most {MAX_INSTANCES:,} are allowed", task=task)
    return value


class StepBudget:
    """The automatic steps of one command: counted as SpiffWorkflow runs them, and the task being run remembered
    (an error raised with no task is about it)."""

    def __init__(self, limit: int = MAX_AUTOMATIC_STEPS) -> None:
        self.limit = limit
        self.count = 0
        self.current = None

    def spend(self, task) -> None:
        """Count ``task``, about to be run; past the limit it fails instead (and its incident stops the loop)."""
        self.current = task
        self.count += 1
        depth = getattr(task.workflow, "depth", 0)  # 0 for the top workflow, n for a subprocess n levels in
        if depth > MAX_SUBPROCESS_DEPTH:
            raise WorkflowTaskException(
                f"{element_label(task)} runs in a subprocess nested {depth} deep: at most {MAX_SUBPROCESS_DEPTH} levels are "
                f"allowed (does a call activity call its own process, directly or through another?)", task=task)
        if self.count > self.limit:
            raise WorkflowTaskException(
                f"{element_label(task)} would be step {self.count:,} run in one go with no task to wait for: a loop in the "
                f"diagram goes round without end (at most {self.limit:,} steps run at once; give the loop a wait or "
                f"a condition that turns false)", task=task)

    def running(self):
        """The task being run when an error came, unless it completed or was cancelled (SpiffWorkflow puts a task
        whose run raised in ERROR itself); else None."""
        task = self.current
        return task if task is not None and not task.has_state(TaskState.COMPLETED | TaskState.CANCELLED) else None


def element_label(task) -> str:
    """How a message names the element a task runs: its name and id, or its id alone."""
    spec = task.task_spec
    inner = task.workflow.spec.task_specs.get(getattr(spec, "task_spec", None))  # a loop's task carries the name
    label = getattr(spec, "bpmn_name", None) or getattr(inner, "bpmn_name", None)
    ident = getattr(spec, "bpmn_id", None) or spec.name  # an engine-made task (a subprocess's start) has no BPMN id
    return f"'{label}' ({ident})" if label else f"'{ident}'"
