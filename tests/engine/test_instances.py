"""Running the sample procedure end to end on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from engine import db, external_tasks, instances, queries, runtime, user_tasks
from engine.errors import Forbidden, FormValidationFailed, InstanceNotActive, InvalidVariables, NotFound
from engine.models import ProcessInstance
from engine.sandbox import SandboxEngine

APPLICATION = {"citizen_id": "001099012345", "full_name": "Nguyễn Văn An", "purpose": "Bổ sung hồ sơ xin việc"}


def start_sample(factory, operator, business_key="H00-261127-0001"):
    with db.transaction(factory) as s:
        return instances.start(s, operator, "sample_residence", dict(APPLICATION), business_key).row.id


def finish_lookup(factory, found=True):
    with db.transaction(factory) as s:
        locked = external_tasks.fetch_and_lock(s, "worker-1", {"population-lookup": 60_000})
    assert len(locked) == 1 and locked[0].variables["citizen_id"] == APPLICATION["citizen_id"]
    with db.transaction(factory) as s:
        external_tasks.complete(s, locked[0].id, "worker-1", {"registry_found": found})
    return locked[0]


def open_task(factory, group):
    with db.transaction(factory) as s:
        tasks = queries.user_tasks(s, group=group)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_sample_happy_path(factory, sample, operator, officer, leader):
    iid = start_sample(factory, operator)
    finish_lookup(factory)
    review = open_task(factory, "mot-cua")
    assert review["taskDefinitionKey"] == "Task_review" and review["formKey"] == "sample-review"
    assert review["due"] is not None  # camunda:dueDate="P3D"
    with db.transaction(factory) as s:
        assert s.get(ProcessInstance, iid).next_timer_at is not None  # the 3-day escalation waits
    with db.transaction(factory) as s:
        user_tasks.claim(s, review["id"], officer)
        user_tasks.complete(s, review["id"], officer, {"review_decision": "accept", "review_note": "Đủ"})
    approval = open_task(factory, "lanh-dao")
    with db.transaction(factory) as s:
        user_tasks.complete(s, approval["id"], leader, {"approved": True})
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["status"] == "completed"
    assert detail["variables"]["approved"] is True and detail["variables"]["registry_found"] is True
    assert detail["userTasks"] == [] and detail["externalTasks"] == []
    kinds = [(h["kind"], h["activityId"]) for h in detail["history"]]
    assert kinds[0] == ("instance_started", None)
    assert ("activity_completed", "End_approved") in kinds
    assert ("activity_cancelled", "Timer_review_overdue") in kinds
    assert kinds[-1] == ("instance_completed", None)
    assert [h["userId"] for h in detail["history"] if h["kind"] == "task_completed"] == ["officer1", "leader1"]
    with db.transaction(factory) as s:
        assert s.get(ProcessInstance, iid).next_timer_at is None


@pytest.mark.parametrize("found, review, approved, end", [
    (False, None, None, "End_not_found"),
    (True, {"review_decision": "refuse", "review_note": "Sai thông tin"}, None, "End_refused"),
    (True, {"review_decision": "accept"}, {"approved": False}, "End_leader_rejected"),
])
def test_sample_rejection_paths(factory, sample, operator, found, review, approved, end):
    iid = start_sample(factory, operator)
    finish_lookup(factory, found)
    if review is not None:
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_task(factory, "mot-cua")["id"], operator, review)
    if approved is not None:
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_task(factory, "lanh-dao")["id"], operator, approved)
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["status"] == "completed"
    assert ("activity_completed", end) in [(h["kind"], h["activityId"]) for h in detail["history"]]


def test_state_is_stored_without_the_spec_and_reloads_with_the_sandbox(factory, sample, operator):
    iid = start_sample(factory, operator)
    with db.transaction(factory) as s:
        state = json.loads(s.get(ProcessInstance, iid).state)
        assert "spec" not in state and "subprocess_specs" not in state
        assert state["motcua_format"] == "motcua-1"
        loaded = runtime.load(s, iid)
        assert isinstance(loaded.wf.script_engine, SandboxEngine)


def test_form_data_is_validated_against_the_task_form(factory, sample, operator):
    start_sample(factory, operator)
    finish_lookup(factory)
    task = open_task(factory, "mot-cua")
    with db.transaction(factory) as s:
        with pytest.raises(FormValidationFailed) as err:
            user_tasks.complete(s, task["id"], operator, {"review_decision": "maybe"})
    assert err.value.errors[0].field == "review_decision"
    with db.transaction(factory) as s:  # refusing requires a note (if/then in the schema)
        with pytest.raises(FormValidationFailed) as err:
            user_tasks.complete(s, task["id"], operator, {"review_decision": "refuse"})
    assert [e.field for e in err.value.errors] == ["review_note"]
    assert open_task(factory, "mot-cua")["id"] == task["id"]  # nothing was lost


def test_only_candidates_or_the_assignee_may_act(factory, sample, operator, officer, leader):
    start_sample(factory, operator)
    finish_lookup(factory)
    task = open_task(factory, "mot-cua")
    with db.transaction(factory) as s:
        with pytest.raises(Forbidden):
            user_tasks.complete(s, task["id"], leader, {"review_decision": "accept"})
    with db.transaction(factory) as s:
        user_tasks.claim(s, task["id"], officer)
    other = runtime.Actor("officer2", frozenset({"mot-cua"}))
    with db.transaction(factory) as s:
        with pytest.raises(Forbidden, match="assigned to officer1"):
            user_tasks.complete(s, task["id"], other, {"review_decision": "accept"})
    with db.transaction(factory) as s:
        with pytest.raises(Forbidden):
            user_tasks.unclaim(s, task["id"], other)
        user_tasks.unclaim(s, task["id"], officer)
    with db.transaction(factory) as s:
        user_tasks.complete(s, task["id"], other, {"review_decision": "accept"})


def test_suspend_resume_terminate(factory, sample, operator):
    iid = start_sample(factory, operator)
    finish_lookup(factory)
    task = open_task(factory, "mot-cua")
    with db.transaction(factory) as s:
        instances.suspend(s, iid, operator, reason="kiểm tra")
    assert open_task(factory, "mot-cua")["suspended"] is True
    with db.transaction(factory) as s:
        with pytest.raises(InstanceNotActive):
            user_tasks.complete(s, task["id"], operator, {"review_decision": "accept"})
    with db.transaction(factory) as s:
        instances.resume(s, iid, operator)
    assert open_task(factory, "mot-cua")["suspended"] is False
    with db.transaction(factory) as s:
        instances.terminate(s, iid, operator, reason="công dân rút hồ sơ")
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
        assert detail["status"] == "terminated" and detail["endReason"] == "công dân rút hồ sơ"
        assert detail["userTasks"] == [] and detail["nextTimerAt"] is None
        with pytest.raises(InstanceNotActive):
            instances.terminate(s, iid, operator)


def test_bad_start_requests(factory, sample, operator):
    with db.transaction(factory) as s:
        with pytest.raises(NotFound):
            instances.start(s, operator, "no_such_process")
        with pytest.raises(InvalidVariables):
            instances.start(s, operator, "sample_residence", {"__class__": 1})
        with pytest.raises(InvalidVariables):
            instances.start(s, operator, "sample_residence", ["not", "a", "dict"])
        for number in (float("nan"), float("inf")):  # JSON would store them as null: refused, not lost
            with pytest.raises(InvalidVariables, match="NaN or an infinity"):
                instances.start(s, operator, "sample_residence", {"phi": {"lan": [1, number]}})


def _two_databases_one_id(tmp_path, operator) -> list:
    """Two SQLite databases, each with a diagram deployed as "p:1" (a user task "first" in one, "second" in the
    other) and an instance of it started: (engine, session factory, instance id) of each."""
    from engine import schema
    from tests.bpmn_builder import end, linear, process, start, user_task
    from tests.conftest import deploy_files
    started = []
    for name, element in (("a", "first"), ("b", "second")):
        engine = db.make_engine(f"sqlite:///{tmp_path}/{name}.db")
        schema.upgrade(engine)
        factory = db.make_session_factory(engine)
        deploy_files(factory, [("p.bpmn", process(linear(start(), user_task(element), end())))])
        with db.transaction(factory) as s:
            started.append((engine, factory, instances.start(s, operator, "p").row.id))
    return started


def test_the_same_key_and_version_in_another_database_starts_that_databases_diagram(tmp_path, operator):
    """Definitions are cached per process by id ("key:version"); two databases (a test run, a reset demo)
    may hold different diagrams under one id, and a start must run the one its database holds."""
    runs = []
    for engine, factory, iid in _two_databases_one_id(tmp_path, operator):
        with db.transaction(factory) as s:
            runs.append([t["taskDefinitionKey"] for t in queries.instance_detail(s, iid)["userTasks"]])
        engine.dispose()
    assert runs == [["first"], ["second"]]


def test_an_instance_loads_with_its_own_databases_diagram(tmp_path, operator):
    """Loading an instance takes its definition from the per-process cache too: keyed by database and id, an
    instance of the second database is not read against the first database's diagram."""
    from engine.workflow_cache import WORKFLOWS
    started = _two_databases_one_id(tmp_path, operator)
    WORKFLOWS.clear()  # each load reads the state back against the diagram its definition names
    ready = []
    for engine, factory, iid in started:
        with db.transaction(factory) as s:
            ready.append([t.task_spec.name for t in runtime.load(s, iid).wf.get_tasks(state=runtime.TaskState.READY)])
        engine.dispose()
    assert ready == [["first"], ["second"]]


@pytest.mark.parametrize("variables", [{"note": "ab\ud800"}, {"phi": {"lan": ["\udcff"]}}, {"phi": {"k\ud800": 1}}])
def test_text_with_a_lone_surrogate_is_refused_not_stored(factory, sample, operator, variables):
    # json.loads('"\\ud800"') gives one: valid JSON, but no UTF-8 column, JSON document or page can hold it
    with db.transaction(factory) as s:
        with pytest.raises(InvalidVariables, match="not valid Unicode text"):
            instances.start(s, operator, "sample_residence", {**APPLICATION, **variables})
    with db.transaction(factory) as s:
        assert queries.instances(s, "sample_residence", None, None, 10) == []
