"""Who a user task is for, when the diagram works it out from the variables.

Camunda Modeler writes ``camunda:assignee="${reviewer}"`` — one task per reviewer of a multi-instance review, each
for its own officer — or ``camunda:candidateGroups="${department}"``. When the whole attribute is ``${...}``, what
is inside is a Python expression (``reviewer``, ``department + "-leaders"``), checked by the sandbox at deploy and
worked out when the task becomes ready, from that task's variables. An assignee must come out as one name (or
nothing: the task then goes to its groups); groups and users as a list of names or a comma-separated text. A value
that cannot be worked out gives the task an incident saying why, instead of a task nobody can see; fix the variable
and retry it.
"""
from __future__ import annotations

import re
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import limits, loop_limits

EXPRESSION = re.compile(r"^\s*[$#]\{(.+)\}\s*$", re.S)  # Camunda reads #{...} as ${...}
ATTRIBUTES = {"assignee": "assignee", "candidateGroups": "candidate_groups", "candidateUsers": "candidate_users"}
_WORKED_OUT = "motcua_assignment"  # a task's internal data: what its expressions gave
MAX_NAMES = 200  # groups or users one task may name


def expression_of(value: str | None) -> str | None:
    """The expression of an attribute written wholly as ``${...}``; None for a plain value."""
    match = EXPRESSION.match(value or "")
    return match.group(1).strip() if match else None


def work_out(task) -> None:
    """Work out the assignment expressions of a user task becoming ready and keep what they gave with the task."""
    expressions = getattr(task.task_spec, "assignment_expressions", None)
    if not expressions:
        return
    worked_out: dict[str, Any] = {}
    for attribute, expression in expressions.items():
        try:
            value = task.workflow.script_engine.evaluate(task, expression)
        except Exception as err:  # the sandbox's refusals and the expression's own errors alike
            raise WorkflowTaskException(f"{attribute} '${{{expression}}}' of {loop_limits.element_label(task)} could "
                                        f"not be worked out: {_reason(err)}", task=task) from None
        worked_out[ATTRIBUTES[attribute]] = _checked(task, attribute, expression, value)
    task.internal_data[_WORKED_OUT] = worked_out


def _reason(err: Exception) -> str:
    """What went wrong in an expression: SpiffWorkflow's message names only the expression, its cause says why."""
    text, cause, seen = str(err).strip(), err, 0
    while isinstance(cause, SpiffWorkflowException) and seen < 5:  # the error inside SpiffWorkflow's wrappings
        cause, seen = getattr(cause, "exception", None) or cause.__cause__ or cause.__context__, seen + 1
    if cause is not None and not isinstance(cause, SpiffWorkflowException) and str(cause) not in text:
        text = f"{text.rstrip('. ')}: {type(cause).__name__}: {cause}"
    return text


def work_out_again(task) -> None:
    """Work out a ready task's assignment under its (new) spec, forgetting what an earlier version's gave; an
    expression that fails now raises, so the task is not left for nobody."""
    task.internal_data.pop(_WORKED_OUT, None)
    work_out(task)


def of(task) -> tuple[str | None, list[str], list[str]]:
    """(assignee, candidate groups, candidate users) of a ready user task: the diagram's names, or what its
    expressions gave."""
    spec = task.task_spec
    worked_out = task.internal_data.get(_WORKED_OUT, {})
    return (worked_out.get("assignee", spec.assignee), worked_out.get("candidate_groups", spec.candidate_groups),
            worked_out.get("candidate_users", spec.candidate_users))


def _checked(task, attribute: str, expression: str, value: Any):
    where = f"{attribute} '${{{expression}}}' of {loop_limits.element_label(task)}"
    if attribute == "assignee":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise WorkflowTaskException(f"{where} must give one user's name, not {value!r:.80}", task=task)
        names = [value.strip()]
    elif isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        names = [item.strip() for item in value if item.strip()]
    else:
        raise WorkflowTaskException(f"{where} must give a list of names or a comma-separated text, not "
                                    f"{value!r:.80}", task=task)
    too_long = next((name for name in names if len(name) > limits.USER_ID_MAX), None)
    if too_long is not None:
        raise WorkflowTaskException(f"{where} gave a name longer than {limits.USER_ID_MAX} characters", task=task)
    if len(names) > MAX_NAMES:
        raise WorkflowTaskException(f"{where} gave {len(names):,} names: at most {MAX_NAMES} are allowed", task=task)
    return names[0] if attribute == "assignee" else names

