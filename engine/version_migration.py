"""Migrating running instances of a process version to a newer version of the same key, with a preview first.

Elements are matched by id: an element with the same id in both versions is mapped (changed when its attributes
differ), an id only in the old version is removed, one only in the new version is added. An instance can move
when every element it has a token at (waiting, running or failed) and every element it already passed exist in
the new version (the stored state names its elements, and is read back against the new version's spec), with the
same kind (a user task that became a service task cannot carry its token over).

The migration itself is SpiffWorkflow's ``migrate_workflow`` (``SpiffWorkflow.bpmn.util.diff``; :func:`_migrate_tree`) on the
process and each of its subprocesses: every task gets the new version's spec, waiting and ready tasks are reset so that what
follows them is predicted from the new version (a waiting timer keeps its due time when its timer definition did
not change), and the tasks that are running (a service task held by a worker) keep their state and get what follows
them predicted again. Each instance moves in a savepoint of its own: one that fails is reported and stays, as it
was, on the old version, and the others still move.
"""
from __future__ import annotations

import copy
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.util.event import Event
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine import assignment, audit, dialect, modification, multi_instance, projections, runtime
from engine.errors import BadInput, Conflict, Forbidden, NotFound
from engine.models import (ExternalTask, MessageSubscription, ProcessDefinition, ProcessInstance, UserTask,
                           UserTaskCandidate)
from engine.modification import MOVABLE, Element, spec_element
from engine.runtime import SERIALIZER, Actor, Loaded
from engine.specs import SPECS, ParsedDefinition

LOG = logging.getLogger(__name__)
RUNNING = ("active", "suspended")
PREVIEW_LIMIT = 500  # instances listed by a preview; a migration takes them all


@dataclass
class Mapping:
    """How the elements of two versions correspond, by id."""

    mapped: list[Element] = field(default_factory=list)
    changed: list[tuple[Element, list[str]]] = field(default_factory=list)  # with the attributes that differ
    removed: list[Element] = field(default_factory=list)
    added: list[Element] = field(default_factory=list)


@dataclass
class Preview:
    """What migrating from one version to another would do."""

    source: ProcessDefinition
    target: ProcessDefinition
    mapping: Mapping
    movable: list[dict[str, Any]]  # {id, businessKey, at: [element ids]}
    blocked: list[dict[str, Any]]  # {id, businessKey, at, reason}
    total: int  # running instances of the source version (the lists stop at PREVIEW_LIMIT)


class _Fingerprints:
    """Stands in for a serializer registry in ``SpecDiff``: a task spec as plain, comparable data.

    motcua's own spec classes (its user task, external task, start task) are not in SpiffWorkflow's registry, and
    the engine never serializes specs (it stores state by reference), so specs are compared attribute by
    attribute, with references to other specs by name.
    """

    def convert(self, spec) -> dict[str, Any]:
        """The spec's kind, flows and attributes."""
        out = {"typename": type(spec).__name__, "inputs": sorted(spec._inputs), "outputs": sorted(spec._outputs)}
        for key, value in vars(spec).items():
            if not key.startswith("_") and key not in ("lookahead",) and not isinstance(value, Event):
                out[key] = _plain(value)
        return out


