"""Health checks for ``/healthz``: is the database reachable, its schema at head, a scheduler alive, workers polling.

Each check gives a status, ``ok``, ``warn`` or ``fail``, and a detail in plain words. The report fails (HTTP 503)
when any check fails:

- ``database``: a ``SELECT 1`` on a dedicated engine with short timeouts (:func:`probe_engine`) fails;
- ``schema``: the database is not at the newest migration the code knows (behind, or never initialised); a
  database *ahead* of the code (a newer release migrated it first) is only a warning;
- ``scheduler``: no scheduler wrote a heartbeat for ``stale_after`` seconds *and* one is expected (configured, or
  running in this very process); when none is expected a silent scheduler is a warning;
- ``workers`` never fails: no worker seen polling in the last minute, or a topic with waiting tasks that no worker
  polls, is a warning (workers may legitimately be stopped, or run elsewhere at times).

Nothing here leaks the database URL or server messages: details name the kind of error only (the log has more).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from engine import heartbeats, metrics, schema, sightings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3  # connect timeout of the probe engine
STATEMENT_TIMEOUT_SECONDS = 5  # its statement timeout (PostgreSQL): /metrics' grouped counts run on it too
WORKER_WINDOW = dt.timedelta(minutes=1)
OK, WARN, FAIL = "ok", "warn", "fail"
_RANK = {OK: 0, WARN: 1, FAIL: 2}


def probe_engine(url: str | URL) -> Engine:
    """A small engine for health checks and metrics, with short timeouts: a dead database answers within
    :data:`TIMEOUT_SECONDS` instead of hanging a probe (the app's own engine waits much longer). On SQLite its
    transactions are plain deferred ones, so reading never takes or waits for the write lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # a plain (deferred) transaction: reading never waits for a writer's lock
        return create_engine(url, connect_args={"timeout": TIMEOUT_SECONDS}, pool_size=1, max_overflow=1)
    engine = create_engine(url, connect_args={"connect_timeout": TIMEOUT_SECONDS}, pool_size=1, max_overflow=1,
                           pool_recycle=300)

    @event.listens_for(engine, "connect")
    def _statement_timeout(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_SECONDS * 1000}")
        dbapi_connection.commit()

    return engine


def check(status: str, detail: str, **data) -> dict:
    """One check's result."""
    return {"status": status, "detail": detail, **data}


def database(engine: Engine) -> dict:
    """Whether ``SELECT 1`` answers."""
    parsed = engine.url
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).exists():
        return check(FAIL, "the SQLite database file does not exist: run 'motcua init'")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any failure to answer is the finding
        log.warning("health check: the database does not answer: %s", err)
        return check(FAIL, f"the database does not answer ({type(err).__name__})")
    return check(OK, f"{parsed.get_backend_name()} answers")


@functools.lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(schema.alembic_config())


def schema_state(engine: Engine) -> dict:
    """Whether the database is at the newest migration this code knows."""
    head = _scripts().get_current_head()
    try:
        current = schema.current_revision(engine)
    except Exception as err:  # noqa: BLE001
        log.warning("health check: cannot read the schema revision: %s", err)
        return check(FAIL, f"cannot read the schema revision ({type(err).__name__})")
    if current == head:
        return check(OK, f"at revision {head}", revision=current, head=head)
    if current is None:
        return check(FAIL, "the database has no schema: run 'motcua init'", revision=None, head=head)
    known = {rev.revision for rev in _scripts().walk_revisions()}
    if current not in known:
        return check(WARN, f"the database is at revision {current}, newer than this code's {head}: "
                           "a newer release migrated it", revision=current, head=head)
    return check(FAIL, f"the database is at revision {current}, behind {head}: run 'motcua init'",
                 revision=current, head=head)


def scheduler(session: Session, now: dt.datetime, stale_after: float, expected: bool) -> dict:
    """Whether some scheduler, in any process, wrote its heartbeat within ``stale_after`` seconds."""
    newest, alive = heartbeats.latest(session, "scheduler", now - dt.timedelta(seconds=stale_after))
    if alive:
        age = max((now - newest).total_seconds(), 0.0)
        return check(OK, f"{alive} scheduler(s) alive; the newest heartbeat is {age:.0f} s old", alive=alive,
                     lastSeen=newest.isoformat(), expected=expected)
    said = ("no scheduler has ever run against this database" if newest is None else
            f"no scheduler heartbeat for {(now - newest).total_seconds():.0f} s (more than {stale_after:.0f} s)")
    return check(FAIL if expected else WARN,
                 said + ("" if expected else "; none is expected here (MOTCUA_SCHEDULER_EXPECTED)"), alive=0,
                 lastSeen=newest.isoformat() if newest else None, expected=expected)


def workers(session: Session, now: dt.datetime) -> dict:
    """Which topics workers polled in the last minute, and the topics with waiting tasks that nobody polls."""
    seen = sightings.recent(session, now - WORKER_WINDOW)
    waiting = {topic: n for topic, n, _ in metrics.external_backlog(session, now) if n}
    unserved = sorted(t for t in waiting if t not in seen)
    data = {"topics": {t: sorted(set(w)) for t, w in sorted(seen.items())}, "unserved": unserved}
    if not seen:
        return check(WARN, "no worker polled in the last minute", **data)
    if unserved:
        return check(WARN, f"tasks wait on topics no worker polled in the last minute: {', '.join(unserved)}", **data)
    workers_n = len({w for ids in seen.values() for w in ids})
    return check(OK, f"{workers_n} worker(s) polled {len(seen)} topic(s) in the last minute", **data)


def report(engine: Engine, now: dt.datetime, stale_after: float, scheduler_expected: bool) -> dict:
    """Every check, and the overall status (the worst of them); checks that need the database are skipped when it
    does not answer or has no usable schema."""
    checks = {"database": database(engine)}
    checks["schema"] = (schema_state(engine) if checks["database"]["status"] == OK
                        else check(FAIL, "skipped: the database does not answer"))
    if checks["schema"]["status"] != FAIL:
        try:
            with Session(engine) as session:
                checks["scheduler"] = scheduler(session, now, stale_after, scheduler_expected)
                checks["workers"] = workers(session, now)
        except Exception as err:  # noqa: BLE001
            log.warning("health check: reading heartbeats failed: %s", err)
            checks.setdefault("scheduler", check(FAIL, f"cannot read heartbeats ({type(err).__name__})"))
            checks.setdefault("workers", check(WARN, "skipped"))
    else:
        checks["scheduler"] = check(FAIL if scheduler_expected else WARN, "skipped: no usable database")
        checks["workers"] = check(WARN, "skipped: no usable database")
    status = max((c["status"] for c in checks.values()), key=_RANK.__getitem__)
    return {"status": status, "time": now.isoformat(), "checks": checks}
