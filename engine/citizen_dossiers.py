"""What a citizen may see of dossiers: their own list, and one dossier's story — only with the dossier code
and the owner's identification number together, so that codes cannot be enumerated."""
from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import dossiers, payments
from engine.errors import NotFound
from engine.citizen_models import DossierRating
from engine.models import Dossier, HistoryEvent, PaymentOrder, ProcessInstance
from engine.runtime import Actor
from engine.specs import SPECS

NOT_FOUND = "no dossier matches this code and identification number"


def _summary(d: Dossier, now: dt.datetime) -> dict[str, Any]:
    clock = dossiers.as_dict(d, now)
    return {"code": d.code, "procedureCode": d.procedure_code, "procedureName": d.procedure_name,
            "status": d.status, "statusLabel": dossiers.STATUSES.get(d.status), "receivedAt": clock["receivedAt"],
            "dueAt": clock["extendedDueAt"] or clock["dueAt"], "finishedAt": clock["finishedAt"],
            "deliveredAt": clock["deliveredAt"], "paused": d.paused_at is not None, "overdue": clock["overdue"]}


def owned(session: Session, owner_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The dossiers a citizen applied for, newest first."""
    now = dt.datetime.now(dt.timezone.utc)
    rows = session.scalars(select(Dossier).where(Dossier.owner_id == owner_id)
                           .order_by(Dossier.submitted_at.desc(), Dossier.instance_id).limit(limit))
    return [_summary(d, now) for d in rows]


def _timeline(session: Session, d: Dossier) -> list[dict[str, Any]]:
    events = [{"at": d.submitted_at.isoformat(), "text": "Nộp hồ sơ"}]
    rows = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == d.instance_id,
                                                      HistoryEvent.kind == "dossier_status")
                           .order_by(HistoryEvent.id))
    for row in rows:
        details = json.loads(row.details or "{}")
        events.append({"at": details.get("at") or row.at.isoformat(), "text": details.get("label") or "",
                       "status": details.get("status")})
    for pause in json.loads(d.pauses or "[]"):
        events.append({"at": pause["to"], "text": "Đã bổ sung hồ sơ; tiếp tục giải quyết"})
    if d.delivered_at is not None:
        events.append({"at": d.delivered_at.isoformat(), "text": "Đã nhận kết quả"})
    return sorted(events, key=lambda e: e["at"])


def story(session: Session, code: str, owner_id: str) -> dict[str, Any]:
    """One dossier for its owner: the summary, the timeline and — while a supplement is asked for — exactly
    what is missing. :class:`NotFound` (the same for a wrong code and a wrong number) otherwise."""
    d = session.scalars(select(Dossier).where(Dossier.code == code).limit(1)).first()
    # compare even when there is no dossier, so that a missing code and a wrong number take the same path
    if not hmac.compare_digest((d.owner_id if d is not None and d.owner_id else "-" * 12).encode(),
                               (owner_id or "").encode()) or d is None:
        raise NotFound(NOT_FOUND)
    out = _summary(d, dt.datetime.now(dt.timezone.utc))
    out["timeline"] = _timeline(session, d)
    out["missing"] = []
    row = session.get(ProcessInstance, d.instance_id)
    variables = json.loads(row.variables) if row is not None and row.variables else {}
    if d.status == 5:
        out["missing"] = [str(x) for x in variables.get("giay_to_thieu") or []]
        out["supplementReason"] = variables.get("ly_do_bo_sung")
    out["payments"] = payments_of(session, d, variables)
    if "signature_valid" in variables:
        out["signature"] = {"valid": bool(variables["signature_valid"]),
                            "reason": variables.get("signature_reason_vi") or ""}
    out["rated"] = session.get(DossierRating, d.instance_id) is not None
    out["result"] = _result_file(session, row, variables) if d.status == 10 else None
    receipt = variables.get("receipt_document")
    out["receipt"] = receipt.get("path") if isinstance(receipt, dict) and d.status not in (1, 3) else None
    out["documents"] = issued_documents({"dossier_documents": all_documents(session, d, variables)})
    out["mayWithdraw"] = may_withdraw(session, d)
    return out


CITIZEN_DOCUMENTS = ("mau-02", "mau-03", "mau-04", "mau-05")  # Form 01 and the result have links of their own


def issued_documents(variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The notices the procedure issued to the citizen (Forms 02-05), as ``{kind, title, path}``."""
    return [{"kind": doc["kind"], "title": doc.get("title") or doc["kind"], "path": doc["path"]}
            for doc in variables.get("dossier_documents") or []
            if isinstance(doc, dict) and doc.get("kind") in CITIZEN_DOCUMENTS and doc.get("path")]


def linked_documents(session: Session, d: Dossier) -> list[Any]:
    """The ``dossier_documents`` that the built-in apology process issued for the dossier (its Form 04): that
    process runs under the dossier's code as business key and names the dossier's instance in
    ``dossier_instance_id``; both must match."""
    if not d.code:
        return []
    rows = session.scalars(select(ProcessInstance.variables).where(
        ProcessInstance.business_key == d.code, ProcessInstance.process_key == dossiers.APOLOGY_PROCESS,
        ProcessInstance.id != d.instance_id).order_by(ProcessInstance.started_at))
    found: list[Any] = []
    for text in rows:
        variables = json.loads(text) if text else {}
        issued = variables.get("dossier_documents")
        if variables.get("dossier_instance_id") == d.instance_id and isinstance(issued, list):
            found.extend(issued)
    return found


def all_documents(session: Session, d: Dossier | None, variables: dict[str, Any]) -> list[Any]:
    """The documents issued for a dossier: its own instance's ``dossier_documents`` (``variables``), then the
    linked ones (:func:`linked_documents`)."""
    own = variables.get("dossier_documents")
    return [*(own if isinstance(own, list) else []), *(linked_documents(session, d) if d is not None else [])]


def _result_file(session: Session, row: ProcessInstance | None, variables: dict[str, Any]) -> str | None:
    """The delivered result's file: the variable the procedure names (``result_variable``), else the result
    document the ``document`` worker issued."""
    if row is None:
        return None
    procedure = SPECS.get(session, SPECS.definition(session, row.definition_id)).procedure or {}
    value = variables.get(procedure.get("result_variable") or "")
    if isinstance(value, str) and value:
        return value
    issued = variables.get("result_document")
    return issued.get("path") if isinstance(issued, dict) and issued.get("path") else None


PAYMENT_LABELS = {"pending": "Chờ thanh toán", "paid": "Đã thanh toán", "failed": "Thanh toán không thành công"}


def payments_of(session: Session, d: Dossier, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The dossier's payments as the ledger knows them (settled by the gateway's signed callback, whether or not
    the citizen came back from the gateway), and the one still waiting, if any."""
    settled = session.scalars(select(PaymentOrder).where(PaymentOrder.instance_id == d.instance_id)
                              .order_by(PaymentOrder.created_at))
    out = [{"txnRef": p.txn_ref, "amountVnd": p.amount_vnd, "status": p.status, "label": PAYMENT_LABELS.get(p.status),
            "paidAt": p.paid_at.isoformat() if p.paid_at else None} for p in settled]
    waiting = payments.find(session, variables["payment_txn_ref"]) if variables.get("payment_txn_ref") else None
    if waiting is not None and waiting.status == "pending" and d.status == 6:
        out.append({"txnRef": waiting.txn_ref, "amountVnd": waiting.amount_vnd, "status": "pending",
                    "label": PAYMENT_LABELS["pending"], "paidAt": None})
    return out


CITIZEN_GROUP = "cong-dan"


def owned_dossier(session: Session, code: str, owner_id: str) -> Dossier:
    """The dossier with this code if ``owner_id`` applied for it; :class:`NotFound` otherwise."""
    d = session.scalars(select(Dossier).where(Dossier.code == code).limit(1)).first()
    if d is None or not d.owner_id or not hmac.compare_digest(d.owner_id.encode(), (owner_id or "").encode()):
        raise NotFound(NOT_FOUND)
    return d


def citizen_task(session: Session, code: str, owner_id: str) -> dict[str, Any] | None:
    """The step of the owner's dossier that waits for the citizen (a supplement), or None."""
    from engine import queries
    d = owned_dossier(session, code, owner_id)
    return next((t for t in queries.user_tasks(session, instance_id=d.instance_id, limit=20)
                 if CITIZEN_GROUP in t["candidateGroups"]), None)


def answer(session: Session, code: str, owner_id: str, variables: dict[str, Any]) -> None:
    """Complete the citizen's step of their own dossier (checked against the step's form)."""
    from engine import user_tasks
    task = citizen_task(session, code, owner_id)
    if task is None:
        raise NotFound("the dossier does not wait for the citizen")
    user_tasks.complete(session, task["id"], Actor(owner_id, frozenset({CITIZEN_GROUP})), variables)


WITHDRAWN = "dossier_withdrawn"  # the message a procedure's withdrawal event subprocess starts on
WITHDRAW_REASON_MAX = 500


def may_withdraw(session: Session, d: Dossier) -> bool:
    """Whether the citizen may still withdraw the dossier: it is not finished, has no result yet (status below 9)
    and its procedure listens for the withdrawal."""
    from engine import messages
    return (d.finished_at is None and (d.status or 0) < 9
            and bool(messages.waiting_instances(session, WITHDRAWN, instance_id=d.instance_id)))


def withdraw(session: Session, code: str, owner_id: str, reason: str | None = None) -> None:
    """Withdraw the owner's dossier (Decree 61: a citizen may withdraw before the result): the procedure's
    withdrawal path runs, the citizen is told and the dossier ends with status 7. :class:`Conflict` when it can no
    longer be withdrawn."""
    from engine import messages
    from engine.errors import BadInput, Conflict
    d = owned_dossier(session, code, owner_id)
    reason = (reason or "").strip()
    if len(reason) > WITHDRAW_REASON_MAX:
        raise BadInput(f"the reason is longer than {WITHDRAW_REASON_MAX} characters")
    if not may_withdraw(session, d):
        raise Conflict("the dossier can no longer be withdrawn")
    messages.correlate(session, WITHDRAWN, Actor(owner_id, frozenset({CITIZEN_GROUP})), instance_id=d.instance_id,
                       variables={"ly_do_rut_ho_so": reason} if reason else {})
