"""Commands on user tasks: claim, unclaim, reassign, complete.

Who may act: the assignee of an assigned task; for an unassigned task, a member of one of its
candidate groups or one of its candidate users; a trusted operator always. The task must still be
READY in the workflow: when two officers complete the same task, the second finds it done and gets
:class:`TaskNotActive` (HTTP 409) while the first one's work stands.
"""
from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import dialect, dossier_actions, limits, multi_instance, runtime
from engine.errors import BadInput, NotACandidate, NotFound, TaskAlreadyClaimed, TaskHeldByAnother, TaskNotActive
from engine.forms import validate_form
from engine.instances import check_variables
from engine.models import Account, Dossier, HistoryEvent, UserTask
from engine.runtime import Actor, Loaded


def _task_row(session: Session, task_id: str) -> UserTask:
    row = session.get(UserTask, task_id, populate_existing=True)
    if row is not None:
        return row
    # only a user task's own history says it was done; an external task's (or any other element's) id is not a
    # user task at all
    done = session.scalars(select(HistoryEvent).where(HistoryEvent.task_id == task_id,
                                                      HistoryEvent.activity_type == "userTask")
                           .order_by(HistoryEvent.id.desc()).limit(1)).first()
    if done is not None:
        who = f" by {done.user_id}" if done.user_id else ""
        raise TaskNotActive(f"task {task_id} is no longer open: it was {_describe(done.kind)}{who} "
                            f"at {done.at:%Y-%m-%d %H:%M:%S} UTC")
    raise NotFound(f"no user task {task_id}")


def _describe(kind: str) -> str:
    return {"task_completed": "completed", "activity_completed": "completed",
            "activity_cancelled": "cancelled"}.get(kind, kind.replace("_", " "))


def may_work_on(actor: Actor, row: UserTask) -> bool:
    """Whether the actor may claim or complete this task."""
    if actor.operator:
        return True
    if row.assignee:
        return row.assignee == actor.user_id
    return _in_candidates(actor, row)


def _load_ready(session: Session, task_id: str, actor: Actor, expected_version: int | None):
    instance, row = runtime.lock_with_task(session, UserTask, task_id)
    if instance is None:
        _task_row(session, task_id)  # raises the right error: the task is done, or never existed
    loaded = runtime.loaded_from(session, instance, expected_version)
    runtime.require_running(loaded)
    task = loaded.task(task_id)
    if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, dialect.UserTask):
        raise TaskNotActive(f"task {task_id} is no longer waiting: someone else may have completed it")
    if not may_work_on(actor, row):
        if row.assignee:
            raise TaskHeldByAnother(f"task {task_id} is assigned to {row.assignee}", row.assignee)
        raise NotACandidate(f"{actor.user_id} is not in a group that may work on task {task_id}")
    return loaded, task, row


def claim(session: Session, task_id: str, actor: Actor, user_id: str | None = None) -> UserTask:
    """Make a user (the actor by default) the assignee of an unassigned task."""
    user_id = limits.check_length("userId", user_id or actor.user_id, limits.USER_ID_MAX)
    loaded, task, row = _load_ready(session, task_id, actor, None)
    if row.assignee and row.assignee != user_id:
        raise TaskAlreadyClaimed(f"task {task_id} is already claimed by {row.assignee}", row.assignee)
    if row.assignee == user_id:
        return row  # theirs already: nothing to record, and no new version of the instance
    row.assignee = user_id
    loaded.record("task_claimed", task, user_id=actor.user_id, assignee=user_id)
    runtime.save(session, loaded, actor)
    return row


def assignee_disabled(session: Session, row: UserTask) -> bool:
    """Whether the task is claimed by an account that has been disabled: nobody can work on it until it goes back
    to its groups. (Accounts are never deleted; a name with no account — an actor of the engine's API — is not
    taken for a disabled one.)"""
    if not row.assignee:
        return False
    account = session.get(Account, row.assignee)
    return account is not None and account.disabled


def _in_candidates(actor: Actor, row: UserTask) -> bool:
    groups = {g for g in row.candidate_groups.split(",") if g}
    return bool(groups & actor.groups) or actor.user_id in {u for u in row.candidate_users.split(",") if u}


