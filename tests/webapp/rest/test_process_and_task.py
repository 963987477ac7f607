"""/engine-rest process start, instances, user tasks, messages, deployment, incidents, auth and OpenAPI."""
from __future__ import annotations

import io

import pytest

from tests.bpmn_builder import end, flow, process, start, user_task
from tests.conftest import PROCESSES, basic

MESSAGE = process("\n".join([
    start()[1], '<bpmn:intermediateCatchEvent id="wait_paid" name="Chờ thanh toán">'
                '<bpmn:messageEventDefinition messageRef="msg_paid"/></bpmn:intermediateCatchEvent>',
    user_task("review", "mot-cua")[1], end()[1],
    flow("f0", "start", "wait_paid"), flow("f1", "wait_paid", "review"), flow("f2", "review", "end")]),
    process_id="paid", extra='<bpmn:message id="msg_paid" name="payment_received"/>')


def deploy(client, bot, *files):
    data = {f"file{i}": (io.BytesIO(content), name) for i, (name, content) in enumerate(files)}
    data["deployment-name"] = "test"
    return client.post("/engine-rest/deployment/create", headers=bot, data=data, content_type="multipart/form-data")


def sample_files():
    folder = PROCESSES / "sample-residence"
    return [("process.bpmn", (folder / "process.bpmn").read_bytes())]


def test_deploy_start_and_walk_the_sample_through_user_tasks(client, bot, people):
    reply = deploy(client, bot, *sample_files())
    assert reply.status_code == 200, reply.get_json()
    (definition,) = reply.get_json()["deployedProcessDefinitions"].values()
    assert definition["key"] == "sample_residence" and definition["new"] is True
    assert deploy(client, bot, *sample_files()).get_json()["deployedProcessDefinitions"][definition["id"]][
        "new"] is False
    started = client.post("/engine-rest/process-definition/key/sample_residence/start", headers=bot, json={
        "businessKey": "HS-001", "withVariablesInReturn": True,
        "variables": {"citizen_id": {"value": "001099012345", "type": "String"},
                      "full_name": {"value": "Nguyễn Văn An", "type": "String"}}})
    assert started.status_code == 200, started.get_json()
    instance = started.get_json()
    assert instance["businessKey"] == "HS-001" and instance["ended"] is False
    assert instance["variables"]["full_name"]["value"] == "Nguyễn Văn An"
    by_key = client.get("/engine-rest/process-instance?businessKey=HS-001", headers=bot).get_json()
    assert [i["id"] for i in by_key] == [instance["id"]]


def test_user_task_claim_complete_and_the_second_completion_conflicts(client, bot, people, factory, sample,
                                                                      operator):
    from engine import db, instances
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
    # the population lookup is an external task: complete it over REST
    (job,) = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "population-lookup", "lockDuration": 10_000}]}
    ).get_json()
    client.post(f"/engine-rest/external-task/{job['id']}/complete", headers=bot, json={
        "workerId": "w", "variables": {"registry_found": {"value": True, "type": "Boolean"}}})
    officer, leader = people["officer1"], people["leader1"]
    (task,) = client.get("/engine-rest/task?candidateGroup=mot-cua", headers=officer).get_json()
    assert task["processInstanceId"] == iid and task["formKey"] == "sample-review"
    assert client.get(f"/engine-rest/task/{task['id']}/form-variables", headers=officer).status_code == 200
    assert client.post(f"/engine-rest/task/{task['id']}/claim", headers=leader, json={"userId": "leader1"}
                       ).status_code == 403
    assert client.post(f"/engine-rest/task/{task['id']}/claim", headers=officer, json={"userId": "officer1"}
                       ).status_code == 204
    assert client.get("/engine-rest/task?assignee=officer1", headers=officer).get_json()[0]["id"] == task["id"]
    invalid = client.post(f"/engine-rest/task/{task['id']}/complete", headers=officer, json={
        "variables": {"review_decision": {"value": "maybe", "type": "String"}}})
    assert invalid.status_code == 400 and invalid.get_json()["fields"][0]["field"] == "review_decision"
    ok = client.post(f"/engine-rest/task/{task['id']}/complete", headers=officer, json={
        "variables": {"review_decision": {"value": "accept", "type": "String"}}})
    assert ok.status_code == 204
    again = client.post(f"/engine-rest/task/{task['id']}/complete", headers=officer, json={
        "variables": {"review_decision": {"value": "accept", "type": "String"}}})
    assert again.status_code == 409 and "no longer open" in again.get_json()["message"]


