"""Firing due timers, and the other housekeeping the scheduler does.

Each instance row carries its next timer's due time (``next_timer_at``, a projection). Firing claims one
due instance at a time with ``FOR UPDATE SKIP LOCKED`` (on SQLite the transaction holds the write lock),
fires its due timers, runs it on and saves it in that transaction; the saved row's next due time moves
on, so however many schedulers run, each timer fires exactly once — and a timer that came due while
everything was stopped fires at the next start.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import calendar_functions, db, dossiers, instances, messages, runtime, schedules
from engine.errors import Conflict
from engine.models import Dossier, ExternalTask, ProcessDefinition, ProcessInstance
from engine.runtime import Actor

log = logging.getLogger(__name__)
SCHEDULER = Actor("scheduler", operator=True)


def _claim_due(session: Session, now: dt.datetime) -> ProcessInstance | None:
    stmt = (select(ProcessInstance)
            .where(ProcessInstance.status == "active", ProcessInstance.next_timer_at <= now)
            .order_by(ProcessInstance.next_timer_at).limit(1)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    return session.scalars(stmt).first()


def fire_one(session: Session, now: dt.datetime | None = None, claimed: list[str] | None = None) -> str | None:
    """Fire the due timers of one due instance (claimed so no other scheduler takes it); return its id,
    or None when nothing is due. The id is added to ``claimed`` as soon as it is claimed."""
    row = _claim_due(session, now or runtime.now())
    if row is None:
        return None
    if claimed is not None:
        claimed.append(row.id)
    loaded = runtime.loaded_from(session, row)
    loaded.wf.refresh_timers()
    runtime.advance(loaded)
    runtime.save(session, loaded, SCHEDULER)
    if row.next_timer_at is not None and row.next_timer_at <= (now or runtime.now()) and not loaded.errors:
        # SpiffWorkflow did not consider the timer due (clock skew between processes): look again shortly
        row.next_timer_at = (now or runtime.now()) + dt.timedelta(seconds=1)
    return row.id


SET_ASIDE = dt.timedelta(minutes=5)  # how long an instance whose timers could not be fired waits before a new try


def fire_due(factory: sessionmaker[Session], now: dt.datetime | None = None, limit: int = 1000) -> list[str]:
    """Fire every due timer, one instance per transaction; return the instances fired.

    An instance that cannot be fired for a reason other than a concurrent change (a bug, a broken row) is set aside
    for :data:`SET_ASIDE` and logged with its id, so that it does not stop every other timer behind it."""
    fired: list[str] = []
    while len(fired) < limit:
        claimed: list[str] = []
        try:
            with db.transaction(factory) as session:
                instance_id = fire_one(session, now, claimed)
        except Conflict as err:  # a concurrent command changed it: the next round retries it
            log.warning("firing a timer failed: %s", err.message)
            break
        except Exception:  # noqa: BLE001 - whatever it was, the other instances' timers still fire
            if not claimed:
                raise
            log.exception("firing the timers of instance %s failed; it is set aside for %s", claimed[0], SET_ASIDE)
            with db.transaction(factory) as session:
                _set_aside(session, claimed[0], (now or runtime.now()) + SET_ASIDE)
            continue
        if instance_id is None:
            break
        fired.append(instance_id)
    return fired


def _set_aside(session: Session, instance_id: str, until: dt.datetime) -> None:
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(next_timer_at=until))


def claim_due_soon(session: Session, now: dt.datetime, limit: int = 50) -> list[Dossier]:
    """Running, unpaused dossiers not yet warned whose due moment is at most their ``warn_hours`` of working
    time away (or past), claimed so that no other scheduler warns them too."""
    horizon = now + dt.timedelta(days=30)  # working hours never stretch beyond this; the rest is filtered below
    rows = session.scalars(select(Dossier).where(
        Dossier.finished_at.is_(None), Dossier.paused_at.is_(None), Dossier.warned_at.is_(None),
        Dossier.due_at <= horizon).order_by(Dossier.due_at).limit(limit).with_for_update(skip_locked=True)).all()
    calendar = calendar_functions.calendar()
    return [d for d in rows if d.due_at <= now
            or calendar.working_time_between(now, d.due_at) <= dt.timedelta(hours=d.warn_hours)]


APOLOGY_PROCESS = dossiers.APOLOGY_PROCESS
# what the built-in apology process takes over from the dossier's instance: who to remind, who applied and where
# the citizen hears from us (the addresses the status mails use, engine.dossier_notices)
CARRIED = ("procedure_name", "notify_to", "notify_to_name", "applicant_name", "applicant_email", "zalo_user_id")


def warn(session: Session, dossier: Dossier, now: dt.datetime, actor) -> bool:
    """Mark the dossier warned and raise the apology: the instance's own event subprocess catches
    ``dossier_due_soon`` if it has one; otherwise the built-in ``dossier_apology`` process (if deployed) starts
    for it — officers reminded, the leader's Form 04 rendered and sent to the citizen, the dossier's appointment
    moved (:func:`apology_variables`). True if something was raised."""
    dossier.warned_at = now
    variables = {"dossier_due_at": dossier.due_at.isoformat(), "dossier_overdue": dossier.due_at <= now}
    if messages.waiting_instances(session, dossiers.DUE_SOON, instance_id=dossier.instance_id):
        moments = {k: v for k, v in apology_variables(dossier, {}).items() if k in ("received_at", "appointment_at")}
        messages.correlate(session, dossiers.DUE_SOON, actor, instance_id=dossier.instance_id,
                           variables={**moments, **variables})
        return True
    if session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == APOLOGY_PROCESS).limit(1)) is None:
        return False
    instance = session.get(ProcessInstance, dossier.instance_id)
    known = json.loads(instance.variables) if instance is not None and instance.variables else {}
    instances.start(session, actor, APOLOGY_PROCESS, {**apology_variables(dossier, known), **variables}, dossier.code)
    return True


def apology_variables(dossier: Dossier, known: dict) -> dict:
    """The variables the built-in apology process starts with: the dossier's code and instance (whose dossier the
    leader's new date extends), what its instance knows of :data:`CARRIED` — else what the dossier row knows (the
    applicant's and the procedure's names) —, and the receipt and current appointment that Form 04 prints."""
    carried = {k: known[k] for k in CARRIED if known.get(k) not in (None, "")}
    fallback = {"applicant_name": dossier.applicant_name,
                "procedure_name": dossier.procedure_name or dossier.procedure_code or ""}
    return {**{k: v for k, v in fallback.items() if v is not None}, **carried,
            "dossier_code": dossier.code or "", "dossier_instance_id": dossier.instance_id,
            "received_at": dossier.received_at.isoformat(),
            "appointment_at": (dossier.extended_due_at or dossier.due_at).isoformat()}


def warn_due_soon(factory: sessionmaker[Session], now: dt.datetime | None = None) -> list[str]:
    """Warn the dossiers about to miss their due moment (see :func:`engine.dossiers.warn`); return their
    instance ids. Each batch is claimed with ``SKIP LOCKED`` in its own transaction."""
    warned: list[str] = []
    while True:
        with db.transaction(factory) as session:
            batch = claim_due_soon(session, now or runtime.now())
            for dossier in batch:
                warn(session, dossier, now or runtime.now(), SCHEDULER)
                warned.append(dossier.instance_id)
        if len(batch) < 50:
            return warned


def start_scheduled(factory: sessionmaker[Session], now: dt.datetime | None = None, limit: int = 100) -> list[str]:
    """Start the instances of due timer start events, one schedule per transaction; return their ids."""
    started: list[str] = []
    while len(started) < limit:
        with db.transaction(factory) as session:
            instance_id = schedules.start_one_due(session, SCHEDULER, now)
        if instance_id is None:
            break
        started.append(instance_id)
    return started


def next_due(session: Session) -> dt.datetime | None:
    """When the earliest timer of any active instance is due."""
    return session.scalar(select(ProcessInstance.next_timer_at).where(
        ProcessInstance.status == "active", ProcessInstance.next_timer_at.is_not(None))
        .order_by(ProcessInstance.next_timer_at).limit(1))


def release_expired_locks(session: Session, now: dt.datetime | None = None) -> int:
    """Clear external-task locks that have expired (their workers died or gave up); return how many."""
    result = session.execute(update(ExternalTask).where(ExternalTask.lock_expires_at < (now or runtime.now()))
                             .values(worker_id=None, lock_expires_at=None)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0
