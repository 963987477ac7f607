"""Everything an officer reads on a task page, in one call: the dossier and its clock, the citizen's answers, the
documents with their signature checks, the payments, the registry profile, the history, the tracking card, the
comments — and who the task could be handed to (colleagues in its groups, other agencies)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import comments, queries, tracking_card, user_tasks
from engine.citizen_dossiers import all_documents, payments_of
from engine.models import Account, Dossier, ExternalTask, HistoryEvent, UserTask
from engine.office_models import Agency
from engine.specs import SPECS

_STORY = ("instance_started", "task_completed", "task_claimed", "task_unclaimed", "task_reassigned", "dossier_status",
          "dossier_forwarded", "supplement_allowed", "message_received", "dossier_extended")


def _parsed(session: Session, definition_id: str):
    return SPECS.get(session, SPECS.definition(session, definition_id))


def _start_form(session: Session, definition_id: str) -> dict | None:
    parsed = _parsed(session, definition_id)
    return parsed.forms.get(parsed.start_form_key) if parsed.start_form_key else None


def _is_file(prop: dict) -> bool:
    return (prop.get("x-ui") or {}).get("widget") == "file"


def _several_files(prop: dict) -> bool:
    """A field of several files (an array of paths), as the forms write it (webapp.portal.eform reads it alike)."""
    items = prop.get("items") or {}
    return prop.get("type") == "array" and items.get("type") != "object" and (_is_file(prop) or _is_file(items))


def _uploads(forms: list[dict], variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The files the process's forms asked for: a file field, every file of a field of several files (each with its
    own key, ``<field>-<n>``), or a list whose items hold a file (a supplement)."""
    out, seen = [], set()
    for form in forms:
        for name, prop in (form.get("properties") or {}).items():
            value, items = variables.get(name), prop.get("items") or {}
            if name in seen:
                continue
            if _is_file(prop) and isinstance(value, str) and value:
                out.append({"key": name, "title": prop.get("title") or name, "path": value})
            elif _several_files(prop) and isinstance(value, list):
                paths = [v for v in value if isinstance(v, str) and v]
                for i, path in enumerate(paths):
                    title = prop.get("title") or name
                    out.append({"key": f"{name}-{i}", "path": path,
                                "title": f"{title} – tệp {i + 1}/{len(paths)}" if len(paths) > 1 else title})
            elif isinstance(value, list) and isinstance(items.get("properties"), dict):
                file_fields = [n for n, p in items["properties"].items() if _is_file(p)]
                for i, item in enumerate(v for v in value if isinstance(v, dict)):
                    for field in file_fields:
                        if isinstance(item.get(field), str) and item[field]:
                            title = next((str(v) for k, v in item.items() if k != field and isinstance(v, str)), None)
                            out.append({"key": f"{name}-{i}-{field}", "title": title or prop.get("title") or name,
                                        "path": item[field]})
            seen.add(name)
    return out


def _documents(forms: list[dict], variables: dict[str, Any], issued: list[Any]) -> list[dict[str, Any]]:
    """The files of the dossier: what the citizen uploaded (with the application and with a supplement) and what
    was issued for it (``issued``: :func:`engine.citizen_dossiers.all_documents`)."""
    out = [{**u, "filename": Path(u["path"]).name, "source": "citizen"} for u in _uploads(forms, variables)]
    for doc in issued:
        if isinstance(doc, dict) and doc.get("path"):
            out.append({"key": doc.get("kind") or doc.get("filename"), "title": doc.get("title") or doc.get("filename"),
                        "filename": doc.get("filename") or Path(doc["path"]).name, "path": doc["path"],
                        "source": "issued"})
    return out


def _forms(session: Session, definition_id: str) -> list[dict]:
    """The definition's forms, the start form first."""
    parsed = _parsed(session, definition_id)
    start = parsed.forms.get(parsed.start_form_key) if parsed.start_form_key else None
    return ([start] if start else []) + [f for k, f in sorted(parsed.forms.items()) if f is not start and f]


def colleagues(session: Session, task: UserTask, agency: str | None, *leave_out: str | None) -> list[str]:
    """Enabled officers in one of the task's candidate groups and (when the dossier has one) its agency, but for
    those left out (the one who has the task, the one asking)."""
    groups = [g for g in task.candidate_groups.split(",") if g]
    stmt = select(Account).where(Account.disabled.is_(False), Account.is_service.is_(False)).order_by(Account.name)
    if agency:
        stmt = stmt.where(Account.agency == agency)
    return [a.name for a in session.scalars(stmt)
            if a.name not in leave_out and set(groups) & {g for g in a.groups.split(",") if g}]