def test_message_correlation_by_business_key_and_correlation_keys(client, bot):
    assert deploy(client, bot, ("paid.bpmn", MESSAGE)).status_code == 200
    ids = {}
    for key, fee in (("HS-1", 100), ("HS-2", 200)):
        ids[key] = client.post("/engine-rest/process-definition/key/paid/start", headers=bot, json={
            "businessKey": key, "variables": {"fee": {"value": fee, "type": "Integer"}}}).get_json()["id"]
    ambiguous = client.post("/engine-rest/message", headers=bot, json={"messageName": "payment_received"})
    assert ambiguous.status_code == 400 and "matches 2 instances" in ambiguous.get_json()["message"]
    wrong = client.post("/engine-rest/message", headers=bot, json={
        "messageName": "payment_received", "businessKey": "HS-2",
        "correlationKeys": {"fee": {"value": 100, "type": "Integer"}}})
    assert wrong.status_code == 400 and "no instance is waiting" in wrong.get_json()["message"]
    done = client.post("/engine-rest/message", headers=bot, json={
        "messageName": "payment_received", "businessKey": "HS-2", "resultEnabled": True,
        "variablesInResultEnabled": True,
        "correlationKeys": {"fee": {"value": 200, "type": "Integer"}},
        "processVariables": {"paid_amount": {"value": 200, "type": "Long"}}})
    assert done.status_code == 200
    (result,) = done.get_json()
    assert result["execution"]["processInstanceId"] == ids["HS-2"]
    assert result["variables"]["paid_amount"]["value"] == 200
    (task,) = client.get(f"/engine-rest/task?processInstanceId={ids['HS-2']}", headers=bot).get_json()
    assert task["taskDefinitionKey"] == "review"
    assert client.get(f"/engine-rest/task?processInstanceId={ids['HS-1']}", headers=bot).get_json() == []
    again = client.post("/engine-rest/message", headers=bot, json={"messageName": "payment_received",
                                                                   "businessKey": "HS-2"})
    assert again.status_code == 400


def test_a_refused_deployment_names_file_element_and_line(client, bot):
    bad = process(start()[1] + '<bpmn:serviceTask id="svc"/>' + end()[1])
    reply = deploy(client, bot, ("bad.bpmn", bad))
    assert reply.status_code == 400
    problem = next(p for p in reply.get_json()["problems"] if p["elementId"] == "svc")
    assert problem["file"] == "bad.bpmn" and problem["line"] and "topic" in problem["message"]


def test_a_topic_without_a_handler_deploys_with_a_warning(client, bot):
    from tests.bpmn_builder import external, linear
    xml = process(linear(start(), external("x", "nobody-serves-this"), end()))
    reply = deploy(client, bot, ("x.bpmn", xml))
    assert reply.status_code == 200
    (warning,) = reply.get_json()["warnings"]
    assert "nobody-serves-this" in warning["message"] and warning["elementId"] == "x"


@pytest.mark.parametrize("headers", [{}, basic("worker-bot", "wrong"), {"Authorization": "Bearer nope"},
                                     basic("nobody", "x")])
def test_every_call_needs_a_valid_credential(client, service_token, headers):
    reply = client.get("/engine-rest/process-definition", headers=headers)
    assert reply.status_code == 401 and reply.headers["WWW-Authenticate"].startswith("Basic")
    assert reply.get_json()["type"] == "AuthenticationException"


