"""Everything an officer reads on a task page, in one call: the dossier and its clock, the citizen's answers, the
documents with their signature checks, the payments, the registry profile, the history, the tracking card, the
comments — and who the task could be handed to (colleagues in its groups, other agencies)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import comments, queries, tracking_card
from engine.citizen_dossiers import payments_of
from engine.models import Account, Dossier, UserTask
from engine.office_models import Agency
from engine.specs import SPECS

_STORY = ("instance_started", "task_completed", "task_claimed", "task_unclaimed", "task_reassigned", "dossier_status",
          "dossier_forwarded", "supplement_allowed", "message_received")


def _start_form(session: Session, definition_id: str) -> dict | None:
    parsed = SPECS.get(session, SPECS.definition(session, definition_id))
    return parsed.forms.get(parsed.start_form_key) if parsed.start_form_key else None


def _documents(form: dict | None, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The files of the dossier: what the citizen uploaded (with the signature check of the signed one) and what
    the procedure issued (``dossier_documents``)."""
    out = []
    for name, prop in ((form or {}).get("properties") or {}).items():
        value = variables.get(name)
        widget = (prop.get("x-ui") or {}).get("widget")
        if widget == "file" and isinstance(value, str) and value:
            out.append({"key": name, "title": prop.get("title") or name, "filename": Path(value).name, "path": value,
                        "source": "citizen"})
    for doc in variables.get("dossier_documents") or []:
        if isinstance(doc, dict) and doc.get("path"):
            out.append({"key": doc.get("kind") or doc.get("filename"), "title": doc.get("title") or doc.get("filename"),
                        "filename": doc.get("filename") or Path(doc["path"]).name, "path": doc["path"],
                        "source": "issued"})
    return out


def colleagues(session: Session, task: UserTask, agency: str | None, except_name: str | None) -> list[str]:
    """Enabled officers in one of the task's candidate groups and (when the dossier has one) its agency."""
    groups = [g for g in task.candidate_groups.split(",") if g]
    stmt = select(Account).where(Account.disabled.is_(False), Account.is_service.is_(False)).order_by(Account.name)
    if agency:
        stmt = stmt.where(Account.agency == agency)
    return [a.name for a in session.scalars(stmt)
            if a.name != except_name and set(groups) & {g for g in a.groups.split(",") if g}]


def view(session: Session, task: UserTask) -> dict[str, Any]:
    """The task page's content for an open task the caller has already been allowed to see."""
    detail = queries.instance_detail(session, task.instance_id)
    variables = detail.get("variables") or {}
    form = _start_form(session, detail["definitionId"])
    dossier = session.get(Dossier, task.instance_id)
    agency = dossier.agency if dossier is not None else None
    return {"dossier": detail.get("dossier"), "variables": variables, "startForm": form, "status": detail["status"],
            "history": [h for h in detail["history"] if h["kind"] in _STORY],
            "trackingCard": tracking_card.tracking_card(session, task.instance_id),
            "comments": comments.listing(session, task.instance_id),
            "documents": _documents(form, variables),
            "signatures": variables.get("signatures") or [],
            "payments": payments_of(session, dossier, variables) if dossier is not None else [],
            "registryProfile": variables.get("registry_profile"),
            "colleagues": colleagues(session, task, agency, task.assignee),
            "agencies": [(a.code, a.name) for a in session.scalars(
                select(Agency).where(Agency.disabled.is_(False), Agency.code != (agency or "")).order_by(Agency.code))]}


def document_path(session: Session, task: UserTask, key: str) -> str | None:
    """The stored file of one of the task's dossier documents, by its key (form field or document kind)."""
    detail = queries.instance_detail(session, task.instance_id)
    docs = _documents(_start_form(session, detail["definitionId"]), detail.get("variables") or {})
    return next((d["path"] for d in docs if d["key"] == key), None)
