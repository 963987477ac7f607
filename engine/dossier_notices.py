"""Telling citizens about every change of their dossier's status: each change writes a notice row in the same
transaction (the outbox), and a sender delivers the due ones afterwards — claimed with ``SKIP LOCKED`` so that
several schedulers never send one twice, retried with backoff when a channel is down, never lost."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import dossiers
from engine.citizen_models import DossierNotice
from engine.models import ProcessInstance

MAX_ATTEMPTS = 10


def record(session: Session, instance_id: str, code: str | None, status: int, at: dt.datetime,
           note: str | None = None, batch=None) -> None:
    """A status change to announce (called where the status changes, in its transaction), or — with a ``note`` —
    another change the citizen should hear of at the same status (e.g. forwarding to another agency). Written
    with the command's write batch if one is given (engine.write_batch)."""
    if batch is not None:
        batch.insert(DossierNotice, instance_id=instance_id, code=code, status=status, at=at, attempts=0, note=note)
    else:
        session.add(DossierNotice(instance_id=instance_id, code=code, status=status, at=at, attempts=0, note=note))


def claim(session: Session, now: dt.datetime, limit: int = 20) -> list[DossierNotice]:
    """Notices due for sending, oldest first, locked for this sender."""
    return list(session.scalars(select(DossierNotice).where(
        DossierNotice.sent_at.is_(None),
        or_(DossierNotice.next_attempt_at.is_(None), DossierNotice.next_attempt_at <= now))
        .order_by(DossierNotice.id).limit(limit).with_for_update(skip_locked=True)))


def variables(session: Session, notice: DossierNotice) -> dict[str, Any]:
    """What a message about the notice needs: the dossier's own variables and the status in words."""
    row = session.get(ProcessInstance, notice.instance_id)
    known = json.loads(row.variables) if row is not None and row.variables else {}
    return {**{k: known[k] for k in ("applicant_name", "applicant_email", "procedure_name", "zalo_user_id")
               if k in known},
            "dossier_code": notice.code or known.get("dossier_code") or "", "status": notice.status,
            "status_label": dossiers.STATUSES.get(notice.status, str(notice.status)), "status_at": notice.at.isoformat(),
            **({"status_note": notice.note} if notice.note else {})}


def sent(notice: DossierNotice, now: dt.datetime) -> None:
    """Delivered."""
    notice.sent_at, notice.attempts, notice.last_error = now, notice.attempts + 1, None


def failed(notice: DossierNotice, now: dt.datetime, error: str) -> None:
    """Not delivered this time: try again later (1, 2, 4 … minutes, at most 6 hours); after the last attempt the
    notice is closed with its error kept."""
    notice.attempts += 1
    notice.last_error = error[:2000]
    if notice.attempts >= MAX_ATTEMPTS:
        notice.sent_at = now
        notice.last_error = f"abandoned after {notice.attempts} attempts: {notice.last_error}"
        return
    notice.next_attempt_at = now + dt.timedelta(minutes=min(2 ** (notice.attempts - 1), 360))
