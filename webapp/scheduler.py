"""The scheduler: APScheduler jobs that fire due timers, warn dossiers about to be late, release expired
locks and reconcile payments.

It runs inside ``motcua serve`` (one per web process) or alone as ``motcua scheduler``. Every job claims
its work in the database, so any number of schedulers may run at once. After each round of timers a scheduler
writes its heartbeat (:mod:`engine.heartbeats`), which ``/healthz`` reads.
"""
from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine import db, heartbeats, timers
from engine.config import Settings

log = logging.getLogger(__name__)
TIMER_POLL_SECONDS = 0.5  # a timer fires within a second of its due time
LOCK_SWEEP_SECONDS = 30
DOSSIER_WATCH_SECONDS = 60
RECONCILE_MINUTES = 5
NOTICE_SECONDS = 5  # a status change reaches the citizen within seconds


def _fire_timers(factory, beater: heartbeats.Beater) -> None:
    started = timers.start_scheduled(factory)
    if started:
        log.info("started %d instance(s) at their timer start events", len(started))
    fired = timers.fire_due(factory)
    if fired:
        log.info("fired the timers of %d instance(s)", len(fired))
    now = dt.datetime.now(dt.timezone.utc)
    if beater.due(now):  # after the round, so a timer loop that hangs or keeps failing goes silent
        with db.transaction(factory) as session:
            beater.beat(session, now)


def _release_locks(factory) -> None:
    with db.transaction(factory) as session:
        released = timers.release_expired_locks(session)
    if released:
        log.info("released %d expired external-task lock(s)", released)


def _warn_dossiers(factory) -> None:
    warned = timers.warn_due_soon(factory)
    if warned:
        log.info("warned %d dossier(s) about to miss their due date", len(warned))


def _reconcile(factory, settings: Settings) -> None:
    from webapp import payments
    if not settings.payments_available:
        return
    settled = payments.reconcile(factory, settings)
    if settled:
        log.info("reconciled %d payment(s)", len(settled))


def _send_notices(factory, settings: Settings) -> None:
    from workers import status_notices
    try:
        status_notices.send_due(factory, settings)
    except Exception:  # noqa: BLE001 - the job runs again; the notices stay in the outbox
        log.exception("sending dossier notices failed")


def add_jobs(scheduler: BaseScheduler, factory, settings: Settings) -> BaseScheduler:
    """Add motcua's jobs to an APScheduler scheduler."""
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    beater = heartbeats.Beater("scheduler")
    scheduler.add_job(_fire_timers, "interval", args=[factory, beater], seconds=TIMER_POLL_SECONDS, id="timers",
                      next_run_time=dt.datetime.now(dt.timezone.utc), **options)
    scheduler.add_job(_warn_dossiers, "interval", args=[factory], seconds=DOSSIER_WATCH_SECONDS, id="dossiers",
                      **options)
    scheduler.add_job(_release_locks, "interval", args=[factory], seconds=LOCK_SWEEP_SECONDS, id="locks", **options)
    scheduler.add_job(_send_notices, "interval", args=[factory, settings], seconds=NOTICE_SECONDS, id="notices",
                      **options)
    scheduler.add_job(_reconcile, "interval", args=[factory, settings], minutes=RECONCILE_MINUTES, id="payments",
                      **options)
    return scheduler


def background(factory, settings: Settings) -> BackgroundScheduler:
    """A started background scheduler (for a web process)."""
    scheduler = add_jobs(BackgroundScheduler(timezone="UTC"), factory, settings)
    scheduler.start()
    return scheduler


def blocking(factory, settings: Settings) -> BlockingScheduler:
    """A scheduler that runs in the foreground until shut down (``motcua scheduler``)."""
    return add_jobs(BlockingScheduler(timezone="UTC"), factory, settings)
