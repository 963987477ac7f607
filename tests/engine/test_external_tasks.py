"""The engine side of external tasks: lock, complete, fail, BPMN errors."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import db, external_tasks, instances, queries
from engine.errors import BadInput, InstanceNotActive, LockNotHeld, NotFound
from tests.bpmn_builder import end, external, flow, linear, process, start, user_task
from tests.conftest import deploy_files

BOUNDARY = ('<bpmn:error id="err_pay" name="Payment failed" errorCode="PAYMENT_FAILED"/>')
WITH_ERROR_PATH = process("\n".join([
    start()[1], external("pay", "payment-check")[1], end()[1], user_task("fix_payment")[1], end("end_failed")[1],
    '<bpmn:boundaryEvent id="on_fail" attachedToRef="pay"><bpmn:errorEventDefinition errorRef="err_pay"/>'
    '</bpmn:boundaryEvent>',
    flow("f0", "start", "pay"), flow("f1", "pay", "end"), flow("f2", "on_fail", "fix_payment"),
    flow("f3", "fix_payment", "end_failed")]), extra=BOUNDARY)


def started(factory, operator, xml=WITH_ERROR_PATH, key="p"):
    deploy_files(factory, [("p.bpmn", xml)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, key, {"amount": 50_000}).row.id


def lock(factory, topic="payment-check", worker="w1", ms=30_000):
    with db.transaction(factory) as s:
        return external_tasks.fetch_and_lock(s, worker, {topic: ms}, max_tasks=10)


def test_a_locked_task_is_not_handed_out_twice_and_an_expired_lock_is(factory, operator):
    started(factory, operator)
    (task,) = lock(factory)
    assert task.variables == {"amount": 50_000} and task.activity_id == "pay"
    assert lock(factory, worker="w2") == []
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=31), tick=False):
        (again,) = lock(factory, worker="w2")
        assert again.id == task.id
        with db.transaction(factory) as s:
            with pytest.raises(LockNotHeld, match="not locked by worker 'w1'"):
                external_tasks.complete(s, task.id, "w1", {"paid": True})


def test_an_expired_lock_refuses_the_completion(factory, operator):
    started(factory, operator)
    (task,) = lock(factory, ms=1000)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2), tick=False):
        with db.transaction(factory) as s:
            with pytest.raises(LockNotHeld, match="expired"):
                external_tasks.complete(s, task.id, "w1", {"paid": True})


def test_complete_moves_on_and_the_task_is_gone(factory, operator):
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.complete(s, task.id, "w1", {"paid": True})
    with db.transaction(factory) as s:
        assert queries.instance_detail(s, iid)["status"] == "completed"
        with pytest.raises(NotFound):
            external_tasks.complete(s, task.id, "w1", {"paid": True})


def test_failure_with_retries_then_incident(factory, operator):
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.failure(s, task.id, "w1", "gateway timeout", retries=1, retry_timeout_ms=60_000)
    assert lock(factory) == []  # waiting for its retry time
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61), tick=False):
        (task,) = lock(factory)
        assert task.retries == 1 and task.error_message == "gateway timeout"
        with db.transaction(factory) as s:
            external_tasks.failure(s, task.id, "w1", "gateway timeout again", "trace...", retries=0)
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["openIncidents"] == 1 and detail["incidents"][0]["incidentType"] == "failedExternalTask"
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1), tick=False):
        assert lock(factory) == []  # no retries left: only an operator can bring it back


def test_bpmn_error_is_caught_by_the_boundary_event(factory, operator):
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.bpmn_error(s, task.id, "w1", "PAYMENT_FAILED", "card declined", {"reason": "declined"})
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["fix_payment"]
    assert detail["variables"]["reason"] == "declined" and detail["openIncidents"] == 0


def test_an_uncaught_bpmn_error_opens_an_incident(factory, operator):
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.bpmn_error(s, task.id, "w1", "SIGNATURE_INVALID", "bad signature")
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["status"] == "active" and detail["openIncidents"] == 1
    assert "SIGNATURE_INVALID" in detail["incidents"][0]["incidentMessage"] and detail["externalTasks"] == []


def test_priority_orders_the_queue(factory, operator):
    body = "\n".join([start()[1], '<bpmn:parallelGateway id="split"/>', '<bpmn:parallelGateway id="join"/>',
                      '<bpmn:serviceTask id="low" camunda:type="external" camunda:topic="t" camunda:taskPriority="1"/>',
                      '<bpmn:serviceTask id="high" camunda:type="external" camunda:topic="t" camunda:taskPriority="9"/>',
                      end()[1], flow("f0", "start", "split"), flow("f1", "split", "low"), flow("f2", "split", "high"),
                      flow("f3", "low", "join"), flow("f4", "high", "join"), flow("f5", "join", "end")])
    started(factory, operator, process(body))
    with db.transaction(factory) as s:
        first = external_tasks.fetch_and_lock(s, "w", {"t": 1000}, max_tasks=1)
    assert first[0].activity_id == "high"


def test_setting_retries_to_0_opens_the_incident_a_worker_running_out_would_and_only_one(factory, operator):
    # a task with no retries is never fetched again: without an incident nobody would know it waits for an operator
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.unlock(s, task.id)
        external_tasks.set_retries(s, task.id, 0, operator)
    with db.transaction(factory) as s:
        external_tasks.set_retries(s, task.id, 0, operator)  # already at 0: the incident is there
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["openIncidents"] == 1
    assert [(i["incidentType"], i["activityId"]) for i in detail["incidents"]] == [("failedExternalTask", "pay")]
    assert lock(factory) == []
    with db.transaction(factory) as s:
        external_tasks.set_retries(s, task.id, 2, operator)
    with db.transaction(factory) as s:
        assert queries.instance_detail(s, iid)["openIncidents"] == 0
    assert [t.id for t in lock(factory)] == [task.id]


def test_a_worker_may_not_fail_or_extend_a_task_of_a_suspended_instance_but_completes_it_after(factory, operator):
    # as its completion is refused: a failure would open an incident, and run down the retries, of an instance nobody
    # may act on
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        instances.suspend(s, iid, operator)
    for command in (lambda s: external_tasks.failure(s, task.id, "w1", "gateway timeout", retries=0),
                    lambda s: external_tasks.extend_lock(s, task.id, "w1", 60_000)):
        with pytest.raises(InstanceNotActive, match="suspended"):
            with db.transaction(factory) as s:
                command(s)
    with db.transaction(factory) as s:
        instances.resume(s, iid, operator)
        assert queries.instance_detail(s, iid)["openIncidents"] == 0
    with db.transaction(factory) as s:
        external_tasks.complete(s, task.id, "w1", {"paid": True})
    with db.transaction(factory) as s:
        assert queries.instance_detail(s, iid)["status"] == "completed"


def test_a_workers_local_variables_stay_with_its_task_and_do_not_overwrite_the_process_variables(factory, operator):
    # Camunda's localVariables live on the task's own scope and end with it (motcua runs no output mapping that could
    # carry them on): they are kept in the task's history, never merged into the instance's variables
    iid = started(factory, operator)
    (task,) = lock(factory)
    with db.transaction(factory) as s:
        external_tasks.complete(s, task.id, "w1", {"paid": True}, {"amount": 0, "http_status": 200})
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["status"] == "completed"
    assert detail["variables"] == {"amount": 50_000, "paid": True}
    (done,) = [h for h in detail["history"] if h["kind"] == "external_task_completed"]
    assert done["details"] == {"localVariables": {"amount": 0, "http_status": 200}}


@pytest.mark.parametrize("ms", [0, -5_000, 10**15, "60000", True])
def test_a_lock_duration_that_is_not_a_positive_number_of_ms_up_to_a_year_is_bad_input(factory, operator, ms):
    # 0 or less handed out a task whose lock had already expired (its completion then refused); more overflowed the
    # date, a text a TypeError, in the middle of the command
    started(factory, operator)
    with pytest.raises(BadInput, match="lock duration"):
        lock(factory, ms=ms)
    (task,) = lock(factory)
    for command in (lambda s: external_tasks.extend_lock(s, task.id, "w1", ms),
                    lambda s: external_tasks.failure(s, task.id, "w1", "down", retries=1, retry_timeout_ms=10**15),
                    lambda s: external_tasks.failure(s, task.id, "w1", "down", retries=2**31),
                    lambda s: external_tasks.set_retries(s, task.id, 2**31)):
        with pytest.raises(BadInput):
            with db.transaction(factory) as s:
                command(s)
