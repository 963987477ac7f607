"""The dossier clock: received, due, paused, finished — per the procedure's catalogue entry.

When an instance of a procedure whose ``procedure.toml`` has a ``deadline`` starts, its dossier is
received (online: at once; the instance's ``channel`` variable says ``online`` or ``counter``) and its
due moment computed on the working calendar: ``{unit = "working_days" | "working_hours" | "days",
online = N, counter = M}``. ``cutoff = "15:00"`` makes a dossier received after that time count from the
next working morning. While an element marked ``dossier_clock = pause`` is active (a supplement request),
the clock stops; on resuming, ``clock = "pause"`` (default) moves the due moment by the working time
paused, ``clock = "restart"`` counts the whole deadline again from the resumption. ``warn_hours`` (4 by
default) working hours before the due moment the scheduler sends the instance ``dossier_due_soon``.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from engine import calendar_functions
from engine.errors import BadInput
from engine.models import Dossier

UNITS = ("working_days", "working_hours", "days")
# The national dossier statuses (DVCQG catalogue; reference/one-stop-domain.md §2).
STATUSES = {1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
            5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
            8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả"}
DUE_SOON = "dossier_due_soon"
# started by the scheduler for a dossier whose own process does not catch DUE_SOON (processes/dossier-apology)
APOLOGY_PROCESS = "dossier_apology"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
# Decision 766: processing ends (NgayKetThucXuLy) at the first of these; 6 asks the citizen to pay a fee
END_STATUSES = frozenset({3, 7, 8, 9, 10})
FEE_STATUS = 6


def _deadline(procedure: dict, channel: str) -> tuple[str, float]:
    deadline = procedure.get("deadline")
    if not isinstance(deadline, dict) or deadline.get("unit") not in UNITS:
        raise BadInput(f"procedure {procedure.get('code')}: deadline needs unit = one of {', '.join(UNITS)}")
    amount = deadline.get(channel, deadline.get("online"))
    if not isinstance(amount, (int, float)) or amount <= 0:
        raise BadInput(f"procedure {procedure.get('code')}: no positive deadline for the {channel} channel")
    return deadline["unit"], float(amount)


def add(unit: str, amount: float, start: dt.datetime) -> dt.datetime:
    """``start`` plus a deadline in its unit, on the working calendar."""
    calendar = calendar_functions.calendar()
    if unit == "working_days":
        return calendar.add_working_days(start, amount)
    if unit == "working_hours":
        return calendar.add_working_hours(start, amount)
    return start + dt.timedelta(days=amount)


def counting_from(procedure: dict, received: dt.datetime) -> dt.datetime:
    """When the clock starts: at receipt, or the next working morning if received after the cut-off."""
    cutoff = (procedure.get("deadline") or {}).get("cutoff")
    if not cutoff:
        return received
    local = received.astimezone(VIETNAM)
    hour, minute = (int(x) for x in str(cutoff).split(":"))
    if (local.hour, local.minute) < (hour, minute):
        return received
    next_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0, 0), VIETNAM)
    return calendar_functions.calendar().next_working_moment(next_day)


def _owner(variables: dict[str, Any]) -> str | None:
    """The applicant's 12-digit identification number, who may follow the dossier."""
    number = str(variables.get("citizen_id") or "")
    return number if len(number) == 12 and number.isdigit() else None


def _applicant(variables: dict[str, Any]) -> str | None:
    name = variables.get("applicant_name") or variables.get("full_name")
    return str(name).strip()[:200] or None if name else None


def receive(session: Session, instance_id: str, code: str | None, procedure: dict, variables: dict[str, Any],
            at: dt.datetime) -> Dossier | None:
    """The dossier of a new instance, its clock open (None if the procedure has no deadline); the caller writes
    it (engine.instances.start, with the instance's write batch)."""
    if not procedure.get("deadline"):
        return None
    channel = variables.get("channel") if variables.get("channel") in ("online", "counter") else "online"
    unit, amount = _deadline(procedure, channel)
    rule = (procedure.get("deadline") or {}).get("clock", "pause")
    dossier = Dossier(instance_id=instance_id, code=code, procedure_code=procedure.get("code"), channel=channel,
                      deadline_unit=unit, deadline_amount=amount, clock_rule=rule if rule in ("pause", "restart")
                      else "pause", submitted_at=at, received_at=at,
                      due_at=add(unit, amount, counting_from(procedure, at)), pauses="[]",
                      warn_hours=float((procedure.get("deadline") or {}).get("warn_hours", 4)), status=1, status_at=at,
                      owner_id=_owner(variables), procedure_name=procedure.get("name"),
                      agency=procedure.get("agency"), applicant_name=_applicant(variables))
    return dossier  # the instance's first tasks were projected with its agency (projections._dossier_agency)


def pause(session: Session, instance_id: str, at: dt.datetime) -> None:
    """Stop the clock (a supplement was requested)."""
    dossier = session.get(Dossier, instance_id)
    if dossier is not None and dossier.paused_at is None and dossier.finished_at is None:
        dossier.paused_at = at


