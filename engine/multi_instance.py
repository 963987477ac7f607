"""Multi-instance user and worker tasks: what each instance's answers do.

SpiffWorkflow runs a multi-instance activity as one task per instance under a task of the activity. With a
``camunda:collection``, it writes each instance's ``camunda:elementVariable`` back into the collection when the
instance completes and drops everything else the instance was given: three officers asked for their opinion in
parallel would answer, and the process would go on without any of it. In Camunda the variables a task is
completed with reach the process (the last answer given stands), and the element variable stays the instance's
own. The task classes here do that: the variables a user or a worker completed an instance with
(:func:`note_answers`) are written to the activity's data as the instance completes, so the next instance (of a
sequential activity) and the steps after the activity see them. An instance that leaves a variable alone does not
write it, so it never undoes an earlier instance's answer. With ``loopCardinality`` and no collection,
SpiffWorkflow already merges each instance's data into the activity's.
"""
from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.camunda.specs.multiinstance_task import ParallelMultiInstanceTask, SequentialMultiInstanceTask

ANSWERS = "motcua_answers"  # an instance's internal data: the names of the variables it was completed with


def is_instance(task) -> bool:
    """Whether a task is one instance of a multi-instance activity."""
    return task.task_spec.name.endswith(" [child]")


def note_answers(task, variables: dict[str, Any]) -> None:
    """Remember the variables a user or worker completes an instance with (nothing for other tasks)."""
    if variables and is_instance(task):
        task.internal_data[ANSWERS] = sorted(set(task.internal_data.get(ANSWERS, [])) | set(variables))


class _AnswersReachTheActivity:
    def merge_child(self, workflow, child):
        """Merge an instance into the activity as SpiffWorkflow does, then write the instance's answers."""
        super().merge_child(workflow, child)
        if self.data_output is None or self.output_item is None:
            return  # no collection: SpiffWorkflow merged all the instance's data
        own = {ref.bpmn_id for ref in (self.data_output, self.output_item, self.data_input, self.input_item)
               if ref is not None}
        data = child.parent.data
        for name in child.internal_data.get(ANSWERS, ()):
            if name not in own and name in child.data:
                data[name] = copy.deepcopy(child.data[name])


class MotcuaParallelMultiInstanceTask(_AnswersReachTheActivity, ParallelMultiInstanceTask):
    """A parallel multi-instance activity whose instances' answers reach the process."""


class MotcuaSequentialMultiInstanceTask(_AnswersReachTheActivity, SequentialMultiInstanceTask):
    """A sequential multi-instance activity whose instances' answers reach the process."""


MULTI_INSTANCE_CLASSES = {ParallelMultiInstanceTask: MotcuaParallelMultiInstanceTask,
                          SequentialMultiInstanceTask: MotcuaSequentialMultiInstanceTask}
"""SpiffWorkflow's Camunda multi-instance classes and motcua's, which the task parsers make instead."""


class MultiInstanceAnswers:
    """Mixed into the user and worker task parsers so their multi-instance activities get the classes above."""

    def _add_multiinstance_task(self, loop_characteristics):
        super()._add_multiinstance_task(loop_characteristics)
        motcua_class = MULTI_INSTANCE_CLASSES.get(type(self.task))
        if motcua_class is not None:
            self.task.__class__ = motcua_class
