"""/engine-rest: a body field of the wrong type, too large or nested too deeply is a 400 in Camunda's shape,
never a 500."""
from __future__ import annotations

import json

import pytest

from engine import db, instances
from tests.webapp.rest.test_external_task import fetch, start_instances

FETCH = {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": "payment-check", "lockDuration": 1000}]}
HUGE = 10**20


def deep(levels: int):
    value = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def refused(reply, field: str | None = None):
    assert reply.status_code == 400, (reply.status_code, reply.get_data(as_text=True))
    body = reply.get_json()
    assert body["type"] == "InvalidRequestException"
    if field:
        assert field in body["message"]


@pytest.mark.parametrize("change", [
    {"asyncResponseTimeout": None}, {"asyncResponseTimeout": HUGE}, {"maxTasks": HUGE}, {"workerId": ["w"]},
    {"topics": [{"topicName": ["a"], "lockDuration": 1000}]},
    {"topics": [{"topicName": "payment-check", "lockDuration": HUGE}]}])
def test_fetch_and_lock_refuses_fields_of_the_wrong_type_or_size(client, bot, change):
    reply = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={**FETCH, **change})
    if change == {"asyncResponseTimeout": None}:  # null is "not given", as in Camunda
        assert reply.status_code == 200 and reply.get_json() == []
    else:
        refused(reply)


@pytest.fixture
def locked(client, bot, factory, operator):
    start_instances(factory, operator)
    (task,) = fetch(client, bot).get_json()
    return task["id"]


@pytest.mark.parametrize("action, data, field", [
    ("failure", {"errorMessage": 123}, "errorMessage"),
    ("failure", {"errorDetails": {"a": 1}}, "errorDetails"),
    ("failure", {"errorMessage": "x", "retries": 1, "retryTimeout": HUGE}, "retryTimeout"),
    ("failure", {"errorMessage": "x", "retries": HUGE}, "retries"),
    ("extendLock", {"newDuration": HUGE}, "newDuration"),
    ("bpmnError", {"errorCode": {"a": 1}}, "errorCode"),
    ("complete", {"variables": {"v": {"type": "Object", "value": deep(500)}}}, "nested"),
    ("complete", {"variables": {"v": {"type": "Json", "value": json.dumps(deep(500))}}}, "nested"),
    ("complete", {"variables": {"v": {"type": "Json", "value": "[" * 100_000 + "]" * 100_000}}}, "nested")])
def test_external_task_commands_refuse_fields_of_the_wrong_type_or_size(client, bot, locked, action, data, field):
    reply = client.post(f"/engine-rest/external-task/{locked}/{action}", headers=bot, json={"workerId": "w1", **data})
    refused(reply, field)
    assert client.get(f"/engine-rest/external-task/{locked}", headers=bot).get_json()["workerId"] == "w1"


def test_a_body_nested_deeper_than_the_parser_goes_is_refused(client, bot, locked):
    text = '{"workerId": "w1", "variables": {"v": {"value": ' + "[" * 100_000 + "]" * 100_000 + "}}}"
    reply = client.post(f"/engine-rest/external-task/{locked}/complete", headers=bot, data=text,
                        content_type="application/json")
    refused(reply)


@pytest.mark.parametrize("data, field", [
    ({"businessKey": ["M1"]}, "businessKey"), ({"processInstanceId": {"a": 1}}, "processInstanceId"),
    ({"messageName": 5}, "messageName")])
def test_message_correlation_refuses_fields_of_the_wrong_type(client, bot, data, field):
    refused(client.post("/engine-rest/message", headers=bot, json={"messageName": "m", **data}), field)


def test_a_start_refuses_variables_nested_too_deeply(client, bot, factory, operator):
    start_instances(factory, operator)
    reply = client.post("/engine-rest/process-definition/key/p/start", headers=bot, json={
        "variables": {"v": {"type": "Object", "value": deep(500)}}})
    refused(reply, "nested")


def test_claim_refuses_a_user_id_that_is_not_text(client, bot, factory, sample, operator):
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
    (job,) = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "population-lookup", "lockDuration": 10_000}]}
    ).get_json()
    assert client.post(f"/engine-rest/external-task/{job['id']}/complete", headers=bot, json={
        "workerId": "w", "variables": {"registry_found": {"value": True, "type": "Boolean"}}}).status_code == 204
    (task,) = client.get(f"/engine-rest/task?processInstanceId={iid}", headers=bot).get_json()
    refused(client.post(f"/engine-rest/task/{task['id']}/claim", headers=bot, json={"userId": {"a": 1}}), "userId")
    assert client.get(f"/engine-rest/task/{task['id']}", headers=bot).get_json()["assignee"] is None


@pytest.mark.parametrize("option", [{"businessKey": "HS-0"}, {"processVariables": {"amount": 1}},
                                    {"processDefinitionKeyIn": ["p"]}])
def test_a_topic_filter_motcua_does_not_apply_is_refused_rather_than_ignored(client, bot, factory, operator, option):
    start_instances(factory, operator)
    topic = {"topicName": "payment-check", "lockDuration": 60000, **option}
    reply = client.post("/engine-rest/external-task/fetchAndLock", headers=bot,
                        json={"workerId": "w1", "maxTasks": 5, "topics": [topic]})
    refused(reply, next(iter(option)))
    assert len(fetch(client, bot).get_json()) == 1  # the refused call locked nothing
