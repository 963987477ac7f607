"""An officer's inbox: the open user tasks of their groups (or assigned to them) in their agency, with what an
officer needs to plan the day — dossier code, procedure, status, received, due in working time, who has it —
filtered, sorted and paged in the database.

Which agency's inbox holds a task is the task's own ``agency`` column (its dossier's agency, stamped when the dossier
is received and moved with it when it is forwarded), so an agency's tasks are one range of an index in every order
the inbox offers; a filter on the dossier's status is a semi-join on the open dossiers of the agency. Pages are
keyset pages (:mod:`engine.keyset`): a late page costs what the first does. "Due soon" is one timestamp computed on
the working calendar, so it filters in SQL and pages exactly.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from engine import calendar_functions, keyset
from engine.accounts import Principal
from engine.dossiers import STATUSES
from engine.errors import BadInput, NotFound
from engine.models import Account, Dossier, UserTask

PAGE = 50
COUNT_LIMIT = 1000  # beyond this many tasks the list says "more than 1,000" rather than count them all
DUE_SOON_HOURS = 8  # one working day
DUE_STATES = ("overdue", "due_soon", "on_time")
SORTS: dict[str, list[keyset.Key]] = {
    "due": [(UserTask.due_at, True), (UserTask.created_at, False), (UserTask.id, False)],
    "received": [(Dossier.received_at, True), (UserTask.id, False)],
    "procedure": [(UserTask.process_key, False), (UserTask.due_at, True), (UserTask.created_at, False),
                  (UserTask.id, False)],
    "code": [(UserTask.business_key, True), (UserTask.id, False)],  # the business key is the dossier code
}


def _in_groups(groups: frozenset[str]):
    """Tasks with one of ``groups`` among their candidate groups, read from the task's own comma-separated list: a
    test on the row being read, where a join on ``user_task_candidate`` makes PostgreSQL hash every task of the
    group for each page."""
    column = UserTask.candidate_groups
    tests = []
    for group in sorted(groups):
        tests += [column == group, column.startswith(group + ",", autoescape=True),
                  column.endswith("," + group, autoescape=True), column.contains("," + group + ",", autoescape=True)]
    return or_(*tests) if tests else false()


def _visible(principal: Principal, by_dossier: bool = False):
    """Tasks the principal may see: of their groups or assigned to them, and — for an officer of an agency —
    only in that agency's inbox. ``by_dossier``: the agency read from the (joined) dossier, which is the same, so
    that the agency's open dossiers may be walked in their received order by their partial index."""
    mine = or_(UserTask.assignee == principal.name, _in_groups(principal.groups))
    if principal.agency is None:
        return mine
    if by_dossier:
        return and_(Dossier.agency == principal.agency, Dossier.finished_at.is_(None), mine)
    return and_(UserTask.agency == principal.agency, mine)


def due_soon_until(now: dt.datetime) -> dt.datetime:
    """The last due moment that is "due soon" at ``now``: 8 working hours ahead — or, when that falls at a close of
    office hours, the next opening, since up to then the working time left is still 8 hours."""
    calendar = calendar_functions.calendar()
    return calendar.next_working_moment(calendar.add_working_hours(now, DUE_SOON_HOURS))


def _due_words(due: dt.datetime | None, now: dt.datetime, until: dt.datetime | None = None) -> tuple[str, str]:
    """(the state: on_time, due_soon, overdue, none; the time left in words)."""
    if due is None:
        return "none", "Không có hạn"
    if due <= now:
        late = calendar_functions.calendar().working_time_between(due, now).total_seconds() / 3600
        return "overdue", f"Quá hạn {late / 8:.1f} ngày làm việc" if late >= 8 else f"Quá hạn {late:.1f} giờ làm việc"
    left = calendar_functions.calendar().working_time_between(now, due).total_seconds() / 3600
    words = f"Còn {left / 8:.1f} ngày làm việc" if left >= 8 else f"Còn {left:.1f} giờ làm việc"
    return ("due_soon" if due <= (until or due_soon_until(now)) else "on_time"), words