def test_people_may_not_call_worker_endpoints(client, people):
    reply = client.post("/engine-rest/external-task/fetchAndLock", headers=people["officer1"], json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t", "lockDuration": 1}]})
    assert reply.status_code == 403 and reply.get_json()["type"] == "AuthorizationException"


def test_openapi_document_is_public_and_matches_the_routes(app, client):
    doc = client.get("/engine-rest/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    declared = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/engine-rest"):
            path = rule.rule.removeprefix("/engine-rest")
            for part in ("task_id", "instance_id", "incident_id"):
                path = path.replace(f"<{part}>", "{id}")
            path = path.replace("<key>", "{key}")
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert declared == routed


def test_submit_form_checks_the_application_against_the_start_form(client, bot):
    assert deploy(client, bot, *sample_files()).status_code == 200
    url = "/engine-rest/process-definition/key/sample_residence/submit-form"
    missing = client.post(url, headers=bot, json={"variables": {"citizen_id": {"value": "001099012345",
                                                                               "type": "String"}}})
    assert missing.status_code == 400
    assert {f["field"] for f in missing.get_json()["fields"]} >= {"full_name", "purpose"}
    assert client.get("/engine-rest/process-instance", headers=bot).get_json() == []  # nothing started
    ok = client.post(url, headers=bot, json={"businessKey": "HS-9", "variables": {
        "citizen_id": {"value": "001099012345", "type": "String"},
        "full_name": {"value": "Nguyễn Văn An", "type": "String"}, "purpose": {"value": "Xin việc", "type": "String"}}})
    assert ok.status_code == 200 and ok.get_json()["businessKey"] == "HS-9"
    no_form = deploy(client, bot, ("paid.bpmn", MESSAGE))
    assert no_form.status_code == 200
    refused = client.post("/engine-rest/process-definition/key/paid/submit-form", headers=bot, json={})
    assert refused.status_code == 400 and "has no start form" in refused.get_json()["message"]


def test_overdue_tasks_are_flagged_and_filtered(client, bot, factory, operator):
    import datetime as dt

    import time_machine

    from engine import db, instances
    xml = process(start()[1] + user_task("review", "mot-cua", 'camunda:dueDate="P1D"')[1] + end()[1]
                  + flow("f0", "start", "review") + flow("f1", "review", "end"), process_id="due")
    assert deploy(client, bot, ("due.bpmn", xml)).status_code == 200
    with db.transaction(factory) as s:
        instances.start(s, operator, "due")
    (task,) = client.get("/engine-rest/task", headers=bot).get_json()
    assert task["overdue"] is False
    assert client.get("/engine-rest/task?overdue=true", headers=bot).get_json() == []
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2), tick=False):
        (late,) = client.get("/engine-rest/task?overdue=true", headers=bot).get_json()
        assert late["id"] == task["id"] and late["overdue"] is True
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()
    assert len(client.get(f"/engine-rest/task?dueBefore={soon.replace('+', '%2B')}", headers=bot).get_json()) == 1
    assert client.get("/engine-rest/task?dueBefore=2026-12-01T17:00:00", headers=bot).status_code == 400


@pytest.mark.parametrize("action", ["claim", "complete"])
def test_an_external_task_id_is_no_user_task(client, bot, factory, sample, operator, action):
    from engine import db, instances
    with db.transaction(factory) as s:
        instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"})
    (job,) = client.post("/engine-rest/external-task/fetchAndLock", headers=bot, json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "population-lookup", "lockDuration": 10_000}]}
    ).get_json()
    reply = client.post(f"/engine-rest/task/{job['id']}/{action}", headers=bot, json={"userId": "officer1"})
    assert reply.status_code == 404 and f"no user task {job['id']}" in reply.get_json()["message"]


def test_a_tasks_variables_include_what_an_instance_of_a_multi_instance_step_holds_for_itself(client, bot, people):
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="so" camunda:elementVariable="so_duoc_hoi"/>'
    body = "\n".join([start()[1], f'<bpmn:userTask id="hoi" camunda:candidateGroups="mot-cua">{loop}</bpmn:userTask>',
                      end()[1], flow("f0", "start", "hoi"), flow("f1", "hoi", "end")])
    assert deploy(client, bot, ("p.bpmn", process(body, process_id="hoi_y_kien"))).status_code == 200
    started = client.post("/engine-rest/process-definition/key/hoi_y_kien/start", headers=bot, json={
        "variables": {"so": {"value": '["Sở Xây dựng", "Sở Y tế"]', "type": "Json"}}})
    assert started.status_code == 200, started.get_json()
    officer = people["officer1"]
    tasks = client.get("/engine-rest/task?candidateGroup=mot-cua", headers=officer).get_json()
    own = sorted(client.get(f"/engine-rest/task/{t['id']}/variables", headers=officer).get_json()["so_duoc_hoi"]["value"]
                 for t in tasks)
    assert own == ["Sở Xây dựng", "Sở Y tế"]
    iid = started.get_json()["id"]
    assert "so_duoc_hoi" not in client.get(f"/engine-rest/process-instance/{iid}/variables", headers=bot).get_json()
    assert client.get("/engine-rest/task/no-such-task/variables", headers=officer).status_code == 404