def resume(session: Session, instance_id: str, at: dt.datetime) -> None:
    """Start the clock again and move the due moment (by the working time paused, or from scratch)."""
    dossier = session.get(Dossier, instance_id)
    if dossier is None or dossier.paused_at is None:
        return
    calendar = calendar_functions.calendar()
    if dossier.clock_rule == "restart":
        dossier.due_at = add(dossier.deadline_unit, dossier.deadline_amount, at)
    elif dossier.deadline_unit == "days":
        dossier.due_at = dossier.due_at + (at - dossier.paused_at)
    else:
        paused = calendar.working_time_between(dossier.paused_at, at)
        if paused > dt.timedelta(0):  # adding nothing would move a due moment at a close (17:00) to the next opening
            dossier.due_at = calendar.add_working_hours(dossier.due_at, paused.total_seconds() / 3600)
    dossier.pauses = json.dumps(json.loads(dossier.pauses) + [{"from": dossier.paused_at.isoformat(),
                                                               "to": at.isoformat()}])
    dossier.paused_at = None


def set_status(session: Session, instance_id: str, status: int, at: dt.datetime) -> bool:
    """Move the dossier to a status (1-10); True if it changed."""
    dossier = session.get(Dossier, instance_id)
    if dossier is None or dossier.status == status:
        return False
    dossier.status, dossier.status_at = status, at
    if status in END_STATUSES:
        _resolve(dossier, at)
    elif status == FEE_STATUS and dossier.fee_requested_at is None:
        dossier.fee_requested_at = at
    return True


def _resolve(dossier: Dossier, at: dt.datetime) -> None:
    """Note when processing ended (the first time only) and the calendar days it took."""
    if dossier.resolved_at is None:
        dossier.resolved_at = at
        dossier.resolved_days = (at - dossier.received_at).total_seconds() / 86400


def extend(session: Session, instance_id: str, new_due: Any) -> dt.datetime | None:
    """Record the new appointment an apology letter (Form 04) gives — once; a date means the close of that day.
    The due moment itself stays: the dossier is still counted late against it. Returns the new appointment, or
    None when nothing changed (no such dossier, already extended, no date)."""
    dossier = session.get(Dossier, instance_id)
    if dossier is None or dossier.extended_due_at is not None or not new_due:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(new_due))
    except ValueError:
        raise BadInput(f"the new appointment '{new_due}' is not a date (YYYY-MM-DD)") from None
    if len(str(new_due)) <= 10:  # a date: the close of that working day
        close = max(end for _, end in calendar_functions.calendar().office_hours)
        moment = dt.datetime.combine(moment.date(), close, VIETNAM)
    dossier.extended_due_at = moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)
    return dossier.extended_due_at


def extend_named(session: Session, instance_id: Any, new_due: Any) -> dt.datetime | None:
    """:func:`extend` the dossier of another instance — the one a process without a dossier of its own (the
    built-in apology process) names in ``dossier_instance_id`` — if it exists and is still running. Its row is
    locked first: that instance's own commands may be changing it at the same time."""
    if not isinstance(instance_id, str) or not instance_id:
        return None
    dossier = session.get(Dossier, instance_id, with_for_update=True)
    if dossier is None or dossier.finished_at is not None:
        return None
    return extend(session, instance_id, new_due)


def deliver(session: Session, instance_id: str, at: dt.datetime) -> None:
    """The result was handed to the citizen."""
    dossier = session.get(Dossier, instance_id)
    if dossier is not None and dossier.delivered_at is None:
        dossier.delivered_at = at


def finish(session: Session, instance_id: str, at: dt.datetime) -> None:
    """The procedure ended: the clock stops for good."""
    dossier = session.get(Dossier, instance_id)
    if dossier is not None and dossier.finished_at is None:
        if dossier.paused_at is not None:
            resume(session, instance_id, at)
        dossier.finished_at = at
        _resolve(dossier, at)


def as_dict(dossier: Dossier, now: dt.datetime | None = None) -> dict[str, Any]:
    """The dossier's clock as JSON, with whether it is (or was finished) late."""
    now = now or dt.datetime.now(dt.timezone.utc)
    end = dossier.finished_at or now

    def iso(value):
        return value.isoformat() if value is not None else None
    return {"code": dossier.code, "procedureCode": dossier.procedure_code, "channel": dossier.channel,
            "status": dossier.status, "statusLabel": STATUSES.get(dossier.status), "statusAt": iso(dossier.status_at),
            "deadline": {"unit": dossier.deadline_unit, "amount": dossier.deadline_amount, "clock": dossier.clock_rule},
            "submittedAt": iso(dossier.submitted_at), "receivedAt": iso(dossier.received_at), "dueAt": iso(dossier.due_at),
            "pausedAt": iso(dossier.paused_at), "pauses": json.loads(dossier.pauses),
            "finishedAt": iso(dossier.finished_at), "deliveredAt": iso(dossier.delivered_at),
            "warnedAt": iso(dossier.warned_at), "extendedDueAt": iso(dossier.extended_due_at),
            "agency": dossier.agency, "supplementRequests": dossier.supplement_requests,
            "supplementsAllowed": dossier.supplements_allowed,
            "overdue": dossier.paused_at is None and end > dossier.due_at}
