"""/engine-rest: text longer than its column holds is a 400 naming the field and its limit (on PostgreSQL it
used to be a 500 from the database, and a long worker id could lock tasks it could never complete)."""
from __future__ import annotations

import pytest

from engine import limits
from tests.webapp.rest.test_external_task import fetch, start_instances


def test_the_limits_come_from_the_columns():
    assert (limits.BUSINESS_KEY_MAX, limits.WORKER_ID_MAX, limits.TOPIC_MAX) == (255, 100, 255)


def test_a_start_refuses_a_business_key_longer_than_its_column(client, bot, factory, operator):
    start_instances(factory, operator)
    reply = client.post("/engine-rest/process-definition/key/p/start", headers=bot, json={"businessKey": "K" * 256})
    assert reply.status_code == 400 and "business key" in reply.get_json()["message"]
    assert "at most 255" in reply.get_json()["message"]
    fits = client.post("/engine-rest/process-definition/key/p/start", headers=bot, json={"businessKey": "K" * 255})
    assert fits.status_code == 200


@pytest.mark.parametrize("worker, topic, words", [
    ("w" * 101, "payment-check", "worker id is too long: at most 100"),
    ("w" * 300, "payment-check", "worker id is too long: at most 100"),
    ("w1", "t" * 256, "topic name is too long: at most 255")])
def test_fetch_and_lock_refuses_a_worker_id_or_topic_longer_than_its_columns(client, bot, factory, operator,
                                                                             worker, topic, words):
    start_instances(factory, operator)
    reply = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": worker, "maxTasks": 1, "topics": [{"topicName": topic, "lockDuration": 1000}]})
    assert reply.status_code == 400 and words in reply.get_json()["message"]
    assert client.get("/engine-rest/external-task?locked=true", headers=bot).get_json() == []


def test_a_worker_id_of_the_longest_length_can_lock_and_complete(client, bot, factory, operator):
    start_instances(factory, operator)
    worker = "w" * limits.WORKER_ID_MAX
    (task,) = fetch(client, bot, worker=worker).get_json()
    done = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=bot, json={"workerId": worker})
    assert done.status_code == 204


def _review_task(client, bot, factory, operator) -> str:
    """Start the sample procedure and complete its population lookup: the review task's id."""
    from engine import db, instances
    with db.transaction(factory) as s:
        instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"})
    (job,) = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "population-lookup", "lockDuration": 10_000}]}
    ).get_json()
    client.post(f"/engine-rest/external-task/{job['id']}/complete", headers=bot, json={
        "workerId": "w", "variables": {"registry_found": {"value": True, "type": "Boolean"}}})
    (task,) = client.get("/engine-rest/task", headers=bot).get_json()
    return task["id"]


def test_a_claim_for_a_user_id_longer_than_its_column_is_refused_and_the_task_stays_open(client, bot, factory, sample,
                                                                                       operator):
    task_id = _review_task(client, bot, factory, operator)
    reply = client.post(f"/engine-rest/task/{task_id}/claim", headers=bot, json={"userId": "u" * 101})
    assert reply.status_code == 400 and "userId is too long: at most 100" in reply.get_json()["message"]
    assert client.get(f"/engine-rest/task/{task_id}", headers=bot).get_json()["assignee"] is None
    fits = client.post(f"/engine-rest/task/{task_id}/claim", headers=bot, json={"userId": "u" * 100})
    assert fits.status_code == 204
    assert client.get(f"/engine-rest/task/{task_id}", headers=bot).get_json()["assignee"] == "u" * 100
