"""Moving a token (instance modification), as an operator does from the console, with a preview first.

Two moves are supported, and nothing else is attempted:

* **back** to an element the token already passed: SpiffWorkflow's ``reset_from_task_id`` on the element's most
  recent task on the token's path. Every token after that task is cancelled (its tasks leave the tree) and the
  element becomes active again.
* **forward** (or sideways) to an element of the same scope (the process, or the one subprocess the token is in)
  that is not on the token's path: the token's element — with the boundary events attached to it — is
  cancelled, and a task for the target is added to the completed task the token came from, then predicted and
  updated exactly as ``Task.reset_branch`` does for a task it resets. Only elements that start by themselves
  are accepted as targets: user, service, script, business-rule, manual and plain tasks, intermediate catch and
  throw events, end events. Gateways (a join counts the tokens it waits for), start and boundary events,
  subprocesses and multi-instance activities are refused, and a token in ERROR moves only back (its incident is
  then resolved; to go on past a failing element, retry its incident with corrected variables).

Either way the variables stay as they are: the element that becomes active starts with the token's data.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins import (ManualTaskMixin, NoneTaskMixin, ScriptTaskMixin, ServiceTaskMixin,
                                             UserTaskMixin)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (IntermediateCatchEvent,
                                                                       IntermediateThrowEvent, ReceiveTask, SendTask)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine import audit, dossiers, projections, runtime
from engine.errors import BadInput, Forbidden, NotFound
from engine.models import ExternalTask, MessageSubscription, ProcessInstance, UserTask
from engine.runtime import Actor, Loaded

MOVABLE = runtime.ACTIVE | TaskState.ERROR  # where a token can be taken from
MIN_REASON = 5
STARTABLE = (UserTaskMixin, ServiceTaskMixin, ScriptTaskMixin, BusinessRuleTaskMixin, ManualTaskMixin, NoneTaskMixin,
             IntermediateCatchEvent, ReceiveTask, IntermediateThrowEvent, SendTask, EndEvent)


@dataclass(frozen=True)
class Element:
    """A BPMN element as the console shows it."""

    id: str
    name: str | None
    type: str

    @property
    def label(self) -> str:
        """The name, with the id when the name differs from it."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass
class MovePlan:
    """What a move will do (or did)."""

    instance_id: str
    kind: str  # "back": reset to an element already passed; "forward": activate an element not on the path
    source: Element
    target: Element
    cancelled: list[Element]  # every active element the move ends, the source first
    reached_before: bool  # the target was completed earlier in this instance
    variables: list[str]  # the variables that stay, by name
    _apply: Any = field(default=None, repr=False)  # the change itself, bound to the workflow it was planned on

    def sentences(self) -> list[str]:
        """The plan in plain Vietnamese, one sentence per effect."""
        out = ["Hủy token đang ở: " + ", ".join(e.label for e in self.cancelled) + "."]
        if self.kind == "back":
            out.append(f"Quay lại {self.target.label}: bước này đã làm trước đây và sẽ được làm lại từ đầu.")
        elif self.reached_before:
            out.append(f"Kích hoạt {self.target.label}: bước này đã từng làm nhưng không nằm trên đường đi của "
                       "token, nên được kích hoạt mới.")
        else:
            out.append(f"Kích hoạt {self.target.label}: hồ sơ chưa từng đến bước này.")
        if self.variables:
            out.append("Các biến giữ nguyên giá trị hiện tại: " + ", ".join(self.variables) + ".")
        else:
            out.append("Phiên chạy chưa có biến nào.")
        return out


def element_of(task) -> Element | None:
    """The element a task runs, or None for SpiffWorkflow's own tasks."""
    return spec_element(task.task_spec)


def spec_element(spec) -> Element | None:
    """The element of a task spec, or None for SpiffWorkflow's own specs."""
    bpmn_id = getattr(spec, "bpmn_id", None)
    if bpmn_id is None or spec.name.endswith(" [child]"):
        return None
    name = type(spec).__name__
    kind = {"ExternalTask": "serviceTask", "UserTask": "userTask", "PassThroughTask": "task"}.get(
        name, name[:1].lower() + name[1:])
    return Element(bpmn_id, spec.bpmn_name, kind)


