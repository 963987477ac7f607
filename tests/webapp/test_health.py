"""/healthz: 200 while the database answers at the newest schema, 503 when it does not, when the schema is behind,
or when an expected scheduler has gone silent; missing workers only warn. /metrics is for this host or a token."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from alembic import command

from engine import db, heartbeats, schema, sightings
from engine.config import load_settings
from tests.conftest import free_port, wait_for


@pytest.fixture
def monitored(app):
    """The app; its health probe's connections are closed afterwards."""
    yield app
    app.extensions["motcua_monitor"].dispose()


def healthz(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json()


def beat(factory, at: dt.datetime, instance: str = "host-a:1") -> None:
    with db.transaction(factory) as session:
        heartbeats.beat(session, "scheduler", instance, at, at)


def with_settings(app, **changes):
    state = app.extensions["motcua"]
    state.settings = dataclasses.replace(state.settings, **changes)


def test_a_healthy_database_answers_200_and_missing_workers_and_scheduler_only_warn(monitored, factory):
    code, body = healthz(monitored)
    assert code == 200 and body["status"] == "warn"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["schema"] == {"status": "ok", "detail": f"at revision {schema.head_revision()}",
                                "revision": schema.head_revision(), "head": schema.head_revision()}
    assert checks["scheduler"]["status"] == "warn" and checks["scheduler"]["expected"] is False
    assert checks["workers"]["status"] == "warn" and checks["workers"]["topics"] == {}
    now = dt.datetime.now(dt.timezone.utc)
    beat(factory, now)
    with db.transaction(factory) as session:
        sightings.seen(session, "worker-1", ["notify"], now)
    code, body = healthz(monitored)
    assert code == 200 and body["status"] == "ok", body
    assert body["checks"]["scheduler"]["alive"] == 1
    assert body["checks"]["workers"]["topics"] == {"notify": ["worker-1"]}


def test_an_expected_scheduler_gone_silent_makes_it_503(monitored, factory):
    with_settings(monitored, scheduler_expected=True, scheduler_stale_seconds=60)
    now = dt.datetime.now(dt.timezone.utc)
    code, body = healthz(monitored)
    assert code == 503 and body["checks"]["scheduler"]["status"] == "fail"
    assert "has ever run" in body["checks"]["scheduler"]["detail"]
    beat(factory, now - dt.timedelta(seconds=120))
    code, body = healthz(monitored)
    assert code == 503 and body["status"] == "fail"
    assert body["checks"]["scheduler"]["status"] == "fail" and "more than 60 s" in body["checks"]["scheduler"]["detail"]
    beat(factory, now, instance="host-b:2")  # another process's scheduler is alive: timers are fired
    code, body = healthz(monitored)
    assert code == 200 and body["checks"]["scheduler"]["status"] == "ok"
    with_settings(monitored, scheduler_expected=False)
    beat(factory, now - dt.timedelta(seconds=300), instance="host-b:2")
    code, body = healthz(monitored)
    assert code == 200 and body["checks"]["scheduler"]["status"] == "warn"


def test_the_running_scheduler_writes_heartbeats_that_healthz_reads(monitored, factory, settings):
    from webapp import scheduler
    state = monitored.extensions["motcua"]
    state.scheduler = scheduler.background(factory, settings)  # as motcua serve does: now one is expected
    try:
        wait_for(lambda: healthz(monitored)[1]["checks"]["scheduler"]["status"] == "ok", timeout=30,
                 message="the scheduler's first heartbeat")
        code, body = healthz(monitored)
        assert body["checks"]["scheduler"]["expected"] is True and body["checks"]["scheduler"]["alive"] == 1
    finally:
        state.scheduler.shutdown(wait=True)


def test_a_schema_behind_the_code_makes_it_503(monitored, engine):
    config = schema.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0018")
    code, body = healthz(monitored)
    assert code == 503 and body["checks"]["schema"]["status"] == "fail"
    assert body["checks"]["schema"]["revision"] == "0018" and "motcua init" in body["checks"]["schema"]["detail"]
    assert body["checks"]["scheduler"]["detail"].startswith("skipped")


def test_a_dead_database_server_makes_it_503_quickly_without_saying_where_it_is(tmp_path):
    from webapp.app import create_app
    port = free_port()
    settings = dataclasses.replace(load_settings({}), database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/x",
                                   var_dir=tmp_path / "var")
    app = create_app(settings)
    try:
        response = app.test_client().get("/healthz")
        body = response.get_json()
        assert response.status_code == 503 and body["status"] == "fail"
        database = body["checks"]["database"]
        assert database["status"] == "fail" and "does not answer" in database["detail"]
        assert body["checks"]["schema"]["status"] == "fail"
        assert str(port) not in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
    finally:
        app.extensions["motcua_monitor"].dispose()
        app.extensions["motcua"].engine.dispose()


def test_a_missing_sqlite_file_makes_it_503(tmp_path):
    from webapp.app import create_app
    settings = dataclasses.replace(load_settings({}), database_url=f"sqlite:///{tmp_path / 'nothing' / 'motcua.db'}",
                                   var_dir=tmp_path / "var")
    app = create_app(settings)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and "motcua init" in response.get_json()["checks"]["database"]["detail"]
    app.extensions["motcua"].engine.dispose()


def test_metrics_are_open_to_this_host_only_unless_a_token_is_set(monitored):
    client = monitored.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403  # via a proxy
    with_settings(monitored, metrics_token="bi-mat-do-luong")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer sai"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer bi-mat-do-luong"},
                          environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert response.status_code == 200 and b"motcua_metrics_database_ok 1.0" in response.data
