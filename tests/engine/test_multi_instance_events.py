"""Multi-instance activities and what happens around them: a boundary event that interrupts them (timer, message,
a worker's BPMN error), the instance being terminated."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from engine import db, external_tasks, instances, messages, models, timers, user_tasks
from tests.bpmn_builder import end, linear, process, start
from tests.conftest import deploy_files
from tests.engine.test_multi_instance import PARALLEL_OVER_REVIEWERS, consult, open_tasks, review
from tests.engine.test_runtime_errors import detail

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone.utc)
BOUNDARY = {
    "timer": '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>',
    "message": '<bpmn:messageEventDefinition messageRef="m1"/>',
    "error": '<bpmn:errorEventDefinition errorRef="e1"/>'}
DEFINITIONS = '<bpmn:message id="m1" name="rut_ho_so"/><bpmn:error id="e1" errorCode="KHONG_TRA_LOI"/>'


def with_boundary(factory, operator, activity, kind: str, variables: dict) -> str:
    """Start a process whose multi-instance ``activity`` has an interrupting boundary event of ``kind``."""
    element_id = activity[0]
    extra = (f'<bpmn:boundaryEvent id="stop" attachedToRef="{element_id}">{BOUNDARY[kind]}</bpmn:boundaryEvent>'
             '<bpmn:endEvent id="stopped"/><bpmn:sequenceFlow id="fs" sourceRef="stop" targetRef="stopped"/>')
    deploy_files(factory, [("p.bpmn", process(linear(start(), activity, end()) + extra, extra=DEFINITIONS))])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p", variables, business_key="HS-1").row.id


def task_rows(factory, iid) -> int:
    with db.transaction(factory) as s:
        return sum(s.scalar(select(func.count()).select_from(table).where(table.instance_id == iid))
                   for table in (models.UserTask, models.ExternalTask))


def assert_interrupted(factory, iid, activity_id: str):
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["incidents"] == [] and task_rows(factory, iid) == 0
    kinds = [(h["kind"], h["activityId"]) for h in found["history"]]
    assert ("activity_cancelled", activity_id) in kinds and ("activity_completed", "stopped") in kinds
    return found


@pytest.mark.parametrize("kind", ["timer", "message"])
def test_an_interrupting_boundary_event_on_a_parallel_review_cancels_every_instance_and_empties_the_inbox(
        factory, operator, kind):
    with time_machine.travel(NOW, tick=False):
        iid = with_boundary(factory, operator, review(PARALLEL_OVER_REVIEWERS), kind,
                            {"reviewers": ["an", "binh", "chi"]})
        first, *others = open_tasks(factory, iid)
        with db.transaction(factory) as s:
            user_tasks.complete(s, first["id"], operator, {"opinion": "đồng ý"})
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        if kind == "timer":
            assert timers.fire_due(factory) == [iid]  # it raised, and the instance was set aside again and again
        else:
            with db.transaction(factory) as s:
                messages.correlate(s, "rut_ho_so", operator, business_key="HS-1")
    assert_interrupted(factory, iid, "review")
    assert open_tasks(factory, iid) == []


def test_a_bpmn_error_from_one_instance_of_a_worker_task_cancels_the_others(factory, operator):
    iid = with_boundary(factory, operator, consult(PARALLEL_OVER_REVIEWERS), "error", {"reviewers": ["a", "b", "c"]})
    with db.transaction(factory) as s:
        first, second, third = external_tasks.fetch_and_lock(s, "w", {"consult": 60_000}, 10)
    with db.transaction(factory) as s:
        external_tasks.complete(s, first.id, "w", {"reply": "ok"})
    with db.transaction(factory) as s:
        external_tasks.bpmn_error(s, second.id, "w", "KHONG_TRA_LOI", "no answer")
    assert_interrupted(factory, iid, "consult")


@pytest.mark.parametrize("cancel_activity", ["true", "false"])
def test_what_officers_answered_before_a_boundary_timer_fired_reaches_the_path_it_starts(
        factory, operator, cancel_activity):
    extra = (f'<bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="{cancel_activity}">'
             f'{BOUNDARY["timer"]}</bpmn:boundaryEvent><bpmn:userTask id="remind" camunda:candidateGroups="lead"/>'
             '<bpmn:endEvent id="stopped"/><bpmn:sequenceFlow id="fs" sourceRef="late" targetRef="remind"/>'
             '<bpmn:sequenceFlow id="fr" sourceRef="remind" targetRef="stopped"/>')
    deploy_files(factory, [("p.bpmn", process(linear(start(), review(PARALLEL_OVER_REVIEWERS), end()) + extra))])
    with time_machine.travel(NOW, tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "p", {"reviewers": ["an", "binh"], "opinion": None}).row.id
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"opinion": "đồng ý"})
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        timers.fire_due(factory)
    (remind,) = [t for t in open_tasks(factory, iid) if t["taskDefinitionKey"] == "remind"]
    with db.transaction(factory) as s:
        user_tasks.complete(s, remind["id"], operator, {})
    # the leader's path saw the answer given; once interrupted, the instance ends with it
    found = detail(factory, iid)
    assert found["variables"]["opinion"] == "đồng ý" and found["incidents"] == []
    if cancel_activity == "true":
        assert found["status"] == "completed"


def test_an_instance_waiting_in_a_parallel_review_moves_to_a_new_version_and_each_reviewer_keeps_their_task(
        factory, operator):
    from engine import version_migration
    from tests.bpmn_builder import user_task
    each = ("review", f'<bpmn:userTask id="review" camunda:assignee="${{reviewer}}">{PARALLEL_OVER_REVIEWERS}'
                      '</bpmn:userTask>')
    deploy_files(factory, [("p.bpmn", process(linear(start(), each, end())))])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"reviewers": ["an", "binh"]}).row.id
    an, binh = sorted(open_tasks(factory, iid), key=lambda t: t["assignee"])
    with db.transaction(factory) as s:
        user_tasks.complete(s, an["id"], operator, {"opinion_an": "đồng ý"})
    deploy_files(factory, [("p.bpmn", process(linear(start(), each, user_task("sign", "lead"), end())))])
    with db.transaction(factory) as s:
        assert version_migration.migrate(s, "p:1", "p:2", operator, reason="thêm bước ký") == \
            {"migrated": [iid], "not_migrated": []}
    (still,) = open_tasks(factory, iid)
    assert (still["id"], still["assignee"], still["processDefinitionId"]) == (binh["id"], "binh", "p:2")
    with db.transaction(factory) as s:
        user_tasks.complete(s, binh["id"], operator, {"opinion_binh": "không"})
    # the reset instance had lost its reviewer (so its assignee could not be worked out, and without one it failed
    # with "Expected an output item"), and the activity went on to the old version's next step
    found = detail(factory, iid)
    assert found["incidents"] == [] and [t["taskDefinitionKey"] for t in found["userTasks"]] == ["sign"]
    assert found["variables"]["opinion_an"] == "đồng ý" and found["variables"]["opinion_binh"] == "không"
    assert found["variables"]["reviewers"] == ["an", "binh"] and "reviewer" not in found["variables"]
