"""An officer's inbox: the open user tasks of their groups (or assigned to them) in their agency, with what an
officer needs to plan the day — dossier code, procedure, received, due in working time, who has it — filtered
and paged in the database."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from engine import calendar_functions
from engine.accounts import Principal
from engine.errors import NotFound
from engine.models import Dossier, UserTask, UserTaskCandidate

PAGE = 50
DUE_SOON_HOURS = 8  # one working day


def _visible(principal: Principal):
    """Tasks the principal may see: of their groups or assigned to them, and — for an officer of an agency —
    only dossiers of that agency."""
    mine = or_(UserTask.assignee == principal.name,
               exists().where(UserTaskCandidate.task_id == UserTask.id, UserTaskCandidate.kind == "group",
                              UserTaskCandidate.value.in_(sorted(principal.groups) or [""])))
    if principal.agency is None:
        return mine
    return and_(mine, Dossier.agency == principal.agency)


def _due_words(due: dt.datetime | None, now: dt.datetime) -> tuple[str, str]:
    """(the state: on_time, due_soon, overdue, none; the time left in words)."""
    if due is None:
        return "none", "Không có hạn"
    if due <= now:
        late = calendar_functions.calendar().working_time_between(due, now).total_seconds() / 3600
        return "overdue", f"Quá hạn {late / 8:.1f} ngày làm việc" if late >= 8 else f"Quá hạn {late:.1f} giờ làm việc"
    left = calendar_functions.calendar().working_time_between(now, due).total_seconds() / 3600
    words = f"Còn {left / 8:.1f} ngày làm việc" if left >= 8 else f"Còn {left:.1f} giờ làm việc"
    return ("due_soon" if left <= DUE_SOON_HOURS else "on_time"), words


def tasks(session: Session, principal: Principal, process_key: str | None = None, due: str | None = None,
          assignee: str | None = None, page: int = 1, now: dt.datetime | None = None) -> dict[str, Any]:
    """One page of the principal's inbox, soonest due first. ``due``: ``overdue`` or ``due_soon``; ``assignee``:
    ``me`` or ``nobody``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    due_column = UserTask.due_at
    stmt = (select(UserTask, Dossier).outerjoin(Dossier, Dossier.instance_id == UserTask.instance_id)
            .where(_visible(principal), UserTask.suspended.is_(False)))
    if process_key:
        stmt = stmt.where(UserTask.process_key == process_key)
    if due == "overdue":
        stmt = stmt.where(due_column < now)
    elif due == "due_soon":
        stmt = stmt.where(due_column < now + dt.timedelta(days=3))  # refined below on working time
    if assignee == "me":
        stmt = stmt.where(UserTask.assignee == principal.name)
    elif assignee == "nobody":
        stmt = stmt.where(UserTask.assignee.is_(None))
    stmt = stmt.order_by(due_column.is_(None), due_column, UserTask.created_at, UserTask.id)
    rows = session.execute(stmt.limit(PAGE + 1).offset((max(page, 1) - 1) * PAGE)).all()
    items = []
    for task, dossier in rows[:PAGE]:
        state, words = _due_words(task.due_at, now)
        if due == "due_soon" and state != "due_soon":
            continue
        items.append({"id": task.id, "name": task.name, "processKey": task.process_key,
                      "dossierCode": dossier.code if dossier else task.business_key,
                      "procedureName": dossier.procedure_name if dossier else None,
                      "received": (dossier.received_at if dossier else task.created_at).isoformat(),
                      "due": task.due_at.isoformat() if task.due_at else None, "dueState": state, "dueWords": words,
                      "assignee": task.assignee, "agency": dossier.agency if dossier else None})
    return {"items": items, "page": page, "hasMore": len(rows) > PAGE}


def task_for(session: Session, principal: Principal, task_id: str) -> UserTask:
    """A task the principal may see; :class:`NotFound` for anything else (another agency's, another group's)."""
    row = session.execute(select(UserTask).outerjoin(Dossier, Dossier.instance_id == UserTask.instance_id)
                          .where(UserTask.id == task_id, _visible(principal))).scalars().first()
    if row is None:
        raise NotFound(f"no task {task_id} in your inbox")
    return row


def dossier_view(session: Session, instance_id: str) -> dict[str, Any]:
    """What the officer reads on a task page: the dossier's clock and status, its variables, its history."""
    from engine import queries
    detail = queries.instance_detail(session, instance_id)
    return {"dossier": detail.get("dossier"), "variables": detail.get("variables") or {},
            "history": [h for h in detail["history"] if h["kind"] in ("instance_started", "task_completed", "task_claimed",
                                                                     "task_unclaimed", "dossier_status")],
            "status": detail["status"], "startForm": _start_form(session, detail["definitionId"])}


def _start_form(session: Session, definition_id: str) -> dict | None:
    from engine.specs import SPECS
    parsed = SPECS.get(session, SPECS.definition(session, definition_id))
    return parsed.forms.get(parsed.start_form_key) if parsed.start_form_key else None
