"""The tracking card (Phiếu kiểm soát quá trình giải quyết hồ sơ, Form 06 of Circular 03/2025, Form 05 of
Circular 01/2018): every hand-over of a dossier — who gave it, who took it, when, and whether the step was done
before, on or after its time.

It is read from the instance's history, so it needs no table of its own: a user task's start is the moment the
dossier reached its receiver, its completion (with the acting officer and the task's due date, recorded by
:func:`engine.user_tasks.complete`) the moment it was handed on. Reassignments and forwarding to another agency
are hand-overs too.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import calendar_functions
from engine.models import Dossier, HistoryEvent, UserTask

EARLY, ON_TIME, LATE, OPEN = "truoc_han", "dung_han", "qua_han", "dang_xu_ly"
LABELS = {EARLY: "Trước hạn", ON_TIME: "Đúng hạn", LATE: "Quá hạn", OPEN: "Đang xử lý"}
CITIZEN = "Công dân (nộp hồ sơ)"
_KINDS = ("instance_started", "activity_started", "task_completed", "task_reassigned", "dossier_forwarded")


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def judge(done_at: dt.datetime | None, due_at: dt.datetime | None) -> str:
    """Trước hạn (a whole working day or more to spare), Đúng hạn (by the due time) or Quá hạn; open while not done."""
    if done_at is None:
        return OPEN
    if due_at is None or done_at > due_at:
        return ON_TIME if due_at is None else LATE
    spare = calendar_functions.calendar().working_time_between(done_at, due_at)
    return EARLY if spare >= dt.timedelta(hours=8) else ON_TIME


def tracking_card(session: Session, instance_id: str) -> list[dict[str, Any]]:
    """The hand-overs of a dossier, oldest first: step, sender, receiver, received at, handed on at, due, result."""
    dossier = session.get(Dossier, instance_id)
    events = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                        HistoryEvent.kind.in_(_KINDS)).order_by(HistoryEvent.id))
    open_tasks = {t.id: t for t in session.scalars(select(UserTask).where(UserTask.instance_id == instance_id))}
    rows: list[dict[str, Any]] = []
    by_task: dict[str, dict[str, Any]] = {}
    sender = CITIZEN
    for event in events:
        details = json.loads(event.details) if event.details else {}
        if event.kind == "activity_started" and event.activity_type == "userTask" and event.task_id:
            row = {"step": event.activity_name, "sender": sender, "receiver": None, "receivedAt": event.at,
                   "handedOnAt": None, "dueAt": None, "note": None}
            rows.append(row)
            by_task[event.task_id] = row
        elif event.kind == "task_completed" and event.task_id in by_task:
            row = by_task[event.task_id]
            row.update(receiver=event.user_id, handedOnAt=event.at, dueAt=_parse(details.get("due")))
            sender = event.user_id or sender
        elif event.kind == "task_reassigned":
            rows.append({"step": event.activity_name, "sender": details.get("from") or event.user_id,
                         "receiver": details.get("to"), "receivedAt": event.at, "handedOnAt": event.at,
                         "dueAt": None, "note": f"Chuyển người xử lý: {details.get('reason', '')}"})
        elif event.kind == "dossier_forwarded":
            rows.append({"step": "Chuyển liên thông", "sender": f"{event.user_id} ({details.get('from') or '—'})",
                         "receiver": details.get("to"), "receivedAt": event.at, "handedOnAt": event.at,
                         "dueAt": None, "note": details.get("reason")})
    for task_id, row in by_task.items():
        if row["handedOnAt"] is None:
            task = open_tasks.get(task_id)
            if task is None:
                row["note"] = "Đã huỷ"  # the step was cancelled (withdrawal, another path) and never handed on
                continue
            row["receiver"] = task.assignee or ", ".join(g for g in task.candidate_groups.split(",") if g)
            row["dueAt"] = task.due_at
    fallback_due = dossier.extended_due_at or dossier.due_at if dossier is not None else None
    for row in rows:
        if row["note"] == "Đã huỷ":
            row["result"] = None
            continue
        row["result"] = judge(row["handedOnAt"], row["dueAt"] or fallback_due) if row["step"] else None
        row["resultLabel"] = LABELS.get(row["result"]) if row["result"] else None
    return rows
