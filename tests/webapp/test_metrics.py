"""/metrics: the Prometheus text format 0.0.4, parsed with prometheus_client's parser, with figures that match a
known state made of real instances: birth-registration dossiers and sample-residence applications."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from engine import db, deployment, external_tasks, instances, queries
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import BIRTH, VN, at_intake
from tests.webapp.test_health import monitored  # noqa: F401  (the app, its health probe closed afterwards)

MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
OPERATOR = Actor("operator", operator=True)
RESIDENT = {"citizen_id": "001099012345", "full_name": "Trần Thị Bình", "purpose": "Xin việc làm"}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def labels(**values) -> frozenset:
    return frozenset(values.items())


def start_resident(factory) -> str:
    with db.transaction(factory) as session:
        return instances.start(session, OPERATOR, "sample_residence", RESIDENT).row.id


def task_of(factory, instance_id: str) -> str:
    with db.transaction(factory) as session:
        (task,) = queries.instance_detail(session, instance_id)["externalTasks"]
    return task["id"]


@pytest.fixture
def known_state(factory):
    """Two birth dossiers (one waiting at intake, one terminated) and four residence applications: one at review
    with its three-day escalation timer, one whose lookup a worker holds, one out of retries, one waiting."""
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "sample-residence"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
    waiting_code = at_intake(factory, "dang_ky_khai_sinh", BIRTH, "000.00.00.H56", MONDAY)
    ended_code = at_intake(factory, "dang_ky_khai_sinh", BIRTH, "000.00.00.H56", MONDAY + dt.timedelta(minutes=5))
    with db.transaction(factory) as session:
        (ended,) = queries.instances(session, business_key=ended_code)
        instances.terminate(session, ended["id"], OPERATOR, reason="Công dân rút hồ sơ")
        (waiting,) = queries.instances(session, business_key=waiting_code)
    with time_machine.travel(MONDAY, tick=False):
        reviewed, held, failed, idle = (start_resident(factory) for _ in range(4))
        with db.transaction(factory) as session:
            locked = external_tasks.fetch_and_lock(session, "w", {"population-lookup": 60_000}, 10)
            by_instance = {t.instance_id: t.id for t in locked}
            external_tasks.complete(session, by_instance[reviewed], "w", {"registry_found": True})
            external_tasks.failure(session, by_instance[failed], "w", "CSDL dân cư không trả lời", retries=0)
            external_tasks.unlock(session, by_instance[idle])
        with db.transaction(factory) as session:
            detail = queries.instance_detail(session, reviewed)
    return {"waiting": waiting["id"], "held": held, "timer_due": dt.datetime.fromisoformat(detail["nextTimerAt"])}


def test_the_figures_match_the_known_state(monitored, factory, known_state):  # noqa: F811
    client = monitored.test_client()
    scrape_at = known_state["timer_due"] + dt.timedelta(minutes=30)
    with time_machine.travel(scrape_at, tick=False):
        with db.transaction(factory) as session:  # the held lookup is being worked on at the time of the scrape
            (relocked,) = external_tasks.fetch_and_lock(session, "w2", {"population-lookup": 600_000}, 1)
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/khong-co-trang-nay").status_code == 404
        figures = scrape(client)
    assert figures[("motcua_process_instances", labels(process_key="dang_ky_khai_sinh", state="active"))] == 1
    assert figures[("motcua_process_instances", labels(process_key="dang_ky_khai_sinh", state="terminated"))] == 1
    assert figures[("motcua_process_instances", labels(process_key="sample_residence", state="active"))] == 4
    assert figures[("motcua_external_tasks", labels(topic="population-lookup", state="waiting"))] == 1
    assert figures[("motcua_external_tasks", labels(topic="population-lookup", state="locked"))] == 1
    assert figures[("motcua_incidents_open", labels(process_key="sample_residence"))] == 1
    assert ("motcua_incidents_open", labels(process_key="dang_ky_khai_sinh")) not in figures
    assert figures[("motcua_user_tasks_open", labels(process_key="dang_ky_khai_sinh"))] == 1
    assert figures[("motcua_user_tasks_open", labels(process_key="sample_residence"))] == 1
    assert figures[("motcua_timer_lateness_seconds", labels())] == 30 * 60
    assert figures[("motcua_dossiers_overdue", labels())] == 5  # all but the terminated one (see the next test)
    assert figures[("motcua_metrics_database_ok", labels())] == 1
    latency = "motcua_http_request_duration_seconds"
    assert figures[(f"{latency}_count", labels(endpoint="health.healthz", status="200"))] == 2
    assert figures[(f"{latency}_count", labels(endpoint="unmatched", status="404"))] == 1
    assert figures[(f"{latency}_bucket", labels(endpoint="health.healthz", status="200", le="+Inf"))] == 2


def test_overdue_dossiers_and_timer_lateness_follow_the_clock(monitored, factory, known_state):  # noqa: F811
    with db.transaction(factory) as session:
        due = {d["instanceId"]: dt.datetime.fromisoformat(d["dueAt"]) for d in queries.dossier_list(session)}
    birth_due = due.pop(known_state["waiting"])
    wednesday = MONDAY + dt.timedelta(days=2)
    assert len(due) == 4 and birth_due < wednesday < min(due.values())  # the residence dossiers have 3 working days
    assert max(due.values()) < known_state["timer_due"] + dt.timedelta(minutes=30)
    client = monitored.test_client()
    with time_machine.travel(MONDAY + dt.timedelta(minutes=10), tick=False):
        early = scrape(client)
    with time_machine.travel(wednesday, tick=False):
        middle = scrape(client)
    with time_machine.travel(known_state["timer_due"] + dt.timedelta(minutes=30), tick=False):
        late = scrape(client)
    overdue, lateness = ("motcua_dossiers_overdue", labels()), ("motcua_timer_lateness_seconds", labels())
    assert (early[overdue], middle[overdue], late[overdue]) == (0, 1, 5)
    assert (early[lateness], middle[lateness], late[lateness]) == (0, 0, 30 * 60)


def test_a_scrape_without_a_database_still_answers_with_the_process_figures(tmp_path):
    import dataclasses

    from engine.config import load_settings
    from tests.conftest import free_port
    from webapp.app import create_app
    settings = dataclasses.replace(load_settings({}), var_dir=tmp_path / "var",
                                   database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    app = create_app(settings)
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 503
        figures = scrape(client)
    finally:
        app.extensions["motcua_monitor"].dispose()
        app.extensions["motcua"].engine.dispose()
    assert figures[("motcua_metrics_database_ok", labels())] == 0
    assert ("motcua_process_instances", labels(process_key="dang_ky_khai_sinh", state="active")) not in figures
    assert figures[("motcua_http_request_duration_seconds_count", labels(endpoint="health.healthz", status="503"))] == 1