def _filtered(stmt, principal: Principal, now: dt.datetime, process_key: str | None = None, status: int | None = None,
              due: str | None = None, assignee: str | None = None, code: str | None = None, by_dossier: bool = False):
    """``stmt`` narrowed to the principal's open tasks that pass the filters."""
    stmt = stmt.where(_visible(principal, by_dossier), UserTask.suspended.is_(False))
    if process_key:
        stmt = stmt.where(UserTask.process_key == process_key)
    if status is not None:
        if status not in STATUSES:
            raise BadInput(f"no dossier status {status} (1-10)")
        # a task's dossier is open; the partial index on open dossiers answers this for one agency
        dossiers = select(Dossier.instance_id).where(Dossier.status == status, Dossier.finished_at.is_(None))
        if principal.agency is not None:
            dossiers = dossiers.where(Dossier.agency == principal.agency)
        stmt = stmt.where(UserTask.instance_id.in_(dossiers))
    if due == "overdue":
        stmt = stmt.where(UserTask.due_at <= now)
    elif due == "due_soon":
        stmt = stmt.where(UserTask.due_at > now, UserTask.due_at <= due_soon_until(now))
    elif due == "on_time":
        stmt = stmt.where(or_(UserTask.due_at > due_soon_until(now), UserTask.due_at.is_(None)))
    elif due:
        raise BadInput(f"due must be one of {', '.join(DUE_STATES)}")
    if assignee == "me":
        stmt = stmt.where(UserTask.assignee == principal.name)
    elif assignee == "nobody":
        stmt = stmt.where(UserTask.assignee.is_(None))
    elif assignee:
        stmt = stmt.where(UserTask.assignee == assignee)
    if code and code.strip():
        stmt = stmt.where(UserTask.business_key.icontains(code.strip(), autoescape=True))
    return stmt


def count(session: Session, principal: Principal, now: dt.datetime | None = None, **filters: Any) -> tuple[int, bool]:
    """How many tasks pass the filters, up to :data:`COUNT_LIMIT`, and whether there are more than that."""
    ids = _filtered(select(UserTask.id), principal, now or dt.datetime.now(dt.timezone.utc), **filters)
    found = session.scalar(select(func.count()).select_from(ids.limit(COUNT_LIMIT + 1).subquery()))
    return min(found, COUNT_LIMIT), found > COUNT_LIMIT


def _keys_of(keys: list[keyset.Key], task: UserTask, dossier: Dossier | None) -> list[Any]:
    values = []
    for column, _ in keys:
        owner = dossier if column.class_ is Dossier else task
        values.append(getattr(owner, column.key) if owner is not None else None)
    return values


