"""Workflows kept between commands: the next command takes the object the last save wrote, and never one
that a rollback, a savepoint, another version or inexact data has made differ from the stored state."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import db, instances, runtime, user_tasks
from engine.models import HistoryEvent, ProcessInstance, UserTask
from engine.workflow_cache import WORKFLOWS, _plain
from tests.bpmn_builder import end, linear, process, script, start, user_task
from tests.conftest import deploy_files

TWO_STEPS = process(linear(start(), user_task("review"), user_task("approve"), end()))


@pytest.fixture
def deserialized(monkeypatch):
    """Counts the workflows read back from stored state."""
    calls = []
    real = runtime.SERIALIZER.loads
    monkeypatch.setattr(runtime.SERIALIZER, "loads", lambda *args: calls.append(1) or real(*args))
    return calls


def _start(factory, operator, bpmn=TWO_STEPS, variables=None) -> str:
    deploy_files(factory, [("p.bpmn", bpmn)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p", variables).row.id


def _task(factory, iid: str) -> str:
    with db.transaction(factory) as s:
        return s.scalars(select(UserTask.id).where(UserTask.instance_id == iid)).one()


def _kept(factory, iid: str) -> bool:
    """Whether a workflow is kept for the instance's stored version (taken out to look: it is put back)."""
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        wf = WORKFLOWS.take(s, iid, row.version_no, row.definition_id)
        if wf is not None:
            WORKFLOWS.keep_if_committed(s, iid, row.version_no, row.definition_id, wf)
    return wf is not None


def test_the_next_command_takes_the_workflow_the_last_save_wrote(factory, operator, deserialized):
    iid = _start(factory, operator, variables={"applicant": "Nguyễn Văn An"})
    with db.transaction(factory) as s:
        user_tasks.complete(s, _task(factory, iid), operator, {"decision": "accept"})
    assert deserialized == []  # neither the start's workflow nor the completion's was read back
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        stored = runtime.SERIALIZER.loads(row.state, *_specs(s, row))
    assert deserialized == [1]
    approve = next(t for t in stored.get_tasks() if t.task_spec.name == "approve")
    assert approve.data == {"applicant": "Nguyễn Văn An", "decision": "accept"}
    with db.transaction(factory) as s:
        user_tasks.complete(s, _task(factory, iid), operator, {"approved": True})
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        assert row.status == "completed" and json.loads(row.variables)["approved"] is True
    assert not _kept(factory, iid)  # an ended instance's workflow is not kept


def test_a_command_rolled_back_leaves_no_changed_workflow_behind(factory, operator, deserialized):
    iid = _start(factory, operator)
    review = _task(factory, iid)
    with pytest.raises(RuntimeError):
        with db.transaction(factory) as s:
            user_tasks.complete(s, review, operator, {"decision": "accept"})  # ran, saved, then the caller fails
            raise RuntimeError("the request failed after the command")
    assert not _kept(factory, iid)
    with db.transaction(factory) as s:
        loaded = runtime.load(s, iid)
        assert [t.task_spec.name for t in loaded.wf.get_tasks(state=runtime.TaskState.READY)] == ["review"]
    assert deserialized == [1]  # read back from the stored state, as it was before the failed request
    with db.transaction(factory) as s:
        user_tasks.complete(s, review, operator, {"decision": "reject"})
    with db.transaction(factory) as s:
        completed = s.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == iid,
                                                         HistoryEvent.kind == "task_completed")).all()
        assert len(completed) == 1


def test_a_savepoint_released_then_rolled_back_with_its_transaction_keeps_nothing(factory, operator):
    iid = _start(factory, operator)
    review = _task(factory, iid)
    with pytest.raises(RuntimeError):
        with db.transaction(factory) as s:
            with s.begin_nested():
                user_tasks.complete(s, review, operator, {"decision": "accept"})
            raise RuntimeError("the outer transaction fails")
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        assert row.version_no == 1
        assert WORKFLOWS.take(s, iid, 2, row.definition_id) is None  # the version that never committed


def test_a_workflow_kept_for_an_older_version_is_not_used(factory, operator, deserialized):
    iid = _start(factory, operator)
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        older = WORKFLOWS.take(s, iid, row.version_no, row.definition_id)  # as another process would not have it
    with db.transaction(factory) as s:
        user_tasks.complete(s, _task(factory, iid), operator, {"decision": "accept"})
    with db.transaction(factory) as s:  # the stale one comes back (say, this process saved it long ago)
        WORKFLOWS.keep_if_committed(s, iid, 1, row.definition_id, older)
    deserialized.clear()
    with db.transaction(factory) as s:
        loaded = runtime.load(s, iid)
        assert [t.task_spec.name for t in loaded.wf.get_tasks(state=runtime.TaskState.READY)] == ["approve"]
    assert deserialized == [1]