def _plain(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return type(value).__name__
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    if hasattr(value, "_wf_spec"):  # another task spec
        return value.name
    if hasattr(value, "__dict__"):
        return {"type": type(value).__name__, **{k: _plain(v, depth + 1) for k, v in vars(value).items()
                                                 if not k.startswith("_") and not isinstance(v, Event)}}
    return getattr(value, "__qualname__", type(value).__name__)  # never a repr: it would hold a memory address


FINGERPRINTS = _Fingerprints()


def _by_id(original, new) -> SpecDiff:
    """SpiffWorkflow's diff of two process specs, keeping only the alignments of specs with the same name (it also
    aligns renamed elements by their place in the flow, which an analyst would not expect)."""
    diff = SpecDiff(FINGERPRINTS, original, new)
    for old, aligned in list(diff.alignment.items()):
        if aligned is not None and aligned.name != old.name:
            diff.alignment[old] = None
            diff.comparisons.pop(old, None)
            diff.added.append(aligned)
    return diff


def _definitions(session: Session, from_definition_id: str, to_definition_id: str):
    source = session.get(ProcessDefinition, from_definition_id)
    target = session.get(ProcessDefinition, to_definition_id)
    if source is None or target is None:
        raise NotFound(f"Không có phiên bản quy trình {from_definition_id if source is None else to_definition_id}")
    if source.key != target.key:
        raise BadInput(f"Chỉ chuyển được giữa các phiên bản của cùng một quy trình ({source.key} khác {target.key})")
    if target.version <= source.version:
        raise BadInput(f"Phiên bản đích ({target.version}) phải mới hơn phiên bản nguồn ({source.version})")
    return source, target


def mapping(old: ParsedDefinition, new: ParsedDefinition) -> Mapping:
    """The elements of two versions: mapped, changed, removed and added (process and subprocesses)."""
    out = Mapping()
    seen: set[str] = set()
    pairs = [(old.spec, new.spec)] + [(spec, new.subprocess_specs.get(name))
                                      for name, spec in old.subprocess_specs.items()]
    for original, updated in pairs:
        if updated is None:
            out.removed.extend(e for e in map(spec_element, original.task_specs.values()) if e)
            continue
        diff = _by_id(original, updated)
        for spec, aligned in diff.alignment.items():
            element = spec_element(spec)
            if element is None or element.id in seen:
                continue
            seen.add(element.id)
            if aligned is None:
                out.removed.append(element)
            elif diff.comparisons.get(spec):
                out.changed.append((element, diff.comparisons[spec]))
            else:
                out.mapped.append(element)
        out.added.extend(e for e in map(spec_element, diff.added) if e)
    for name, spec in new.subprocess_specs.items():
        if name not in old.subprocess_specs:
            out.added.extend(e for e in map(spec_element, spec.task_specs.values()) if e)
    return out


def _diffs(loaded: Loaded, target: ParsedDefinition) -> tuple[WorkflowDiff, dict]:
    """The diff of the instance's process and of each of its subprocesses (None: its spec is gone)."""
    wf = loaded.wf
    top = WorkflowDiff(wf, _by_id(wf.spec, target.spec))
    subs = {}
    for sp_id, sp in wf.subprocesses.items():
        new_spec = target.subprocess_specs.get(sp.spec.name)
        subs[sp_id] = WorkflowDiff(sp, _by_id(sp.spec, new_spec)) if new_spec is not None else None
    return top, subs


def obstacle(loaded: Loaded, target: ParsedDefinition, diffs=None) -> str | None:
    """Why this instance cannot move to the target version (in words, naming the element), or None if it can."""
    top, subs = diffs or _diffs(loaded, target)
    for sp_id, diff in subs.items():
        if diff is None:
            element = modification.element_of(loaded.wf.get_task_from_id(sp_id))
            return f"quy trình con {element.label if element else sp_id} không còn trong phiên bản mới"
    for diff in (top, *subs.values()):
        for task in diff.removed:
            if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
                continue  # not reached yet: predicted again from the new version
            element = modification.element_of(task)
            label = element.label if element else task.task_spec.name  # SpiffWorkflow's own: named after its element
            if task.has_state(MOVABLE):
                return f"đang ở {label}, phần tử này không còn trong phiên bản mới"
            return (f"đã qua {label}, phần tử này không còn trong phiên bản mới (lịch sử của phiên chạy không đọc "
                    "lại được theo phiên bản mới)")
        for task in diff.changed:
            element = modification.element_of(task)
            if element and task.has_state(MOVABLE) and type(diff.alignment[task]) is not type(task.task_spec):
                return f"đang ở {element.label}, phần tử này đổi loại trong phiên bản mới"
    return None


def _running(session: Session, definition_id: str, instance_ids: list[str] | None = None, limit: int | None = None):
    stmt = (select(ProcessInstance).where(ProcessInstance.definition_id == definition_id,
                                          ProcessInstance.status.in_(RUNNING))
            .order_by(ProcessInstance.started_at, ProcessInstance.id))
    if instance_ids is not None:
        stmt = stmt.where(ProcessInstance.id.in_(instance_ids))
    return session.scalars(stmt.limit(limit) if limit else stmt).all()


def _at(loaded: Loaded) -> list[str]:
    return sorted({e.id for e in map(modification.element_of, loaded.wf.get_tasks(state=MOVABLE)) if e})


def preview(session: Session, from_definition_id: str, to_definition_id: str) -> Preview:
    """The element mapping of two versions and, for each running instance of the older one, whether it can move
    (and why not); changes nothing."""
    source, target = _definitions(session, from_definition_id, to_definition_id)
    old, new = SPECS.get(session, source), SPECS.get(session, target)
    total = session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.definition_id == source.id, ProcessInstance.status.in_(RUNNING)))
    result = Preview(source, target, mapping(old, new), [], [], total)
    for row in _running(session, source.id, limit=PREVIEW_LIMIT):
        loaded = runtime.loaded_from(session, row)
        entry = {"id": row.id, "businessKey": row.business_key, "status": row.status, "at": _at(loaded)}
        reason = obstacle(loaded, new)
        (result.blocked.append({**entry, "reason": reason}) if reason else result.movable.append(entry))
    return result


