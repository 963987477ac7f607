"""Events crossing a subprocess's edge: a BPMN error a worker throws inside an embedded subprocess or a called
process is caught by the error boundary event on that subprocess or call activity, with no incident left behind."""
from __future__ import annotations

import pytest

from engine import db, external_tasks, instances, queries
from engine.errors import DeploymentRefused
from tests.bpmn_builder import HEADER, flow
from tests.conftest import deploy_files
from tests.engine.test_runtime_errors import detail

ERROR = '<bpmn:error id="Err" errorCode="HONG"/>'


def _caught_at(activity: str) -> str:
    return (f'<bpmn:boundaryEvent id="b" attachedToRef="{activity}"><bpmn:errorEventDefinition errorRef="Err"/>'
            '</bpmn:boundaryEvent><bpmn:userTask id="xu_ly" camunda:candidateGroups="staff"/>'
            '<bpmn:userTask id="sau" camunda:candidateGroups="staff"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
            + flow("f1", activity, "sau") + flow("f2", "sau", "e") + flow("f3", "b", "xu_ly")
            + flow("f4", "xu_ly", "e2"))


def _worker_inside(process_id: str, prefix: str) -> str:
    return (f'<bpmn:startEvent id="{prefix}s"/><bpmn:serviceTask id="{prefix}x" camunda:type="external" '
            f'camunda:topic="work"/><bpmn:endEvent id="{prefix}e"/>'
            + flow(f"{prefix}f0", f"{prefix}s", f"{prefix}x") + flow(f"{prefix}f1", f"{prefix}x", f"{prefix}e"))


def _doc(*processes: tuple[str, str]) -> bytes:
    body = "".join(f'<bpmn:process id="{pid}" isExecutable="true">{inner}</bpmn:process>' for pid, inner in processes)
    return (HEADER + ERROR + body + "</bpmn:definitions>").encode()


EMBEDDED = _doc(("p", '<bpmn:startEvent id="s"/><bpmn:subProcess id="sp">' + _worker_inside("sp", "c")
                 + '</bpmn:subProcess>' + flow("f0", "s", "sp") + _caught_at("sp")))
CALLED = _doc(("p", '<bpmn:startEvent id="s"/><bpmn:callActivity id="sp" calledElement="con"/>' + flow("f0", "s", "sp")
               + _caught_at("sp")), ("con", _worker_inside("con", "c")))


@pytest.mark.parametrize("diagram", [EMBEDDED, CALLED], ids=["embedded subprocess", "call activity"])
def test_a_bpmn_error_from_a_worker_inside_is_caught_by_the_boundary_on_the_subprocess(factory, operator, diagram):
    deploy_files(factory, [("p.bpmn", diagram)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"a": 1}).row.id
    with db.transaction(factory) as s:
        (task,) = external_tasks.fetch_and_lock(s, "w", {"work": 60_000})
    with db.transaction(factory) as s:
        external_tasks.bpmn_error(s, task.id, "w", "HONG", "không đọc được")
    found = detail(factory, iid)
    assert found["incidents"] == [] and found["status"] == "active"
    with db.transaction(factory) as s:
        assert [t["taskDefinitionKey"] for t in queries.user_tasks(s, instance_id=iid)] == ["xu_ly"]
        assert external_tasks.fetch_and_lock(s, "w", {"work": 60_000}) == []


def test_a_bpmn_error_nobody_catches_is_still_an_incident_on_the_worker_task(factory, operator):
    uncaught = _doc(("p", '<bpmn:startEvent id="s"/><bpmn:subProcess id="sp">' + _worker_inside("sp", "c")
                     + '</bpmn:subProcess><bpmn:endEvent id="e"/>' + flow("f0", "s", "sp") + flow("f1", "sp", "e")))
    deploy_files(factory, [("p.bpmn", uncaught)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {}).row.id
    with db.transaction(factory) as s:
        (task,) = external_tasks.fetch_and_lock(s, "w", {"work": 60_000})
    with db.transaction(factory) as s:
        external_tasks.bpmn_error(s, task.id, "w", "HONG")
    (incident,) = detail(factory, iid)["incidents"]
    assert incident["activityId"] == "cx" and "no error event catches it" in incident["incidentMessage"]


@pytest.mark.parametrize("definition", ['<bpmn:errorEventDefinition errorRef="Err"/>',
                                        '<bpmn:escalationEventDefinition escalationRef="Esc"/>'])
def test_an_event_subprocess_started_by_an_error_or_escalation_is_refused_at_deploy(factory, definition):
    # SpiffWorkflow started it but left the worker's task running beside it, with an incident saying uncaught
    esp = ('<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">' + definition
           + '</bpmn:startEvent><bpmn:endEvent id="ee"/>' + flow("e0", "es", "ee") + '</bpmn:subProcess>')
    diagram = _doc(("p", _worker_inside("p", "") + esp)).replace(
        b"</bpmn:definitions>", b'<bpmn:escalation id="Esc" escalationCode="X"/></bpmn:definitions>')
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", diagram)])
    (problem,) = refused.value.problems
    assert problem.element_id == "es" and problem.line and "is not run by motcua" in problem.message


def _kept_at(activity: str) -> str:
    return _caught_at(activity).replace('<bpmn:errorEventDefinition errorRef="Err"/>',
                                        '<bpmn:errorEventDefinition errorRef="Err" camunda:errorCodeVariable="ma_loi" '
                                        'camunda:errorMessageVariable="ly_do"/>')


@pytest.mark.parametrize("inside, thrown, expected", [
    (_doc(("p", '<bpmn:startEvent id="s"/><bpmn:serviceTask id="sp" camunda:type="external" camunda:topic="work"/>'
           + flow("f0", "s", "sp") + _kept_at("sp"))), "worker", {"ma_loi": "HONG", "ly_do": "không đọc được"}),
    (_doc(("p", '<bpmn:startEvent id="s"/><bpmn:subProcess id="sp"><bpmn:startEvent id="cs"/><bpmn:endEvent id="ce">'
           '<bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>' + flow("g0", "cs", "ce") + '</bpmn:subProcess>'
           + flow("f0", "s", "sp") + _kept_at("sp"))), "end event", {"ma_loi": "HONG", "ly_do": None})],
    ids=["a worker's error", "an error end event"])
def test_an_error_boundary_keeps_the_code_and_message_in_the_variables_camunda_names(factory, operator, inside,
                                                                                      thrown, expected):
    deploy_files(factory, [("p.bpmn", inside)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"a": 1}).row.id
    if thrown == "worker":
        with db.transaction(factory) as s:
            (task,) = external_tasks.fetch_and_lock(s, "w", {"work": 60_000})
        with db.transaction(factory) as s:
            external_tasks.bpmn_error(s, task.id, "w", "HONG", "không đọc được", {"chi_tiet": 1})
            expected = {**expected, "chi_tiet": 1}
    found = detail(factory, iid)
    assert found["incidents"] == [] and [t["taskDefinitionKey"] for t in found["userTasks"]] == ["xu_ly"]
    assert {k: found["variables"].get(k) for k in expected} == expected
