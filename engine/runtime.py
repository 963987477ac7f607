"""The transaction model: lock an instance, load its workflow, apply a command, save and project.

Every command follows the same steps (DESIGN.md, "The engine"):

1. lock the instance row (``SELECT ... FOR UPDATE``; on SQLite the transaction already holds the write
   lock) — :func:`load`;
2. take the parsed spec from the cache, deserialize the state and attach the sandbox — :func:`load` (or take
   the workflow the last save of this version left in memory: engine.workflow_cache);
3. apply the command, then :func:`advance` (``do_engine_steps``, with errors turned into incidents);
4. serialize the state by reference and bring the projections in line — :func:`save`;
5. the caller commits.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import instance_lock, joins, limits, loop_limits, multi_instance, projections
from engine.task_tree import tasks_in_state  # (importing it lifts SpiffWorkflow's depth limit too)
from engine.errors import InstanceNotActive, NotFound, StaleVersion
from engine.models import Incident, ProcessDefinition, ProcessInstance
from engine.serializer import StateSerializer
from engine.specs import SCRIPT_ENGINE, SPECS, ParsedDefinition
from engine.workflow_cache import WORKFLOWS
from engine.write_batch import WriteBatch

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
ENDED = frozenset({"completed", "terminated"})
MAX_ERROR_ROUNDS = 50  # a workflow with many failing branches still ends its command
SERIALIZER = StateSerializer()


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user and their groups, or a trusted operator (the CLI) who may act on any task."""

    user_id: str
    groups: frozenset[str] = frozenset()
    operator: bool = False

    def __post_init__(self) -> None:
        # the acting user is written to history (and a claim's to the task): a name the columns cannot hold is
        # bad input, not a database error in the middle of a command
        limits.check_length("user id", self.user_id, limits.USER_ID_MAX)

    @classmethod
    def system(cls) -> Actor:
        """The engine itself (timers, workers)."""
        return cls("system", operator=True)


@dataclass
class Loaded:
    """An instance loaded for a command: its row, definition and workflow, and what it looked like before."""

    row: ProcessInstance
    parsed: ParsedDefinition
    wf: BpmnWorkflow
    before: dict[UUID, int]
    started: float = field(default_factory=time.time)
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[UUID, str] = field(default_factory=dict)
    is_new: bool = False
    # tasks already finished when loaded, with their state and its time: an end already written to history
    finished_before: dict[UUID, tuple[int, float]] = field(default_factory=dict)
    status_reached: tuple[int, dt.datetime] | None = None  # the dossier status the command moved to, and when

    def task(self, task_id: str):
        """The workflow task with this id, or None."""
        try:
            return self.wf.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException, KeyError):
            return None

    def record(self, kind: str, task=None, user_id: str | None = None, **details: Any) -> None:
        """Add a history event to be written with the save."""
        self.events.append({"kind": kind, "task": task, "user_id": user_id, "details": details or None})


