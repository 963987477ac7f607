"""Multi-instance activities: their collection, and what each instance's answers do.

SpiffWorkflow runs a multi-instance activity as one task per instance under a task of the activity. Here:

* a ``camunda:collection`` written as Camunda's expression for a variable (``${reviewers}``) is read as the
  variable's name (:func:`prepare`), and one the engine cannot read is refused at deploy (:func:`problem`);
* a collection that is missing, not a list or dict, or longer than ``loop_limits.MAX_INSTANCES`` gives the activity an
  incident instead of a TypeError out of the command (or half a million instances);
* with a collection, SpiffWorkflow writes each instance's element variable back into it and drops everything else
  the instance was given: three officers asked for their opinion in parallel would answer, and the process would go
  on without any of it. In Camunda the variables a task is completed with reach the process (the last answer given
  stands), and the element variable stays the instance's own. The variables a user or a worker completed an
  instance with (:func:`note_answers`), or those the steps of a subprocess instance set or changed
  (:func:`answers_of`), are written to the activity's data as the instance completes, so the next
  instance (of a sequential activity) and the steps after the activity see them; an instance that leaves a variable
  alone does not write it, so it never undoes an earlier instance's answer. With ``loopCardinality`` and no
  collection, SpiffWorkflow already merges each instance's data into the activity's.

Parsed definitions get these classes in place of SpiffWorkflow's (:func:`adopt`).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask as BpmnParallel
from SpiffWorkflow.bpmn.specs.defaults import SequentialMultiInstanceTask as BpmnSequential
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.camunda.specs.multiinstance_task import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from engine import loop_limits
from engine.task_tree import tasks_in_state

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
COLLECTION = f"{{{CAMUNDA_NS}}}collection"

ANSWERS = "motcua_answers"  # an instance's internal data: the names of the variables it was completed with
STARTED_WITH = "motcua_started_with"  # a subprocess instance's: a fingerprint of each variable it started with
CONDITION_FAILED = "motcua_condition_failed"  # an activity's: why its completion condition failed, for an incident


def is_instance(task) -> bool:
    """Whether a task is one instance of a multi-instance activity."""
    return task.task_spec.name.endswith(" [child]")


def local_names(task) -> set[str]:
    """The variables an instance of a multi-instance activity holds for itself (its element variable), which are
    not the process's: for an instance, and for every task inside an instance that is a subprocess or a call
    activity. Empty for any other task."""
    names: set[str] = set()
    while task is not None:
        if is_instance(task) and task.parent is not None:
            spec = task.parent.task_spec
            names |= {ref.bpmn_id for ref in (getattr(spec, "input_item", None), getattr(spec, "output_item", None))
                      if ref is not None}
        parent_id = getattr(task.workflow, "parent_task_id", None)  # the subprocess task this workflow runs in
        task = task.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return names


def note_answers(task, variables: dict[str, Any]) -> None:
    """Remember the variables a user or worker completes an instance with (nothing for other tasks)."""
    if variables and is_instance(task):
        task.internal_data[ANSWERS] = sorted(set(task.internal_data.get(ANSWERS, [])) | set(variables))


class _MotcuaMultiInstance:
    def _checked_collection(self, my_task) -> None:
        """Refuse, with a message for the incident, a collection that is missing, not a list or dict, or longer than
        the engine makes instances of (SpiffWorkflow would fail with a TypeError, or try a million instances)."""
        if self.data_input is None:
            return
        name, label = self.data_input.bpmn_id, loop_limits.element_label(my_task)
        if not self.data_input.exists(my_task):
            raise WorkflowTaskException(f"the collection '{name}' of {label} is not among the instance's variables",
                                        task=my_task)
        value = self.data_input.get(my_task)
        if not isinstance(value, (list, dict)):
            raise WorkflowTaskException(f"the collection '{name}' of {label} must be a list (or a dict), not "
                                        f"{type(value).__name__} {value!r:.80}", task=my_task)
        if len(value) > loop_limits.MAX_INSTANCES:
            raise WorkflowTaskException(f"the collection '{name}' of {label} holds {len(value):,} items: at most "
                                        f"{loop_limits.MAX_INSTANCES:,} instances are allowed", task=my_task)

    def create_child(self, my_task, item, key_or_index=None):
        """Make an instance; one that is a subprocess or call activity notes what data it started with, so that
        what its inner steps changed can be told apart from what it only inherited."""
        super().create_child(my_task, item, key_or_index)
        child = my_task.children[-1]
        if isinstance(child.task_spec, SubWorkflowTask) and child.internal_data.get(STARTED_WITH) is None:
            child.internal_data[STARTED_WITH] = {name: _fingerprint(value) for name, value in child.data.items()}

    def merge_child(self, workflow, child):
        """Write the instance's answers to the activity, then merge it as SpiffWorkflow does (which evaluates the
        completion condition: the answers are kept even if it fails)."""
        if self.data_output is not None and self.output_item is not None:  # else SpiffWorkflow merges all its data
            own = {ref.bpmn_id for ref in (self.data_output, self.output_item, self.data_input, self.input_item)
                   if ref is not None}
            data = child.parent.data
            for name in answers_of(child):
                if name not in own and name in child.data:
                    data[name] = copy.deepcopy(child.data[name])
        super().merge_child(workflow, child)
        _share_with_boundary_events(child)

    def check_completion_condition(self, my_task):
        """Evaluate the completion condition on the instance that completed last, with Camunda's counts of the
        activity's instances (``nrOfInstances``, ``nrOfActiveInstances``, ``nrOfCompletedInstances``) beside its
        variables: SpiffWorkflow offers none, so Camunda's ``nrOfCompletedInstances >= 2`` failed on every answer."""
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None or self.children_complete(my_task):
            return False  # (every instance answered: the activity ends without it)
        last = next(c for c in my_task.children if str(c.id) == merged[-1])
        # the activity's variables too: a variable set on it when its incident is retried, and the answers so far
        seen = {**{k: v for k, v in my_task.data.items() if k not in last.data}, **counts(self, my_task)}
        try:
            return bool(my_task.workflow.script_engine.evaluate(last, self.condition, external_context=seen))
        except Exception as err:  # noqa: BLE001 — the officer's answer stands; the activity waits for an operator
            # (failing here would fail the completed instance: its retry reopened a task the activity counted done)
            my_task.internal_data[CONDITION_FAILED] = f"the completion condition '{self.condition}' of " \
                                                      f"{loop_limits.element_label(my_task)} failed: {err}"
            return False