def migrate(session: Session, from_definition_id: str, to_definition_id: str, actor: Actor,
            instance_ids: list[str] | None = None, reason: str | None = None) -> dict[str, list]:
    """Move running instances of one version (all, or those of ``instance_ids``) to a newer version of the same
    key; returns ``{"migrated": [ids], "not_migrated": [{"id", "reason"}]}``. Each instance moves in its own
    savepoint, with an ``instance_migrated`` history event and an ``instance_migrate`` audit entry; the caller
    commits."""
    if not actor.operator:
        raise Forbidden(f"{actor.user_id} không được chuyển phiên bản: cần quyền điều hành")
    source, target = _definitions(session, from_definition_id, to_definition_id)
    new = SPECS.get(session, target)
    report: dict[str, list] = {"migrated": [], "not_migrated": []}
    wanted = list(dict.fromkeys(instance_ids)) if instance_ids is not None else None
    found = {row.id for row in _running(session, source.id, wanted)}
    for instance_id in (wanted if wanted is not None else sorted(found)):
        if instance_id not in found:
            report["not_migrated"].append({"id": instance_id, "reason": f"không phải phiên chạy đang chạy của "
                                                                        f"{source.id}"})
            continue
        try:
            with session.begin_nested():
                why = _migrate_one(session, instance_id, source, target, new, actor, reason)
        except Exception as err:  # one instance that fails must not stop the others: reported, left as it was
            LOG.exception("migrating %s to %s failed", instance_id, target.id,
                          extra={"action": "instance_migrate", "instance_id": instance_id})
            why = f"lỗi khi chuyển: {err}"
        if why:
            report["not_migrated"].append({"id": instance_id, "reason": why})
        else:
            report["migrated"].append(instance_id)
    return report


def _migrate_one(session: Session, instance_id: str, source: ProcessDefinition, target: ProcessDefinition,
                 new: ParsedDefinition, actor: Actor, reason: str | None) -> str | None:
    loaded = runtime.load(session, instance_id)
    if loaded.row.definition_id != source.id or loaded.row.status not in RUNNING:
        return f"phiên chạy đã thay đổi (đang ở {loaded.row.definition_id}, {loaded.row.status})"
    diffs = _diffs(loaded, new)
    why = obstacle(loaded, new, diffs)
    if why:
        return why
    wf = loaded.wf
    top, subs = diffs
    timers = {t.id: (_plain(t.task_spec.event_definition), copy.deepcopy(t.internal_data))
              for t in wf.get_tasks(state=TaskState.WAITING) if "event_value" in t.internal_data}
    removed = _migrate_tree(top, wf, new.spec)
    for sp_id, sp in list(wf.subprocesses.items()):
        removed += _migrate_tree(subs[sp_id], sp, new.subprocess_specs[sp.spec.name])
    wf.subprocess_specs = new.subprocess_specs
    for task in wf.get_tasks(state=TaskState.STARTED):
        # a running task is not reset (a worker may hold it): what follows it is predicted anew, with the steps
        # Task.reset_branch takes after dropping a task's children; a multi-instance activity keeps its instances
        # (the children it made itself), or it went on to the steps that followed it in the old version
        if isinstance(task.task_spec, LoopTask):
            for child in [c for c in task.children if not c.triggered and c.has_state(TaskState.NOT_FINISHED_MASK)]:
                task.workflow._remove_task(child.id)
        else:
            task._drop_children()
        task.task_spec._predict(task, mask=TaskState.STARTED | TaskState.PREDICTED_MASK | TaskState.FUTURE)
    for task in wf.get_tasks(state=TaskState.WAITING):  # a timer whose definition did not change keeps its due time
        definition, data = timers.get(task.id, (None, None))
        if data is not None and definition == _plain(task.task_spec.event_definition):
            task.internal_data.update(data)
    _check_specs(wf)
    old = loaded.parsed
    loaded.parsed = new
    loaded.row.definition_id = target.id
    loaded.record("instance_migrated", user_id=actor.user_id, **{"from": source.id, "to": target.id},
                  **({"reason": reason} if reason else {}))
    modification.forget_removed(session, loaded, removed)
    if loaded.row.status == "active":
        runtime.advance(loaded)
    runtime.save(session, loaded, actor)
    _refresh_projections(session, loaded, old, new)
    SERIALIZER.loads(loaded.row.state, new.spec, new.subprocess_specs)  # it must read back against the new spec
    audit.record(session, actor.user_id, "instance_migrate", "instance", instance_id, reason,
                 processKey=loaded.row.process_key, businessKey=loaded.row.business_key,
                 **{"from": source.id, "to": target.id})
    return None