def unclaim(session: Session, task_id: str, actor: Actor) -> UserTask:
    """Give a claimed task back to its groups: the assignee, an operator, or — when the assignee's account has
    been disabled — a colleague of one of the task's candidate groups may."""
    row = _task_row(session, task_id)
    if (not actor.operator and row.assignee not in (None, actor.user_id)
            and not (_in_candidates(actor, row) and assignee_disabled(session, row))):
        raise TaskHeldByAnother(f"task {task_id} is claimed by {row.assignee}; only they or an operator may unclaim it",
                                row.assignee)
    loaded, task, row = _load_ready(session, task_id, Actor(actor.user_id, actor.groups, True), None)
    if row.assignee is None:
        return row  # nobody holds it: nothing to record, and no new version of the instance
    row.assignee = None
    loaded.record("task_unclaimed", task, user_id=actor.user_id)
    runtime.save(session, loaded, actor)
    return row


def release_claims(session: Session, user_id: str, by: str | None, reason: str | None = None) -> list[str]:
    """Give every task claimed by ``user_id`` back to its groups (an account being disabled), each with a
    ``task_unclaimed`` history event by ``by`` saying whose it was and why. Works on suspended instances too: the
    claim is the inbox's, not the workflow's. Returns the ids of the tasks released."""
    released = []
    for task_id in session.scalars(select(UserTask.id).where(UserTask.assignee == user_id).order_by(UserTask.id)):
        instance, row = runtime.lock_with_task(session, UserTask, task_id)
        if row is None or row.assignee != user_id:
            continue  # completed or handed on since it was listed
        row.assignee = None
        session.add(HistoryEvent(instance_id=instance.id, at=runtime.now(), kind="task_unclaimed",
                                 activity_id=row.activity_id, activity_name=row.name, activity_type="userTask",
                                 task_id=row.id, user_id=by, details=json.dumps(
                                     {"from": user_id, "accountDisabled": True, "reason": reason or None},
                                     ensure_ascii=False)))
        released.append(row.id)
    session.flush()
    return released


def reassign(session: Session, task_id: str, actor: Actor, to_user: str, reason: str) -> UserTask:
    """Hand a task to a colleague in one of its candidate groups (and the dossier's agency), with a reason."""
    reason = (reason or "").strip()
    if len(reason) < dossier_actions.MIN_REASON:
        raise BadInput("Cần ghi lý do chuyển việc (ít nhất 5 ký tự)")
    loaded, task, row = _load_ready(session, task_id, actor, None)
    target = session.get(Account, to_user or "")
    groups = {g for g in row.candidate_groups.split(",") if g}
    if target is None or target.disabled or target.is_service:
        raise BadInput(f"Không có cán bộ '{to_user}' để chuyển việc")
    if not groups & {g for g in target.groups.split(",") if g}:
        raise BadInput(f"Cán bộ {to_user} không thuộc nhóm xử lý việc này")
    dossier = session.get(Dossier, row.instance_id)
    if dossier is not None and dossier.agency and target.agency != dossier.agency:
        raise BadInput(f"Cán bộ {to_user} không thuộc cơ quan đang giải quyết hồ sơ")
    if row.assignee == to_user:
        raise BadInput(f"Việc này đã do {to_user} xử lý")
    before = row.assignee
    row.assignee = to_user
    loaded.record("task_reassigned", task, user_id=actor.user_id, **{"from": before, "to": to_user, "reason": reason[:2000]})
    runtime.save(session, loaded, actor)
    return row


def complete(session: Session, task_id: str, actor: Actor, variables: dict[str, Any] | None = None,
             expected_version: int | None = None) -> Loaded:
    """Complete a user task with the variables of its form and run the workflow on."""
    variables = check_variables(variables)
    loaded, task, row = _load_ready(session, task_id, actor, expected_version)
    form_key = task.task_spec.form_key
    if form_key:
        form = loaded.parsed.forms.get(form_key)
        validate_form(form, variables)
        if dossier_actions.requests_supplement(form, variables):
            dossier_actions.count_supplement_request(session, loaded.row.id)
    task.data.update(variables)
    multi_instance.note_answers(task, variables)
    runtime.finish_task(loaded, task)
    loaded.record("task_completed", task, user_id=actor.user_id, due=row.due_at.isoformat() if row.due_at else None)
    runtime.advance(loaded)
    runtime.save(session, loaded, actor)
    return loaded