def choices(session: Session, instance_id: str) -> dict[str, list[Element]]:
    """What a move form offers: ``from``, the elements where the instance has a token (waiting, running or failed);
    ``to``, every element of its definition (process and subprocesses), in the file's order."""
    loaded = _peek(session, instance_id)
    here = {}
    for task in loaded.wf.get_tasks(state=MOVABLE):
        element = element_of(task)
        if element is not None:
            here.setdefault(element.id, element)
    every = {}
    for process_spec in (loaded.parsed.spec, *loaded.parsed.subprocess_specs.values()):
        for spec in process_spec.task_specs.values():
            element = spec_element(spec)
            if element is not None:
                every.setdefault(element.id, element)
    return {"from": list(here.values()), "to": list(every.values())}


def preview_move(session: Session, instance_id: str, from_element_id: str, to_element_id: str) -> MovePlan:
    """What moving the token at ``from_element_id`` to ``to_element_id`` would do; changes nothing.

    Raises :class:`BadInput` for a move that is not supported, with the reason in words.
    """
    loaded = _peek(session, instance_id)
    runtime.require_running(loaded)
    return _plan(loaded, from_element_id, to_element_id)


def move(session: Session, instance_id: str, from_element_id: str, to_element_id: str, actor: Actor,
         reason: str) -> MovePlan:
    """Move the token at ``from_element_id`` to ``to_element_id`` (an operator's act, with a reason); the history
    gets an ``instance_modified`` event and the audit log an ``instance_modify`` entry. The caller commits."""
    if not actor.operator:
        raise Forbidden(f"{actor.user_id} không được di chuyển token: cần quyền điều hành")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise BadInput(f"Cần ghi lý do di chuyển token (ít nhất {MIN_REASON} ký tự)")
    loaded = runtime.load(session, instance_id)
    runtime.require_running(loaded)
    plan = _plan(loaded, from_element_id, to_element_id)
    removed = plan._apply()
    details = {"from": from_element_id, "to": to_element_id, "move": plan.kind, "reason": reason[:2000]}
    loaded.record("instance_modified", user_id=actor.user_id, **details)
    forget_removed(session, loaded, removed)
    runtime.advance(loaded)
    runtime.save(session, loaded, actor)  # (resolves the incidents of the element the token left)
    audit.record(session, actor.user_id, "instance_modify", "instance", instance_id, reason,
                 processKey=loaded.row.process_key, businessKey=loaded.row.business_key,
                 **{"from": from_element_id, "to": to_element_id, "move": plan.kind})
    return plan