def _migrate_tree(diff: WorkflowDiff, workflow, spec) -> list:
    """SpiffWorkflow's ``migrate_workflow``, which leaves the open instances of a multi-instance activity as they are
    (nothing follows them to predict anew). Reset, an instance took its activity's data and lost its element
    variable: its assignee could not be worked out, or it failed with 'Expected an output item' on completion."""
    workflow.spec = spec
    for task in workflow.tasks.values():
        if diff.alignment.get(task) is not None:
            task.task_spec = diff.alignment.get(task)
    removed = []
    for task in list(workflow.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True)):
        if task.id in workflow.tasks and not multi_instance.is_instance(task):  # (one a reset before removed)
            removed.extend(task.reset_branch(None))
    if workflow.last_task not in workflow.tasks:
        workflow.last_task = None
    return removed


def _check_specs(wf) -> None:
    """Refuse a migrated workflow with a task whose spec is not the new version's (it would not read back)."""
    for task in wf.get_tasks():
        if task.workflow.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
            element = modification.element_of(task)
            raise Conflict(f"{element.label if element else task.task_spec.name} không có trong phiên bản mới")


def _refresh_projections(session: Session, loaded: Loaded, old: ParsedDefinition, new: ParsedDefinition) -> None:
    """Bring the rows of the tasks that kept their id and state in line with the new version: the definition, the
    names, forms and candidates of user tasks (a claim, due date and creation time stay), the topics of external
    tasks (a worker's lock stays), the messages the instance waits for and those that start its event
    subprocesses."""
    row, wf, at = loaded.row, loaded.wf, runtime.now()
    for task in wf.get_tasks(state=TaskState.READY):
        spec = task.task_spec
        if not isinstance(spec, dialect.UserTask):
            continue
        tid = str(task.id)
        assignment.work_out_again(task)  # the new version's expressions, or its names
        _, groups, users = assignment.of(task)
        done = session.execute(update(UserTask).where(UserTask.id == tid).values(
            definition_id=row.definition_id, name=spec.bpmn_name, form_key=spec.form_key, lane=spec.lane,
            candidate_groups=",".join(groups), candidate_users=",".join(users)))
        if done.rowcount:
            session.execute(delete(UserTaskCandidate).where(UserTaskCandidate.task_id == tid))
            candidates = [{"task_id": tid, "kind": "group", "value": g} for g in dict.fromkeys(groups)]
            candidates += [{"task_id": tid, "kind": "user", "value": u} for u in dict.fromkeys(users)]
            if candidates:
                session.execute(insert(UserTaskCandidate), candidates)
    for task in wf.get_tasks(state=TaskState.STARTED):
        spec = task.task_spec
        if isinstance(spec, dialect.ExternalTask):
            session.execute(update(ExternalTask).where(ExternalTask.id == str(task.id)).values(
                definition_id=row.definition_id, activity_name=spec.bpmn_name, topic=spec.topic))
    triggers = {str(uuid.uuid5(uuid.UUID(row.id), name)) for name in old.trigger_messages}
    waiting = {str(t.id): t for t in list(wf.event_manager.tasks.values())}
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == row.id,
                                                      MessageSubscription.task_id.in_(triggers | set(waiting))))
    rows = [dict(task_id=str(uuid.uuid5(uuid.UUID(row.id), name)), instance_id=row.id, message_name=name,
                 business_key=row.business_key, activity_id=start_id, created_at=at)
            for name, start_id in new.trigger_messages.items()]
    for tid, task in waiting.items():
        for name in _message_names(task.task_spec):
            rows.append(dict(task_id=tid, instance_id=row.id, message_name=name, business_key=row.business_key,
                             activity_id=projections.element_id(task) or task.task_spec.name, created_at=at))
    if rows:
        session.execute(insert(MessageSubscription), rows)


def _message_names(spec) -> list[str]:
    definition = getattr(spec, "event_definition", None)
    parts = getattr(definition, "event_definitions", None) or [definition]
    return [d.name for d in parts if isinstance(d, MessageEventDefinition)]