def condition_failures(wf) -> dict:
    """{activity task id: message} for the multi-instance activities whose completion condition failed in this
    command (each then gets an incident; the flag is taken off)."""
    failed = {}
    for task in tasks_in_state(wf, TaskState.STARTED):
        message = task.internal_data.pop(CONDITION_FAILED, None)
        if message is not None:
            failed[task.id] = message
    return failed


def is_activity_waiting(task) -> bool:
    """Whether a task is a multi-instance activity whose instances are running."""
    return isinstance(task.task_spec, _MotcuaMultiInstance) and task.state == TaskState.STARTED


def check_again(task, variables: dict[str, Any]) -> None:
    """Retry the completion condition of a multi-instance activity (an operator fixing its incident): set the
    variables on the activity and, if the condition now holds, end it, cancelling the instances still open; the
    instances' answers stay (no reset, unlike a retried task). A condition that fails again opens a new incident."""
    task.data.update(variables)
    spec = task.task_spec
    if spec.check_completion_condition(task):
        for instance in list(spec._instances(task)):
            if not instance.has_state(TaskState.FINISHED_MASK):
                instance.cancel()
        task._set_state(TaskState.READY)


def answers_of(child) -> list[str]:
    """The variables an instance answered: those a user or worker completed it with, or, for a subprocess or call
    activity, those its inner steps set or changed."""
    started_with = child.internal_data.get(STARTED_WITH)
    if started_with is None:
        return list(child.internal_data.get(ANSWERS, ()))
    return [name for name, value in child.data.items() if started_with.get(name) != _fingerprint(value)]


def _fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _share_with_boundary_events(child) -> None:
    """Give an instance's answers to the boundary events of its activity too. A boundary event takes its data from
    the activity's start when it fires, so what the officers answered before it was lost on its path (and with an
    interrupting one, for good), where in Camunda those answers are the process's at once."""
    activity = child.parent
    split = activity.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return
    answers = {name: activity.data[name] for name in answers_of(child) if name in activity.data}
    waiting = [t for t in split.children if t is not activity and not t.has_state(TaskState.FINISHED_MASK)]
    for holder in (split, *waiting):
        holder.data.update(copy.deepcopy(answers))


