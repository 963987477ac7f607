"""Camunda-style clients against a live server over real HTTP: raw JSON calls as Camunda's JavaScript
client makes them, long polling, and motcua's own runner working remotely."""
from __future__ import annotations

import base64
import json
import threading
import urllib.request

from engine import db, instances
from tests.bpmn_builder import end, external, linear, process, start
from tests.conftest import deploy_files, wait_for
from workers.client import RestClient
from workers.runner import Runner

TWO_STEPS = process(linear(start(), external("check", "check-id"), external("notify_it", "send-note"), end()))


def call(server, method, path, token, body=None, timeout=30):
    request = urllib.request.Request(server.url + "/engine-rest" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def test_a_javascript_style_client_long_polls_and_gets_the_task_that_arrives(live_server, service_token, factory,
                                                                           operator):
    deploy_files(factory, [("p.bpmn", TWO_STEPS)])
    result = {}

    def poll():
        result["reply"] = call(live_server, "POST", "/external-task/fetchAndLock", service_token, {
            "workerId": "js-client", "maxTasks": 10, "usePriority": True, "asyncResponseTimeout": 20_000,
            "topics": [{"topicName": "check-id", "lockDuration": 10_000}]})

    poller = threading.Thread(target=poll)
    poller.start()
    wait_for(lambda: _seen_polling(factory), message="the long poll to reach the server")
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"citizen_id": "001099012345"}, "HS-9").row.id
    poller.join(timeout=30)
    status, tasks = result["reply"]
    assert status == 200 and [t["processInstanceId"] for t in tasks] == [iid]
    task = tasks[0]
    assert task["variables"]["citizen_id"] == {"type": "String", "value": "001099012345", "valueInfo": {}}
    status, _ = call(live_server, "POST", f"/external-task/{task['id']}/complete", service_token, {
        "workerId": "js-client", "variables": {"id_ok": {"value": True, "type": "Boolean"}}})
    assert status == 204
    status, listing = call(live_server, "GET", f"/external-task?processInstanceId={iid}", service_token)
    assert [t["topicName"] for t in listing] == ["send-note"]


def _seen_polling(factory) -> bool:
    from engine import queries
    with db.transaction(factory) as s:
        return any("js-client" in t["workers"] for t in queries.topics(s))


def test_the_runner_works_remotely_over_http(live_server, service_token, factory, operator):
    deploy_files(factory, [("p.bpmn", TWO_STEPS)])
    with db.transaction(factory) as s:
        ids = [instances.start(s, operator, "p", {"n": i}).row.id for i in range(6)]
    seen = []

    def check(variables):
        return {"checked": variables["n"] * 10}

    def note(variables):
        seen.append(variables["checked"])
        if variables["n"] == 5:
            from workers.errors import BpmnError
            raise BpmnError("NO_ROUTE", "nobody catches this")
        return {}

    runner = Runner(RestClient(live_server.url, token=service_token), {"check-id": check, "send-note": note},
                    "remote-1", concurrency=3, lock_ms=20_000, long_poll_ms=1000)
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(lambda: len(runner.outcomes) >= 12, message="12 outcomes")
    finally:
        runner.stop()
        thread.join(timeout=30)
    assert sorted(seen) == [0, 10, 20, 30, 40, 50]
    with db.transaction(factory) as s:
        from engine import queries
        states = {i: queries.instance(s, i)["status"] for i in ids}
        (incident,) = queries.incidents(s)
    assert [states[i] for i in ids[:5]] == ["completed"] * 5 and states[ids[5]] == "active"
    assert "NO_ROUTE" in incident["incidentMessage"]


def test_basic_authentication_works_over_http(live_server, people):
    request = urllib.request.Request(live_server.url + "/engine-rest/task", headers={
        "Authorization": "Basic " + base64.b64encode(b"officer1:officer-pass").decode()})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and json.loads(response.read()) == []