def now() -> dt.datetime:
    """The current time, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def active_states(wf: BpmnWorkflow) -> dict[UUID, int]:
    """The active tasks of a workflow and their states."""
    return {t.id: t._state for t in tasks_in_state(wf, ACTIVE)}


def load(session: Session, instance_id: str, expected_version: int | None = None) -> Loaded:
    """Lock and load an instance for a command."""
    row, _ = instance_lock.lock(session, None, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return loaded_from(session, row, expected_version)


def lock_with_task(session: Session, task_model, task_id: str):
    """Lock the instance of a projected task and read the task (and the dossier) under that lock, in one
    statement; returns (instance row, task row), or (None, None) if there is no such task."""
    return instance_lock.lock(session, task_model, task_id)


def loaded_from(session: Session, row: ProcessInstance, expected_version: int | None = None) -> Loaded:
    """Load the workflow of an instance row the caller has locked."""
    if expected_version is not None and row.version_no != expected_version:
        raise StaleVersion(f"instance {row.id} changed since version {expected_version} "
                           f"(it is at version {row.version_no}); reload it and try again")
    parsed = SPECS.get(session, SPECS.definition(session, row.definition_id))
    wf = WORKFLOWS.take(session, row.id, row.version_no, row.definition_id)
    if wf is None:
        wf = SERIALIZER.loads(row.state, parsed.spec, parsed.subprocess_specs)
        wf.script_engine = SCRIPT_ENGINE  # not serialized: without this the unsafe default engine comes back
    finished = {t.id: (t._state, t.last_state_change) for t in tasks_in_state(wf, TaskState.FINISHED_MASK)}
    return Loaded(row=row, parsed=parsed, wf=wf, before=active_states(wf), finished_before=finished)


def new_workflow(parsed: ParsedDefinition) -> BpmnWorkflow:
    """A new workflow of a parsed definition, with the sandbox attached."""
    return BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=SCRIPT_ENGINE)


def require_running(loaded: Loaded) -> None:
    """Refuse a command on a suspended or ended instance."""
    if loaded.row.status != "active":
        raise InstanceNotActive(f"instance {loaded.row.id} is {loaded.row.status}", loaded.row.status)


def advance(loaded: Loaded) -> None:
    """Run the workflow as far as it goes; an expression or task that fails opens an incident instead of
    undoing the command, so nothing the caller did is lost. The automatic steps one command runs are bounded
    (engine.loop_limits): a loop with no wait in it stops with an incident instead of running without end.

    Timers that came due since the last command fire first: ``do_engine_steps`` looks at the clock only as it ends,
    making a due timer READY without running it, and a READY timer is no longer waiting, so no next due time would
    name it and the scheduler would never come back for it (a resume after a suspension that outlasted a timer)."""
    wf = loaded.wf
    steps = loop_limits.StepBudget()
    for _ in range(MAX_ERROR_ROUNDS):
        try:
            wf.refresh_timers()
            wf.do_engine_steps(will_complete_task=lambda task: (steps.spend(task), joins.reconcile_branches(task)))
        except WorkflowException as err:
            fail_task(loaded, err, steps.running())
            continue
        for task_id, message in multi_instance.condition_failures(wf).items():
            loaded.errors.setdefault(task_id, message)
        # nothing left to do or to wait for, yet a join waits: an incident says so, once; the join keeps waiting,
        # so that an operator can move its token on
        if not getattr(loaded.row, "open_incidents", 0):
            for join in joins.stuck(wf):
                loaded.errors.setdefault(join.id, joins.stuck_message(join))
        return


def finish_task(loaded: Loaded, task) -> None:
    """Complete a user task (run it) or a started external task (complete it); what that sets off at once — a
    catch event computing its timer, say — and fails opens an incident on that element, as in :func:`advance`."""
    try:
        task.complete() if task.state == TaskState.STARTED else task.run()
    except WorkflowException as err:
        fail_task(loaded, err)


def fail_task(loaded: Loaded, err: WorkflowException, running=None) -> None:
    """Put the task an error is about in the ERROR state, its message kept for the incident; an error about no
    task, or about a task that failed already in this command, is raised again. An error that names no task (an
    exclusive gateway with no condition true names only its spec) is about ``running``, the task being run."""
    task = getattr(err, "task", None) or running
    if task is None or task.id in loaded.errors:
        raise err
    loaded.errors[task.id] = _error_text(err)
    if task.state != TaskState.ERROR:
        task.error()


def _error_text(err: Exception) -> str:
    text = str(err.args[0]) if err.args else str(err)
    cause = err.__cause__ or err.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    notes = getattr(err, "__notes__", None)
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def save(session: Session, loaded: Loaded, actor: Actor, send: bool = True) -> WriteBatch:
    """Serialize the workflow and bring the projections in line with it: the writes are sent as one batch
    (``send=False``: returned unsent, for the caller to add its own writes and send it)."""
    row, wf = loaded.row, loaded.wf
    at = now()
    after = active_states(wf)
    if row.open_incidents and not loaded.is_new:
        resolve_orphan_incidents(session, loaded, at)
    values = {"state": SERIALIZER.dumps(wf), "variables": projections.variables_json(wf, after), "updated_at": at,
              "next_timer_at": projections.next_timer(wf), "open_incidents": row.open_incidents + len(loaded.errors)}
    if wf.is_completed() and row.status == "active":
        values.update(status="completed", ended_at=at)
    if row.open_incidents and values.get("status", row.status) in ENDED and not loaded.is_new:
        # an ended instance runs nothing again, so its incidents cannot be retried: they close with it (as Camunda's)
        session.execute(update(Incident).where(Incident.instance_id == row.id, Incident.resolved_at.is_(None))
                        .values(resolved_at=at).execution_options(synchronize_session=False))
        values["open_incidents"] = len(loaded.errors)
    batch = WriteBatch()
    if loaded.is_new:
        values["version_no"] = 1  # the first save
        for key, value in values.items():
            setattr(row, key, value)
        batch.insert_object(row)
    else:
        batch.update_instance(row.id, row.version_no, _row_changes(row, values))
    projections.sync(session, loaded, after, actor, at, batch)
    if row.status not in ENDED:  # no command runs on an ended instance: nothing to keep it for
        batch.after_send.append(lambda: WORKFLOWS.keep_if_committed(session, row.id, row.version_no,
                                                                    row.definition_id, wf, loaded.finished_before))
    if send:
        batch.send(session)
    return batch


def resolve_orphan_incidents(session: Session, loaded: Loaded, at: dt.datetime) -> None:
    """Resolve the open incidents of the instance whose task is no longer failed or waiting in the workflow: a
    boundary event, an event subprocess or a token move cancelled it, and nothing could retry it any more (as
    Camunda deletes the incidents of a cancelled activity). The instance row's count goes down with them."""
    live = {str(t.id) for t in tasks_in_state(loaded.wf, ACTIVE | TaskState.ERROR)}
    open_ = session.scalars(select(Incident).where(Incident.instance_id == loaded.row.id,
                                                   Incident.resolved_at.is_(None))).all()
    for incident in open_:
        if incident.resolved_at is None and incident.task_id and incident.task_id not in live:
            incident.resolved_at = at
            loaded.row.open_incidents = max(loaded.row.open_incidents - 1, 0)


_ROW_COLUMNS = frozenset(c.key for c in ProcessInstance.__table__.columns) - {"id", "version_no"}


def _row_changes(row: ProcessInstance, values: dict[str, Any]) -> dict[str, Any]:
    """What a save writes to an existing instance row: ``values``, whatever else the command set on the row
    (suspend, terminate...) and the next version number. The row is left as if flushed: the write goes with
    the command's other writes (engine.write_batch), not through the ORM's unit of work."""
    values = dict(values)
    state = inspect(row)
    if state.modified:
        for key in _ROW_COLUMNS - values.keys():
            if state.attrs[key].history.has_changes():
                values[key] = getattr(row, key)
    values["version_no"] = row.version_no + 1
    for key, value in values.items():
        set_committed_value(row, key, value)
    return values


def new_instance_row(definition: ProcessDefinition, business_key: str | None, actor: Actor) -> ProcessInstance:
    """The row of an instance about to start."""
    at = now()
    return ProcessInstance(id=str(uuid.uuid4()), definition_id=definition.id, process_key=definition.key,
                           business_key=business_key, status="active", state="", version_no=0, variables="{}",
                           open_incidents=0, next_timer_at=None, started_by=actor.user_id, started_at=at,
                           updated_at=at, ended_at=None, end_reason=None)