def counts(spec, my_task) -> dict[str, int]:
    """Camunda's counts of a multi-instance activity's instances, as its completion condition sees them."""
    instances = list(spec._instances(my_task))
    completed = len(my_task.internal_data.get("merged", []))
    if isinstance(spec, _CheckedParallel):
        return {"nrOfInstances": len(instances), "nrOfCompletedInstances": completed,
                "nrOfActiveInstances": sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))}
    total = my_task.internal_data.get("cardinality")
    if total is None:
        total = completed + len(my_task.internal_data.get("remaining", []))
    return {"nrOfInstances": total, "nrOfCompletedInstances": completed, "nrOfActiveInstances": 1}


class _CheckedParallel(_MotcuaMultiInstance):
    def create_children(self, my_task):
        """Check the collection, then make one instance per item."""
        self._checked_collection(my_task)
        return super().create_children(my_task)


class _CheckedSequential(_MotcuaMultiInstance):
    def init_remaining_items(self, my_task):
        """Check the collection, then note the items still to run."""
        self._checked_collection(my_task)
        return super().init_remaining_items(my_task)


class MotcuaParallelMultiInstanceTask(_CheckedParallel, ParallelMultiInstanceTask):
    """A parallel multi-instance activity (Camunda's attributes) run as described above."""


class MotcuaSequentialMultiInstanceTask(_CheckedSequential, SequentialMultiInstanceTask):
    """A sequential multi-instance activity (Camunda's attributes) run as described above."""


class MotcuaBpmnParallelMultiInstanceTask(_CheckedParallel, BpmnParallel):
    """A parallel multi-instance activity written with BPMN's loopDataInputRef (a script task's, say)."""


class MotcuaBpmnSequentialMultiInstanceTask(_CheckedSequential, BpmnSequential):
    """A sequential one written with BPMN's loopDataInputRef."""


MULTI_INSTANCE_CLASSES = {ParallelMultiInstanceTask: MotcuaParallelMultiInstanceTask,
                          SequentialMultiInstanceTask: MotcuaSequentialMultiInstanceTask,
                          BpmnParallel: MotcuaBpmnParallelMultiInstanceTask,
                          BpmnSequential: MotcuaBpmnSequentialMultiInstanceTask}
"""SpiffWorkflow's multi-instance classes and motcua's, which parsed definitions use instead."""


def adopt(specs) -> None:
    """Give the multi-instance activities of parsed specs motcua's classes, and have each hear its instances complete
    from the start. SpiffWorkflow connects an activity to its instances' completion only when it creates one, so in a
    process that parsed the definition after the instances were created (another web process, a restart, a version
    migration) the last instance completed without ending the activity: the instance waited for ever, with no task
    and no incident, and the answers were lost."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            motcua_class = MULTI_INSTANCE_CLASSES.get(type(task_spec))
            if motcua_class is not None:
                task_spec.__class__ = motcua_class
            if isinstance(task_spec, (MotcuaParallelMultiInstanceTask, MotcuaSequentialMultiInstanceTask)):
                _refer_to_items(task_spec)
            if isinstance(task_spec, LoopTask):
                inner = spec.task_specs[task_spec.task_spec]
                if not inner.completed_event.is_connected(task_spec.merge_child):
                    inner.completed_event.connect(task_spec.merge_child)


def _refer_to_items(spec) -> None:
    """Set the collection and the element variable as the activity's input, as SpiffWorkflow's Camunda classes do
    only when an instance reaches the activity: a definition parsed after that (another web process, a restart)
    had none, so each answer was appended to the collection, a sequential activity ended after the next instance,
    and the element variable showed among the process variables."""
    if spec.cardinality is None and spec.data_output is not None:
        spec.data_input = TaskDataReference(spec.data_output.bpmn_id)
    if spec.output_item is not None:
        spec.input_item = TaskDataReference(spec.output_item.bpmn_id)


_NAME_EXPRESSION = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")


def prepare(root) -> None:
    """Read a collection written as Camunda's expression for a variable (``${reviewers}``) as its name."""
    for el in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        match = _NAME_EXPRESSION.match((el.get(COLLECTION) or "").strip())
        if match:
            el.set(COLLECTION, match.group(1))


def problem(el) -> str | None:
    """What keeps a multi-instance activity's loop from running, for the deploy check; None if nothing."""
    collection = (el.get(COLLECTION) or "").strip()
    if not collection:
        return None
    if not (_NAME_EXPRESSION.match(collection) or collection.isidentifier()):
        return (f"the collection '{collection}' must name a list variable (reviewers, or ${{reviewers}}): motcua "
                "does not work out other expressions there; make the list in a script task before")
    if not (el.get(f"{{{CAMUNDA_NS}}}elementVariable") or "").strip():
        return ("a collection needs an element variable (camunda:elementVariable): the name under which each "
                "instance gets its item")
    return None
