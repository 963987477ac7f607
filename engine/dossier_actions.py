"""What officers do to a dossier beyond completing its tasks: forward it to another agency (liên thông), and —
for a leader — allow one more supplement request than the one-stop rule's single one.

The one-supplement rule (Decree 61/2018 as amended by Decree 107/2021, Art. 18: the desk lists every missing item
at once) is declared in the intake form: ``"x-motcua-supplement-request": {"field": "quyet_dinh", "value":
"bo_sung"}`` marks the answer that requests a supplement. :func:`count_supplement_request` is called when such a
task is completed and refuses a second request until a leader allows it.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from engine import audit, dossier_notices, runtime
from engine.errors import BadInput, Forbidden, NotFound, SupplementLimitReached
from engine.models import Dossier, HistoryEvent, UserTask
from engine.office_models import Agency
from engine.runtime import Actor

SUPPLEMENT_MARK = "x-motcua-supplement-request"
MIN_REASON = 5


def _history(session: Session, instance_id: str, kind: str, user_id: str, **details: Any) -> None:
    session.execute(insert(HistoryEvent), [dict(instance_id=instance_id, at=runtime.now(), kind=kind, user_id=user_id,
                                                details=json.dumps(details, ensure_ascii=False))])


def reason_given(reason: str | None) -> str:
    """The reason an officer gave, trimmed; :class:`BadInput` when it is missing or too short."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise BadInput("Cần ghi lý do (ít nhất 5 ký tự)")
    return reason[:2000]


def _dossier(session: Session, instance_id: str) -> Dossier:
    dossier = session.get(Dossier, instance_id, with_for_update=True, populate_existing=True)
    if dossier is None:
        raise NotFound(f"no dossier for instance {instance_id}")
    return dossier


def requests_supplement(form: dict | None, variables: dict[str, Any]) -> bool:
    """Whether these answers to this form request a supplement (the form marks which answer does)."""
    mark = (form or {}).get(SUPPLEMENT_MARK)
    return isinstance(mark, dict) and variables.get(mark.get("field")) == mark.get("value")


def count_supplement_request(session: Session, instance_id: str) -> None:
    """Count a supplement request on the dossier, or refuse it when the dossier has had its allowance."""
    dossier = session.get(Dossier, instance_id)
    if dossier is None:
        return  # an instance that is not a dossier has no one-stop rule
    if dossier.supplement_requests >= dossier.supplements_allowed:
        raise SupplementLimitReached(
            f"Hồ sơ {dossier.code} đã được yêu cầu bổ sung {dossier.supplement_requests} lần. Theo quy định chỉ "
            "yêu cầu bổ sung một lần (liệt kê đủ mọi giấy tờ còn thiếu); cần lãnh đạo cho phép trước khi yêu cầu thêm.")
    dossier.supplement_requests += 1


def allow_another_supplement(session: Session, instance_id: str, actor: Actor, reason: str,
                             leader_group: str) -> Dossier:
    """A leader allows one more supplement request on a dossier, with the reason on record (history and audit)."""
    if not actor.operator and leader_group not in actor.groups:
        raise Forbidden("Chỉ lãnh đạo mới được cho phép yêu cầu bổ sung thêm")
    reason = reason_given(reason)
    dossier = _dossier(session, instance_id)
    dossier.supplements_allowed += 1
    _history(session, instance_id, "supplement_allowed", actor.user_id, reason=reason,
             allowed=dossier.supplements_allowed)
    audit.record(session, actor.user_id, "supplement_allowed", "dossier", instance_id, reason, code=dossier.code,
                 allowed=dossier.supplements_allowed)
    return dossier


def forward(session: Session, instance_id: str, to_agency: str, actor: Actor, reason: str) -> Dossier:
    """Hand a dossier to another agency (liên thông): its open tasks leave this agency's inboxes, unassigned,
    for the other agency's groups; the hand-over is on the tracking card and in the audit log."""
    reason = reason_given(reason)
    agency = session.get(Agency, to_agency or "")
    if agency is None or agency.disabled:
        raise BadInput(f"Không có cơ quan mã '{to_agency}' để chuyển hồ sơ")
    dossier = _dossier(session, instance_id)
    if dossier.agency == agency.code:
        raise BadInput("Hồ sơ đang thuộc cơ quan này")
    before = dossier.agency
    dossier.agency = agency.code
    session.execute(update(UserTask).where(UserTask.instance_id == instance_id).values(assignee=None,
                                                                                      agency=agency.code))
    _history(session, instance_id, "dossier_forwarded", actor.user_id, **{"from": before, "to": agency.code,
                                                                         "toName": agency.name, "reason": reason})
    dossier_notices.record(session, instance_id, dossier.code, dossier.status, runtime.now(),
                           note=f"Hồ sơ được chuyển liên thông đến {agency.name} để giải quyết. Lý do: {reason}")
    audit.record(session, actor.user_id, "dossier_forwarded", "dossier", instance_id, reason, code=dossier.code,
                 **{"from": before, "to": agency.code})
    return dossier