def view(session: Session, task: UserTask, viewer: str | None = None) -> dict[str, Any]:
    """The task page's content for an open task the viewer has already been allowed to see."""
    detail = queries.instance_detail(session, task.instance_id)
    variables = detail.get("variables") or {}
    form = _start_form(session, detail["definitionId"])
    dossier = session.get(Dossier, task.instance_id)
    agency = dossier.agency if dossier is not None else None
    return {"dossier": detail.get("dossier"), "variables": variables, "startForm": form, "status": detail["status"],
            "taskVariables": queries.local_variables(task),
            "history": [h for h in detail["history"] if h["kind"] in _STORY],
            "trackingCard": tracking_card.tracking_card(session, task.instance_id),
            "comments": comments.listing(session, task.instance_id),
            "documents": _documents(_forms(session, detail["definitionId"]), variables,
                                    all_documents(session, dossier, variables)),
            "signatures": variables.get("signatures") or [],
            "payments": payments_of(session, dossier, variables) if dossier is not None else [],
            "registryProfile": variables.get("registry_profile"),
            "colleagues": colleagues(session, task, agency, task.assignee, viewer),
            "assigneeDisabled": user_tasks.assignee_disabled(session, task),
            "agencies": [(a.code, a.name) for a in session.scalars(
                select(Agency).where(Agency.disabled.is_(False), Agency.code != (agency or "")).order_by(Agency.code))]}


def document_path(session: Session, task: UserTask, key: str) -> str | None:
    """The stored file of one of the task's dossier documents, by its key (form field or document kind)."""
    detail = queries.instance_detail(session, task.instance_id)
    variables = detail.get("variables") or {}
    issued = all_documents(session, session.get(Dossier, task.instance_id), variables)
    docs = _documents(_forms(session, detail["definitionId"]), variables, issued)
    return next((d["path"] for d in docs if d["key"] == key), None)


_OUTCOMES = {"task_completed": "hoàn thành", "activity_completed": "hoàn thành", "activity_cancelled": "huỷ",
             "task_claimed": "nhận", "task_reassigned": "chuyển cho người khác", "task_unclaimed": "trả lại nhóm"}


def current_state(session: Session, task_id: str, agency: str | None) -> dict[str, Any] | None:
    """What became of a task another officer acted on: the last thing done to it, by whom and when, the dossier's
    status now and the steps it waits at — for an officer of the dossier's agency (``agency`` None: any)."""
    events = session.scalars(select(HistoryEvent).where(HistoryEvent.task_id == task_id,
                                                        HistoryEvent.activity_type == "userTask",
                                                        HistoryEvent.kind.in_(tuple(_OUTCOMES)))
                             .order_by(HistoryEvent.id.desc()).limit(5)).all()
    # an officer's own act (task_*) says more than the engine's note that the element ended (activity_*)
    event = next((e for e in events if e.kind.startswith("task_")), events[0] if events else None)
    if event is None:
        return None
    dossier = session.get(Dossier, event.instance_id)
    if agency is not None and (dossier is None or dossier.agency != agency):
        return None
    waiting = [t.name for t in session.scalars(select(UserTask).where(UserTask.instance_id == event.instance_id)
                                               .order_by(UserTask.created_at))]
    waiting += [t.activity_name or t.topic for t in session.scalars(
        select(ExternalTask).where(ExternalTask.instance_id == event.instance_id).order_by(ExternalTask.created_at))]
    what, by, reason = _OUTCOMES[event.kind], event.user_id, None
    if event.kind == "activity_cancelled":  # the engine's note has no user: who ended the instance, if someone did
        what, by, reason = _cancelled_by(session, event)
    return {"step": event.activity_name, "what": what, "by": by, "at": event.at, "reason": reason,
            "dossierCode": dossier.code if dossier else None, "status": dossier.status if dossier else None,
            "waitingAt": waiting}


def _cancelled_by(session: Session, event: HistoryEvent) -> tuple[str, str | None, str | None]:
    """(what happened, by whom, why) for a task cancelled: by an operator's termination of the instance (its
    ``instance_terminated`` event, written by the same command), or by the process itself (no one to name)."""
    ended = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == event.instance_id,
                                                       HistoryEvent.kind == "instance_terminated")
                            .order_by(HistoryEvent.id.desc()).limit(1)).first()
    if ended is None:
        return "huỷ", None, None
    details = json.loads(ended.details) if ended.details else {}
    return "huỷ vì hồ sơ bị kết thúc", ended.user_id, details.get("reason")