def _peek(session: Session, instance_id: str) -> Loaded:
    """Load an instance without locking it (for previews and lists)."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"Không có phiên chạy {instance_id}")
    return runtime.loaded_from(session, row)


def _lineage(task):
    """The tasks the token came through, nearest first, crossing from a subprocess to the task that runs it."""
    current = task
    while current is not None:
        parent = current.parent
        if parent is None and current.workflow.parent_task_id is not None:
            parent = current.workflow.top_workflow.get_task_from_id(current.workflow.parent_task_id)
        if parent is not None:
            yield parent
        current = parent


def _source(loaded: Loaded, from_element_id: str):
    tokens = [t for t in loaded.wf.get_tasks(state=MOVABLE) if projections.element_id(t) == from_element_id]
    if not tokens:
        here = ", ".join(sorted({e.id for e in (element_of(t) for t in loaded.wf.get_tasks(state=MOVABLE)) if e}))
        raise BadInput(f"Không có token nào ở {from_element_id}; token đang ở: {here or 'không có'}")
    if len(tokens) > 1:
        raise BadInput(f"{from_element_id} đang có {len(tokens)} token (nhiều lượt song song); chưa hỗ trợ di "
                       "chuyển một trong số đó")
    return tokens[0]


def _plan(loaded: Loaded, from_element_id: str, to_element_id: str) -> MovePlan:
    if from_element_id == to_element_id:
        raise BadInput("Điểm đến trùng với điểm đi: chọn một bước khác")
    source = _source(loaded, from_element_id)
    variables = sorted(k for k in source.data if not k.startswith("_"))
    passed = next((t for t in _lineage(source) if projections.element_id(t) == to_element_id), None)
    reached = any(projections.element_id(t) == to_element_id for t in loaded.wf.get_tasks(state=TaskState.COMPLETED))
    if passed is not None:
        return _plan_back(loaded, source, passed, variables)
    return _plan_forward(loaded, source, to_element_id, variables, reached)


def _plan_back(loaded: Loaded, source, passed, variables: list[str]) -> MovePlan:
    wf = loaded.wf
    after = [t for t in wf.get_tasks(state=MOVABLE) if passed in set(_lineage(t))]
    cancelled = [element_of(source)] + [e for e in (element_of(t) for t in after if t is not source) if e]
    data = copy.deepcopy(source.data)

    def apply():
        removed = wf.reset_from_task_id(passed.id, data=copy.deepcopy(data))
        return removed

    return MovePlan(loaded.row.id, "back", element_of(source), element_of(passed), _unique(cancelled), True,
                    variables, apply)


def _plan_forward(loaded: Loaded, source, to_element_id: str, variables: list[str], reached: bool) -> MovePlan:
    scope = source.workflow
    spec = next((s for s in scope.spec.task_specs.values()
                 if getattr(s, "bpmn_id", None) == to_element_id and not s.name.endswith(" [child]")), None)
    if spec is None:
        elsewhere = loaded.parsed.element_name(to_element_id) is not None or any(
            getattr(s, "bpmn_id", None) == to_element_id
            for p in (loaded.parsed.spec, *loaded.parsed.subprocess_specs.values()) for s in p.task_specs.values())
        if elsewhere:
            raise BadInput(f"{to_element_id} nằm ở phạm vi khác (quy trình con khác) với {source.task_spec.bpmn_id}: "
                           "chỉ di chuyển token trong cùng một phạm vi, hoặc quay lại một bước đã qua")
        raise BadInput(f"Quy trình không có phần tử {to_element_id}")
    target = spec_element(spec)
    if source.state == TaskState.ERROR:
        raise BadInput(f"{source.task_spec.bpmn_id} đang lỗi: chỉ quay lại được một bước đã qua; để đi tiếp, hãy "
                       "thử lại sự cố (có thể sửa biến)")
    if isinstance(source.task_spec, SubWorkflowTask):
        raise BadInput(f"{source.task_spec.bpmn_id} là quy trình con: hãy di chuyển token bên trong nó")
    if isinstance(spec, (LoopTask, SubWorkflowTask)) or not isinstance(spec, STARTABLE):
        raise BadInput(f"Không kích hoạt trực tiếp được {target.label} (loại {target.type}): chỉ hỗ trợ công việc, "
                       "sự kiện trung gian và sự kiện kết thúc, hoặc quay lại một bước đã qua")
    unit = source.parent if isinstance(source.parent.task_spec, BoundaryEventSplit) else source
    anchor = unit.parent
    start_spec = next((s for s in spec.inputs if isinstance(s, BoundaryEventSplit)), spec)
    ended = [t for t in [unit, *unit.children] if t.has_state(MOVABLE)]
    cancelled = _unique([element_of(source)] + [e for e in (element_of(t) for t in ended) if e])
    data = copy.deepcopy(source.data)

    def apply():
        unit.cancel()
        task = anchor._add_child(start_spec, TaskState.FUTURE)
        try:  # the steps Task.reset_branch takes for the task it resets: predict what follows, then update
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
            task.task_spec._update(task)
        except WorkflowException as err:
            raise BadInput(f"Không kích hoạt được {target.label}: {err}") from None
        task.data = copy.deepcopy(data)
        return []

    return MovePlan(loaded.row.id, "forward", element_of(source), target, cancelled, reached, variables, apply)


def _unique(found: list[Element]) -> list[Element]:
    return list({e.id: e for e in found if e is not None}.values())


def forget_removed(session: Session, loaded: Loaded, removed: list) -> None:
    """Take tasks that left the workflow's tree out of the command's bookkeeping: their projection rows go, the
    active ones get an ``activity_cancelled`` history event and a paused dossier clock runs again."""
    gone = [t for t in removed if t.id in loaded.before]
    if not gone:
        return
    ids = [str(t.id) for t in gone]
    for table, key in ((UserTask, UserTask.id), (ExternalTask, ExternalTask.id),
                       (MessageSubscription, MessageSubscription.task_id)):
        session.execute(delete(table).where(key.in_(ids)))
    stamp = time.time()
    for task in gone:
        loaded.before.pop(task.id)
        if projections.element_id(task):
            task.last_state_change = stamp  # a detached task: its history event is dated now
            loaded.record("activity_cancelled", task)
            if projections.element_id(task) in loaded.parsed.clock_pauses:
                dossiers.resume(session, loaded.row.id, runtime.now())