def test_data_that_would_not_read_back_the_same_is_not_kept(factory, operator, deserialized):
    tuple_then_task = process(linear(start(), script("pair", "pair = (1, 2)"), user_task("review"), end()))
    iid = _start(factory, operator, tuple_then_task)
    assert not _kept(factory, iid)
    with db.transaction(factory) as s:
        loaded = runtime.load(s, iid)
        task = loaded.wf.get_tasks(state=runtime.TaskState.READY)[0]
        assert task.data["pair"] == [1, 2]  # as every command has always seen it: read back from JSON


def test_a_callers_dict_changed_after_the_command_changes_nothing(factory, operator):
    iid = _start(factory, operator)
    answers = {"documents": ["cccd.pdf"], "address": {"ward": "Phường 1"}}
    with db.transaction(factory) as s:
        user_tasks.complete(s, _task(factory, iid), operator, answers)
    answers["documents"].append("forged.pdf")
    answers["address"]["ward"] = "Phường 9"
    with db.transaction(factory) as s:
        user_tasks.complete(s, _task(factory, iid), operator, {"approved": True})
    with db.transaction(factory) as s:
        row = s.get(ProcessInstance, iid)
        stored = runtime.SERIALIZER.loads(row.state, *_specs(s, row))
    review = next(t for t in stored.get_tasks() if t.task_spec.name == "review")
    assert review.data["documents"] == ["cccd.pdf"] and review.data["address"] == {"ward": "Phường 1"}


@pytest.mark.parametrize("value", [
    "chuỗi", 3, 2.5, True, None, dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, 8, 30),
    dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))), decimal.Decimal("1.10"),
    dt.timedelta(days=3), uuid.UUID(int=7), {"a": [1, {"b": "c"}]}, [[], {}],
])
def test_values_that_read_back_exactly(value):
    assert _plain({"x": value}, set())


shared = ["a"]


@pytest.mark.parametrize("value", [
    (1, 2), {1, 2}, {1: "a"}, float("nan"), float("inf"), len,
    dt.datetime(2026, 11, 27, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")), {"a": shared, "b": shared},
    object(),
])
def test_values_that_would_come_back_different(value):
    assert not _plain({"x": value}, set())


def _specs(session, row):
    from engine.specs import SPECS
    parsed = SPECS.get(session, SPECS.definition(session, row.definition_id))
    return parsed.spec, parsed.subprocess_specs


def test_a_value_that_would_not_read_back_made_in_a_later_command_is_not_kept_either(factory, operator, deserialized):
    pair_after_review = process(linear(start(), user_task("review"), script("pair", "pair = (1, 2)"),
                                       user_task("approve"), end()))
    iid = _start(factory, operator, pair_after_review)
    assert _kept(factory, iid)
    with db.transaction(factory) as s:  # the tuple is made in this command, by a task that finishes in it
        user_tasks.complete(s, _task(factory, iid), operator, {"decision": "accept"})
    assert not _kept(factory, iid)


def test_finished_tasks_unchanged_since_the_command_began_are_not_looked_at_again(factory, operator):
    from engine.workflow_cache import reads_back_exactly
    iid = _start(factory, operator, process(linear(start(), script("pair", "pair = [1, 2]"), user_task("review"),
                                                   end())))
    with db.transaction(factory) as s:
        wf = runtime.load(s, iid).wf
    pair = next(t for t in wf.get_tasks() if t.task_spec.name == "pair")
    review = next(t for t in wf.get_tasks() if t.task_spec.name == "review")
    pair.data["pair"] = (1, 2)  # as if it had been a tuple all along, which no save lets by
    assert not reads_back_exactly(wf)
    assert reads_back_exactly(wf, {pair.id: (pair.state, pair.last_state_change)})
    assert not reads_back_exactly(wf, {pair.id: (pair.state, pair.last_state_change - 1)})  # changed since: looked at
    review.data["later"] = (3, 4)  # a task still open is always looked at
    assert not reads_back_exactly(wf, {pair.id: (pair.state, pair.last_state_change)})
