"""What goes wrong while a workflow runs becomes an incident on its element, never a server error or a stuck
instance: a script raising an error SpiffWorkflow cannot describe, a timer value that is not ISO 8601, a cycle
that would repeat without end; and a script keeps the variables named like the sandbox's functions."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import db, instances, queries, timers, user_tasks
from engine.errors import DeploymentRefused
from tests.bpmn_builder import end, linear, process, script, start, user_task
from tests.conftest import deploy_files

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone.utc)


def timer(element_id: str, tag: str, text: str) -> tuple[str, str]:
    return element_id, (f'<bpmn:intermediateCatchEvent id="{element_id}"><bpmn:timerEventDefinition>'
                        f'<bpmn:{tag}>{text}</bpmn:{tag}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def detail(factory, iid):
    with db.transaction(factory) as s:
        return queries.instance_detail(s, iid)


def complete_the_form(factory, operator, iid, variables):
    with db.transaction(factory) as s:
        (task,) = queries.user_tasks(s, instance_id=iid)
        user_tasks.complete(s, task["id"], operator, variables)


def started(factory, operator, *elements, variables=None, extra=""):
    deploy_files(factory, [("p.bpmn", process(linear(start(), *elements, end()) + extra))])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p", variables or {}).row.id


@pytest.mark.parametrize("code, words", [("x = {'a': 1}[0]", "KeyError: 0"),
                                         ("x = 10.0 ** 400", "OverflowError")])
def test_a_script_error_spiffworkflow_cannot_describe_is_an_incident(factory, operator, code, words):
    iid = started(factory, operator, user_task("form"), script("calc", code))
    complete_the_form(factory, operator, iid, {"a": 1})  # the command succeeds: the officer's answer is kept
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "calc" and words in incident["incidentMessage"]
    assert found["variables"]["a"] == 1 and found["status"] == "active"


@pytest.mark.parametrize("tag, typed, words", [
    ("timeDate", "31/12/2026", ["'31/12/2026'", "ISO 8601"]),  # a date from a form
    ("timeCycle", "R/PT0S", ["interval"]),  # would repeat without end inside one command
])
def test_a_timer_value_from_a_form_that_cannot_run_is_an_incident_on_the_timer(factory, operator, tag, typed, words):
    # a cycle waits on a boundary event (on an intermediate event deploy refuses it)
    waiting = (user_task("wait", extra="") if tag == "timeCycle" else timer("hen", tag, "gia_tri"))
    with time_machine.travel(NOW, tick=False):
        iid = started(factory, operator, user_task("form"), waiting, extra=(
            '<bpmn:boundaryEvent id="hen" attachedToRef="wait" cancelActivity="false"><bpmn:timerEventDefinition>'
            '<bpmn:timeCycle>gia_tri</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
            '<bpmn:endEvent id="nhac"/><bpmn:sequenceFlow id="fb" sourceRef="hen" targetRef="nhac"/>')
            if tag == "timeCycle" else "")
        complete_the_form(factory, operator, iid, {"gia_tri": typed})
    (incident,) = detail(factory, iid)["incidents"]
    assert incident["activityId"] == "hen" and all(w in incident["incidentMessage"] for w in words)


@pytest.mark.parametrize("tag, text, words", [("timeDate", "2026-13-45T99:00:00", "not an ISO 8601 date"),
                                              ("timeCycle", "R/PT0S", "repeats with no interval"),
                                              ("timeCycle", "R5/PT0S", "repeats with no interval")])
def test_a_literal_timer_that_cannot_run_is_refused_at_deploy(factory, tag, text, words):
    with pytest.raises(DeploymentRefused) as err:
        deploy_files(factory, [("p.bpmn", process(linear(start(), timer("t", tag, text), end())))])
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.element_id == "t" and words in problem.message


def test_a_script_keeps_variables_named_like_the_sandbox_functions(factory, operator):
    iid = started(factory, operator, script("calc", "tong = days + hours + sum"),
                  variables={"days": 3, "hours": 8, "sum": 100, "amount": 2})
    variables = detail(factory, iid)["variables"]
    assert {k: variables[k] for k in ("days", "hours", "sum", "amount", "tong")} == {
        "days": 3, "hours": 8, "sum": 100, "amount": 2, "tong": 111}


def test_the_scheduler_fires_other_timers_when_one_instance_cannot_be_fired(factory, operator, monkeypatch):
    deploy_files(factory, [("p.bpmn", process(linear(start(), timer("t", "timeDuration", "PT1M"), end())))])
    with time_machine.travel(NOW, tick=False):
        with db.transaction(factory) as s:
            broken, fine = (instances.start(s, operator, "p", {"i": i}).row.id for i in range(2))
    real = timers.runtime.advance

    def advance(loaded):
        if loaded.row.id == broken:
            raise RuntimeError("a bug in the engine")
        real(loaded)
    monkeypatch.setattr(timers.runtime, "advance", advance)
    later = NOW + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        fired = timers.fire_due(factory, later)
    assert fired == [fine]
    assert detail(factory, fine)["status"] == "completed"
    broken_now = detail(factory, broken)
    assert broken_now["status"] == "active" and broken_now["nextTimerAt"] > later.isoformat()


@pytest.mark.parametrize("code, kind", [("y = range(3)", "range"), ("y = zip(a, a)", "zip"),
                                        ("y = enumerate(a)", "enumerate"), ("y = reversed(a)", "list_reverseiterator"),
                                        ("y = d.keys()", "dict_keys"), ("y = [zip(a, a)]", "zip"),
                                        ("y = (i for i in a)", "generator")])
def test_a_script_leaving_an_object_that_cannot_be_stored_is_an_incident(factory, operator, code, kind):
    iid = started(factory, operator, user_task("form"), script("calc", code), user_task("after"))
    complete_the_form(factory, operator, iid, {"a": [1, 2], "d": {"k": 1}})  # was a TypeError: a server error
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "calc" and f"'y' holds an object of type {kind}" in incident["incidentMessage"]
    assert found["variables"]["a"] == [1, 2]


def test_a_script_may_store_what_it_computes_with_those_functions(factory, operator):
    iid = started(factory, operator, script("calc", "y = list(range(3))\nz = sorted(d.keys())\nw = set(a)"),
                  user_task("after"), variables={"a": [1, 1], "d": {"k": 1}})
    variables = detail(factory, iid)["variables"]
    assert (variables["y"], variables["z"], variables["w"]) == ([0, 1, 2], ["k"], [1])


@pytest.mark.parametrize("tag, text, words", [
    ("timeDuration", "-PT1H", "is negative"),  # SpiffWorkflow dropped the minus: the timer waited an hour
    ("timeDuration", "P", "gives no time"),
    ("timeCycle", "R3/2020-01-01T00:00:00Z/PT1H", "intermediate timer waits once"),  # made three tokens
    ("timeCycle", "R/PT1H", "intermediate timer waits once"),
])
def test_a_timer_value_spiffworkflow_misreads_is_refused_at_deploy(factory, tag, text, words):
    with pytest.raises(DeploymentRefused) as err:
        deploy_files(factory, [("p.bpmn", process(linear(start(), timer("t", tag, text), end())))])
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.element_id == "t" and problem.line and words in problem.message


def test_a_negative_duration_from_a_form_is_an_incident_on_the_timer(factory, operator):
    with time_machine.travel(NOW, tick=False):
        iid = started(factory, operator, user_task("form"), timer("hen", "timeDuration", "cho"), user_task("after"))
        complete_the_form(factory, operator, iid, {"cho": "-PT1H"})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "hen" and "'-PT1H' is negative" in incident["incidentMessage"]
    assert found["nextTimerAt"] is None
