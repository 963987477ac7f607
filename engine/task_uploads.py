"""The files an officer has uploaded for an open task's form but not completed it with yet: a field of several files
fills up over several uploads (and loses a file to its remove button) before the task is completed, as a citizen's
application does in its draft. Kept in ``task_upload`` rows, which go with their task; while they exist, the files
count as named (engine.upload_refs), so nothing deletes them from under the officer. The caller commits."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import limits
from engine.errors import NotACandidate, TaskHeldByAnother, TaskNotActive
from engine.models import UserTask
from engine.runtime import Actor
from engine.task_upload_models import TaskUpload
from engine.user_tasks import may_work_on


def kept(session: Session, task_id: str) -> dict[str, list[str]]:
    """The files kept so far for the task's form, by field, in the order they were uploaded."""
    out: dict[str, list[str]] = {}
    for row in session.scalars(select(TaskUpload).where(TaskUpload.task_id == task_id)
                               .order_by(TaskUpload.field, TaskUpload.position)):
        out.setdefault(row.field, []).append(row.path)
    return out


def keep(session: Session, task_id: str, actor: Actor, files: dict[str, str | list[str]]) -> None:
    """Keep these files for the task's form in place of those kept before for the same fields (a path for a field of
    one file, a list for a field of several; an empty value keeps none). Only someone who may complete the task may:
    :class:`TaskNotActive` when it is no longer open, :class:`TaskHeldByAnother` or :class:`NotACandidate`."""
    row = session.get(UserTask, task_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise TaskNotActive(f"task {task_id} is no longer open")
    if not may_work_on(actor, row):
        if row.assignee:
            raise TaskHeldByAnother(f"task {task_id} is assigned to {row.assignee}", row.assignee)
        raise NotACandidate(f"{actor.user_id} is not in a group that may work on task {task_id}")
    now = dt.datetime.now(dt.timezone.utc)
    for field, value in files.items():
        limits.check_length("field", field, 255)
        paths = [value] if isinstance(value, str) else list(value or [])
        session.execute(delete(TaskUpload).where(TaskUpload.task_id == task_id, TaskUpload.field == field))
        session.add_all(TaskUpload(task_id=task_id, field=field, position=i, path=path, uploaded_by=actor.user_id,
                                   uploaded_at=now) for i, path in enumerate(p for p in paths if p))
    session.flush()
