"""/engine-rest/external-task: Camunda's contract through Flask's test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json

import time_machine

from engine import db, instances
from tests.bpmn_builder import end, external, flow, process, start, user_task
from tests.conftest import deploy_files

ERROR = '<bpmn:error id="err_pay" name="Payment failed" errorCode="PAYMENT_FAILED"/>'
PAY = process("\n".join([
    start()[1], external("pay", "payment-check")[1], end()[1], user_task("fix_payment")[1], end("end_failed")[1],
    '<bpmn:boundaryEvent id="on_fail" attachedToRef="pay"><bpmn:errorEventDefinition errorRef="err_pay"/>'
    '</bpmn:boundaryEvent>',
    flow("f0", "start", "pay"), flow("f1", "pay", "end"), flow("f2", "on_fail", "fix_payment"),
    flow("f3", "fix_payment", "end_failed")]), extra=ERROR)


def start_instances(factory, operator, n=1, **variables):
    deploy_files(factory, [("p.bpmn", PAY)])
    with db.transaction(factory) as s:
        return [instances.start(s, operator, "p", {"amount": 50_000, **variables}, f"HS-{i}").row.id
                for i in range(n)]


def fetch(client, bot, worker="w1", max_tasks=10, lock=30_000, **extra):
    return client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": worker, "maxTasks": max_tasks,
        "topics": [{"topicName": "payment-check", "lockDuration": lock, **extra}]})


def test_fetch_returns_typed_variables_and_complete_moves_the_instance_on(client, bot, factory, operator):
    (iid,) = start_instances(factory, operator, receipt={"no": 1})
    reply = fetch(client, bot)
    assert reply.status_code == 200
    (task,) = reply.get_json()
    assert task["topicName"] == "payment-check" and task["workerId"] == "w1" and task["businessKey"] == "HS-0"
    assert task["variables"]["amount"] == {"type": "Integer", "value": 50_000, "valueInfo": {}}
    assert json.loads(task["variables"]["receipt"]["value"]) == {"no": 1}
    assert task["variables"]["receipt"]["type"] == "Json"
    assert fetch(client, bot, worker="w2").get_json() == []
    done = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=bot, json={
        "workerId": "w1", "variables": {"paid": {"value": True, "type": "Boolean"},
                                        "bank": {"value": '{"code": "NCB"}', "type": "Json"}}})
    assert done.status_code == 204
    state = client.get(f"/engine-rest/process-instance/{iid}", headers=bot).get_json()
    assert state["ended"] is True and state["status"] == "completed"
    values = client.get(f"/engine-rest/process-instance/{iid}/variables", headers=bot).get_json()
    assert values["paid"]["value"] is True and json.loads(values["bank"]["value"]) == {"code": "NCB"}


def test_only_the_variables_asked_for_are_sent(client, bot, factory, operator):
    start_instances(factory, operator, secret="x")
    (task,) = fetch(client, bot, variables=["amount"]).get_json()
    assert set(task["variables"]) == {"amount"}


def test_a_completion_by_another_worker_or_after_the_lock_expired_is_refused(client, bot, factory, operator):
    start_instances(factory, operator)
    (task,) = fetch(client, bot, lock=1000).get_json()
    other = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=bot, json={"workerId": "w2"})
    assert other.status_code == 409 and "not locked by worker 'w2'" in other.get_json()["message"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        late = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=bot, json={"workerId": "w1"})
        assert late.status_code == 409 and "expired" in late.get_json()["message"]
        (again,) = fetch(client, bot, worker="w2").get_json()
    assert again["id"] == task["id"]


def test_extend_lock_keeps_the_task_and_unlock_releases_it(client, bot, factory, operator):
    start_instances(factory, operator)
    (task,) = fetch(client, bot, lock=1000).get_json()
    url = f"/engine-rest/external-task/{task['id']}"
    assert client.post(url + "/extendLock", headers=bot, json={"workerId": "w2", "newDuration": 60_000}
                       ).status_code == 409
    assert client.post(url + "/extendLock", headers=bot, json={"workerId": "w1", "newDuration": 60_000}
                       ).status_code == 204
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5), tick=False):
        assert fetch(client, bot, worker="w2").get_json() == []
    assert client.post(url + "/unlock", headers=bot).status_code == 204
    assert [t["id"] for t in fetch(client, bot, worker="w2").get_json()] == [task["id"]]


def test_failure_with_retries_waits_then_no_retries_opens_an_incident_that_set_retries_resolves(
        client, bot, factory, operator):
    (iid,) = start_instances(factory, operator)
    (task,) = fetch(client, bot).get_json()
    url = f"/engine-rest/external-task/{task['id']}"
    assert client.post(url + "/failure", headers=bot, json={
        "workerId": "w1", "errorMessage": "gateway timeout", "errorDetails": "Traceback ...", "retries": 2,
        "retryTimeout": 60_000}).status_code == 204
    assert fetch(client, bot).get_json() == []  # waits out the retry timeout
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61), tick=False):
        (again,) = fetch(client, bot).get_json()
        assert again["retries"] == 2 and again["errorMessage"] == "gateway timeout"
        assert client.post(url + "/failure", headers=bot, json={
            "workerId": "w1", "errorMessage": "still down", "retries": 0}).status_code == 204
    assert client.get(url + "/errorDetails", headers=bot).get_data(as_text=True) == ""
    (incident,) = client.get(f"/engine-rest/incident?processInstanceId={iid}", headers=bot).get_json()
    assert incident["incidentType"] == "failedExternalTask" and incident["incidentMessage"] == "still down"
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61), tick=False):
        assert fetch(client, bot).get_json() == []
    assert client.put(url + "/retries", headers=bot, json={"retries": 1}).status_code == 204
    assert client.get(f"/engine-rest/incident?processInstanceId={iid}", headers=bot).get_json() == []
    assert client.get(f"/engine-rest/process-instance/{iid}", headers=bot).get_json()["openIncidents"] == 0
    assert [t["id"] for t in fetch(client, bot).get_json()] == [task["id"]]


def test_bpmn_error_is_caught_by_the_boundary_event(client, bot, factory, operator):
    (iid,) = start_instances(factory, operator)
    (task,) = fetch(client, bot).get_json()
    reply = client.post(f"/engine-rest/external-task/{task['id']}/bpmnError", headers=bot, json={
        "workerId": "w1", "errorCode": "PAYMENT_FAILED", "errorMessage": "card refused",
        "variables": {"reason": {"value": "card refused", "type": "String"}}})
    assert reply.status_code == 204
    (user,) = client.get(f"/engine-rest/task?processInstanceId={iid}", headers=bot).get_json()
    assert user["taskDefinitionKey"] == "fix_payment"


def test_listing_and_get(client, bot, factory, operator):
    start_instances(factory, operator, n=3)
    fetch(client, bot, max_tasks=1)
    listing = client.get("/engine-rest/external-task?topicName=payment-check", headers=bot).get_json()
    assert len(listing) == 3
    locked = client.get("/engine-rest/external-task?locked=true", headers=bot).get_json()
    assert len(locked) == 1 and locked[0]["workerId"] == "w1"
    assert len(client.get("/engine-rest/external-task?notLocked=true", headers=bot).get_json()) == 2
    one = client.get(f"/engine-rest/external-task/{listing[0]['id']}", headers=bot).get_json()
    assert one["topicName"] == "payment-check"
    assert client.get("/engine-rest/external-task/topic-names", headers=bot).get_json() == ["payment-check"]
    missing = client.get("/engine-rest/external-task/nope", headers=bot)
    assert missing.status_code == 404 and missing.get_json()["type"] == "InvalidRequestException"


def test_bad_requests_get_camunda_error_bodies(client, bot):
    no_worker = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={"maxTasks": 1})
    assert no_worker.status_code == 400 and no_worker.get_json() == {
        "type": "InvalidRequestException", "message": "workerId is required", "code": "bad_input"}
    no_lock = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t"}]})
    assert no_lock.status_code == 400 and "lockDuration" in no_lock.get_json()["message"]
    not_json = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, data="{oops",
                           content_type="application/json")
    assert not_json.status_code == 400 and "JSON object" in not_json.get_json()["message"]
    bad_type = client.post("/engine-rest/external-task/x/complete", headers=bot, json={
        "workerId": "w", "variables": {"n": {"value": "ten", "type": "Integer"}}})
    assert bad_type.status_code == 400 and "'ten' is not a Integer" in bad_type.get_json()["message"]


def test_long_polling_waits_for_the_timeout_when_nothing_comes(client, bot, factory):
    import time
    began = time.monotonic()
    reply = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 300,
        "topics": [{"topicName": "nothing", "lockDuration": 1000}]})
    assert reply.get_json() == [] and time.monotonic() - began >= 0.3