def tasks(session: Session, principal: Principal, *, process_key: str | None = None, status: int | None = None,
          due: str | None = None, assignee: str | None = None, code: str | None = None, sort: str = "due",
          descending: bool = False, after: str | None = None, before: str | None = None,
          now: dt.datetime | None = None, limit: int | None = None) -> dict[str, Any]:
    """One page of the principal's inbox.

    Filters: ``process_key``; the dossier's ``status`` (1-10); ``due``: ``overdue``, ``due_soon`` (within one working
    day) or ``on_time`` (later, or no due date); ``assignee``: ``me``, ``nobody`` or a colleague's name; ``code``:
    part of the dossier code. ``sort``: ``due`` (soonest first, the default), ``received``, ``procedure`` or
    ``code``, reversed by ``descending``. ``after`` / ``before``: the ``next`` / ``prev`` cursor of another page of
    the same order; ``limit`` tasks a page (:data:`PAGE`). Returns the items, the cursors of the pages either side
    (None at the ends) and the number of tasks that pass the filters (``total``, with ``more`` when there are over
    :data:`COUNT_LIMIT`)."""
    now, limit = now or dt.datetime.now(dt.timezone.utc), limit or PAGE
    if sort not in SORTS:
        raise BadInput(f"sort must be one of {', '.join(SORTS)}")
    filters = {"process_key": process_key, "status": status, "due": due, "assignee": assignee, "code": code}
    keys, label = SORTS[sort], f"{sort}:{'desc' if descending else 'asc'}"
    backwards = before is not None and after is None
    values = keyset.decode(label, after or before, len(keys)) if (after or before) else None
    walk = descending != backwards  # a page before this one is the page after it, walking the other way
    base = _filtered(select(UserTask, Dossier).outerjoin(Dossier, Dossier.instance_id == UserTask.instance_id),
                     principal, now, by_dossier=sort == "received", **filters)
    rows: list[Any] = []
    for bound in keyset.segments(keys, values, walk):
        stmt = base if bound is None else base.where(bound)
        if values is not None:
            stmt = stmt.where(keyset.after(keys, values, walk))
        rows += session.execute(stmt.order_by(*keyset.order_by(keys, walk)).limit(limit + 1 - len(rows))).all()
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    edge = [keyset.encode(label, _keys_of(keys, *row)) for row in (rows[:1] + rows[-1:])] if rows else []
    until = due_soon_until(now)
    # a first page that holds every task is its own count
    total, over = (len(rows), False) if values is None and not more else count(session, principal, now, **filters)
    return {"items": [_item(task, dossier, now, until) for task, dossier in rows],
            "next": edge[-1] if edge and (backwards or more) else None,
            "prev": edge[0] if edge and ((backwards and more) or (not backwards and values is not None)) else None,
            "total": total, "more": over}


def _item(task: UserTask, dossier: Dossier | None, now: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    state, words = _due_words(task.due_at, now, until)
    return {"id": task.id, "name": task.name or task.activity_id, "processKey": task.process_key,
            "dossierCode": dossier.code if dossier else task.business_key,
            "procedureName": dossier.procedure_name if dossier else None,
            "applicant": dossier.applicant_name if dossier else None,
            "status": dossier.status if dossier else None,
            "statusLabel": STATUSES.get(dossier.status) if dossier else None,
            "received": (dossier.received_at if dossier else task.created_at).isoformat(),
            "due": task.due_at.isoformat() if task.due_at else None, "dueState": state, "dueWords": words,
            "assignee": task.assignee, "agency": task.agency, "part": part_of(task)}


def part_of(task: UserTask) -> str | None:
    """In a few words, the item an instance of a multi-instance step is for ("Sở Xây dựng"), so that its rows tell
    apart in the list; None for other tasks."""
    if not task.local_variables:
        return None
    words = []
    for value in json.loads(task.local_variables).values():
        parts = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        words.extend(str(part) for part in parts if part not in (None, ""))
    text = ", ".join(words)
    return text if len(text) <= 80 else text[:79] + "…"


def colleagues(session: Session, principal: Principal) -> list[dict[str, str]]:
    """The officers whose tasks the principal may filter by: enabled people of their agency sharing a group."""
    stmt = select(Account).where(Account.disabled.is_(False), Account.is_service.is_(False),
                                 Account.name != principal.name).order_by(Account.name)
    if principal.agency is not None:
        stmt = stmt.where(Account.agency == principal.agency)
    return [{"name": a.name, "displayName": a.display_name or a.name} for a in session.scalars(stmt)
            if principal.groups & {g for g in a.groups.split(",") if g}]


def task_for(session: Session, principal: Principal, task_id: str) -> UserTask:
    """A task the principal may see; :class:`NotFound` for anything else (another agency's, another group's)."""
    row = session.scalars(select(UserTask).where(UserTask.id == task_id, _visible(principal))).first()
    if row is None:
        raise NotFound(f"no task {task_id} in your inbox")
    return row
