"""Asking a leader for one more supplement request, and the leaders' list of such requests.

A dossier may be asked for a supplement once (engine.dossier_actions); a second request needs a leader's permission.
The desk officer, refused, asks for it with a reason (a history event); the leaders of the dossier's agency find the
open requests on their inbox and allow (or leave) each one.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import dossier_actions, runtime
from engine.errors import Conflict, NotFound
from engine.models import Dossier, HistoryEvent
from engine.runtime import Actor

REQUESTED = "supplement_permission_requested"
ALLOWED = "supplement_allowed"


def ask(session: Session, instance_id: str, actor: Actor, reason: str) -> Dossier:
    """The desk officer asks the leaders to allow one more supplement request on a dossier at its allowance."""
    reason = dossier_actions.reason_given(reason)
    dossier = session.get(Dossier, instance_id, with_for_update=True, populate_existing=True)
    if dossier is None or dossier.finished_at is not None:
        raise NotFound(f"no open dossier for instance {instance_id}")
    if dossier.supplement_requests < dossier.supplements_allowed:
        raise Conflict(f"Hồ sơ {dossier.code} vẫn còn được yêu cầu bổ sung: không cần đề nghị lãnh đạo")
    if _open_requests(session, [dossier]):
        raise Conflict(f"Đề nghị cho hồ sơ {dossier.code} đã được gửi và đang chờ lãnh đạo")
    session.add(HistoryEvent(instance_id=instance_id, at=runtime.now(), kind=REQUESTED, user_id=actor.user_id,
                             details=json.dumps({"reason": reason}, ensure_ascii=False)))
    return dossier


def waiting(session: Session, agency: str | None) -> list[dict[str, Any]]:
    """The open requests of an agency's dossiers, oldest first: code, instance, who asked, why and when."""
    if agency is None:
        return []
    at_limit = session.scalars(select(Dossier).where(
        Dossier.agency == agency, Dossier.finished_at.is_(None),
        Dossier.supplement_requests >= Dossier.supplements_allowed, Dossier.supplement_requests > 0)).all()
    found = _open_requests(session, at_limit)
    return sorted(({"code": d.code, "instanceId": d.instance_id, "requestedBy": event.user_id, "at": event.at,
                    "reason": json.loads(event.details or "{}").get("reason", "")}
                   for d in at_limit if (event := found.get(d.instance_id)) is not None), key=lambda r: r["at"])


def allow(session: Session, instance_id: str, agency: str | None, actor: Actor, reason: str,
          leader_group: str) -> Dossier:
    """A leader of the dossier's agency allows one more supplement request; another agency's dossier is not found."""
    dossier = session.get(Dossier, instance_id)
    if dossier is None or (agency is not None and dossier.agency != agency):
        raise NotFound(f"no dossier for instance {instance_id}")
    return dossier_actions.allow_another_supplement(session, instance_id, actor, reason, leader_group)


def _open_requests(session: Session, dossiers: list[Dossier]) -> dict[str, HistoryEvent]:
    """The latest request of each dossier that no permission followed."""
    if not dossiers:
        return {}
    events = session.scalars(select(HistoryEvent).where(
        HistoryEvent.instance_id.in_([d.instance_id for d in dossiers]), HistoryEvent.kind.in_((REQUESTED, ALLOWED)))
        .order_by(HistoryEvent.at, HistoryEvent.id)).all()
    latest: dict[str, HistoryEvent] = {}
    for event in events:
        latest[event.instance_id] = event
    return {iid: e for iid, e in latest.items() if e.kind == REQUESTED}
