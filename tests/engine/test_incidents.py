"""Retrying an incident: a failed expression runs again (with corrected variables when given) and the instance
goes on; a second failure opens a new incident; only operators retry, and a resolved incident is not retried twice."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import db, external_tasks, incidents, instances, queries, timers
from engine.errors import Conflict, Forbidden
from engine.runtime import Actor
from tests.bpmn_builder import end, external, flow, linear, process, script, start, user_task
from tests.conftest import deploy_files

OPERATOR = Actor("phan-tich-1", frozenset({"analyst"}), operator=True)


@pytest.fixture
def failing(factory, operator):
    deploy_files(factory, [("chia.bpmn", process(linear(start(), script("chia", "ket_qua = 10 / so_chia"), end())))])
    with db.transaction(factory) as session:
        iid = instances.start(session, operator, "p", {"so_chia": 0}).row.id
    with db.transaction(factory) as session:
        (incident,) = queries.instance_detail(session, iid)["incidents"]
    assert incident["activityId"] == "chia" and "division by zero" in incident["incidentMessage"]
    return iid, incident["id"]


def test_a_failed_expression_runs_again_with_corrected_variables(factory, failing):
    iid, incident_id = failing
    with db.transaction(factory) as session:
        incidents.retry(session, incident_id, OPERATOR, {"so_chia": 4})
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert detail["status"] == "completed" and detail["variables"]["ket_qua"] == 2.5 and detail["openIncidents"] == 0
    retried = [h for h in detail["history"] if h["kind"] == "incident_retried"]
    assert retried[0]["userId"] == "phan-tich-1" and retried[0]["details"]["incident"] == incident_id


def test_a_retry_that_fails_again_opens_a_new_incident(factory, failing):
    iid, incident_id = failing
    with db.transaction(factory) as session:
        incidents.retry(session, incident_id, OPERATOR)
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
        every = queries.incidents(session, instance_id=iid, open_only=False)
    assert detail["status"] == "active" and detail["openIncidents"] == 1
    assert sorted(i["resolvedAt"] is None for i in every) == [False, True]
    with pytest.raises(Conflict, match="already resolved"):
        with db.transaction(factory) as session:
            incidents.retry(session, incident_id, OPERATOR)


def test_only_an_operator_retries(factory, failing):
    _, incident_id = failing
    with pytest.raises(Forbidden):
        with db.transaction(factory) as session:
            incidents.retry(session, incident_id, Actor("can-bo-1", frozenset({"mot-cua"})))


def test_terminating_an_instance_closes_its_incidents_which_nothing_could_retry_any_more(factory, failing):
    iid, incident_id = failing
    with db.transaction(factory) as session:
        instances.terminate(session, iid, OPERATOR, "hồ sơ rút")
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert detail["status"] == "terminated" and detail["openIncidents"] == 0
    assert [i["resolvedAt"] is not None for i in detail["incidents"]] == [True]


def test_an_incident_closes_when_its_element_is_cancelled_by_a_boundary_event(factory, operator):
    # a worker gave up on the call (retries 0: an incident); then the boundary timer took the token elsewhere: the
    # incident is about a task that no longer exists, and a retry of it could only fail
    body = "\n".join([
        start()[1], external("call", "registry")[1], end()[1], user_task("chase")[1], end("end_late")[1],
        '<bpmn:boundaryEvent id="too_long" attachedToRef="call"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        flow("f0", "start", "call"), flow("f1", "call", "end"), flow("f2", "too_long", "chase"),
        flow("f3", "chase", "end_late")])
    deploy_files(factory, [("p.bpmn", process(body))])
    now = dt.datetime.now(dt.timezone.utc)
    with db.transaction(factory) as session:
        iid = instances.start(session, operator, "p", {}).row.id
    with db.transaction(factory) as session:
        (task,) = external_tasks.fetch_and_lock(session, "w1", {"registry": 60_000})
    with db.transaction(factory) as session:
        external_tasks.failure(session, task.id, "w1", "registry down", retries=0)
    with time_machine.travel(now + dt.timedelta(hours=2), tick=False):
        assert timers.fire_due(factory) == [iid]
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["chase"]
    assert detail["openIncidents"] == 0
    assert [i["resolvedAt"] is not None for i in detail["incidents"]] == [True]
