"""engine.user_tasks: claims when an account is disabled (its claimed tasks go back to their groups with the reason
in the history, and a colleague may give back a task still held by a disabled account), and an id that is not a
user task's is 'no user task', whatever history it has."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import account_admin, accounts, audit, db, external_tasks, instances, runtime, user_tasks
from engine.errors import Forbidden, InstanceNotActive, NotFound, TaskAlreadyClaimed, TaskHeldByAnother
from engine.models import Account, HistoryEvent, ProcessInstance, UserTask
from tests.engine.test_instances import finish_lookup, open_task, start_sample

COLLEAGUE = runtime.Actor("officer2", frozenset({"mot-cua"}))


@pytest.fixture
def claimed(factory, sample, operator, officer):
    """The sample's review task, claimed by officer1 (an account of group mot-cua)."""
    with db.transaction(factory) as s:
        accounts.add(s, "officer1", "mat-khau-dai-1", ["mot-cua"])
    iid = start_sample(factory, operator)
    finish_lookup(factory)
    task = open_task(factory, "mot-cua")
    with db.transaction(factory) as s:
        user_tasks.claim(s, task["id"], officer)
    return iid, task["id"]


def test_disabling_an_account_gives_its_claimed_tasks_back_with_who_and_why(factory, claimed, operator):
    iid, tid = claimed
    with db.transaction(factory) as s:
        instances.suspend(s, iid, operator, reason="kiểm tra")  # released all the same: the claim is the inbox's
    with db.transaction(factory) as s:
        account_admin.set_disabled(s, "officer1", True, by="quan-tri", reason="Nghỉ việc")
    with db.transaction(factory) as s:
        assert s.get(UserTask, tid).assignee is None
        event = s.scalars(select(HistoryEvent).where(HistoryEvent.task_id == tid)
                          .order_by(HistoryEvent.id.desc())).first()
        (row,) = audit.listing(s, action="account_disable")
    assert (event.kind, event.user_id) == ("task_unclaimed", "quan-tri")
    assert json.loads(event.details) == {"from": "officer1", "accountDisabled": True, "reason": "Nghỉ việc"}
    assert row["details"]["releasedTasks"] == [tid]
    with db.transaction(factory) as s:
        instances.resume(s, iid, operator, reason="xong")
    with db.transaction(factory) as s:
        user_tasks.claim(s, tid, COLLEAGUE)  # the group can take it again


def test_a_failed_disable_keeps_the_claim(factory, claimed):
    _, tid = claimed
    with pytest.raises(RuntimeError):
        with db.transaction(factory) as s:
            account_admin.set_disabled(s, "officer1", True, by="quan-tri")
            raise RuntimeError("the rest of the request failed")
    with db.transaction(factory) as s:
        assert s.get(UserTask, tid).assignee == "officer1" and not s.get(Account, "officer1").disabled


def test_a_colleague_may_give_back_a_task_held_by_a_disabled_account(factory, claimed, leader):
    _, tid = claimed
    with db.transaction(factory) as s:
        with pytest.raises(Forbidden):
            user_tasks.unclaim(s, tid, COLLEAGUE)  # the holder is still at work
    with db.transaction(factory) as s:
        s.get(Account, "officer1").disabled = True  # disabled without its claims released (before this rule)
    with db.transaction(factory) as s:
        with pytest.raises(Forbidden):
            user_tasks.unclaim(s, tid, leader)  # not of the task's group
        user_tasks.unclaim(s, tid, COLLEAGUE)
    with db.transaction(factory) as s:
        assert s.get(UserTask, tid).assignee is None


def test_refusals_carry_who_holds_the_task_and_the_instance_status(factory, claimed, operator):
    iid, tid = claimed
    with db.transaction(factory) as s:
        with pytest.raises(TaskHeldByAnother, match="assigned to officer1") as held:  # the English stays
            user_tasks.complete(s, tid, COLLEAGUE, {"review_decision": "accept"})
        with pytest.raises(TaskAlreadyClaimed) as taken:
            user_tasks.claim(s, tid, operator, user_id="officer2")
    assert held.value.assignee == taken.value.assignee == "officer1"
    with db.transaction(factory) as s:
        instances.suspend(s, iid, operator, reason="kiểm tra")
    with db.transaction(factory) as s:
        with pytest.raises(InstanceNotActive) as stopped:
            user_tasks.unclaim(s, tid, operator)
    assert stopped.value.status == "suspended"



def _attempt(factory, action, task_id, operator):
    with db.transaction(factory) as s:
        if action == "claim":
            user_tasks.claim(s, task_id, operator, "officer1")
        else:
            user_tasks.complete(s, task_id, operator, {})


@pytest.mark.parametrize("action", ["claim", "complete"])
def test_an_external_task_id_is_no_user_task_open_or_done(factory, sample, operator, action):
    start_sample(factory, operator, "H-1")
    with db.transaction(factory) as s:
        (waiting,) = external_tasks.fetch_and_lock(s, "worker-1", {"population-lookup": 60_000})
    with pytest.raises(NotFound, match=f"no user task {waiting.id}"):
        _attempt(factory, action, waiting.id, operator)
    with db.transaction(factory) as s:
        external_tasks.complete(s, waiting.id, "worker-1", {"registry_found": True})
    with pytest.raises(NotFound, match=f"no user task {waiting.id}"):
        _attempt(factory, action, waiting.id, operator)


def test_giving_back_a_task_nobody_holds_or_claiming_ones_own_again_changes_nothing(factory, claimed, officer):
    # no 'task_unclaimed' by someone who never held it in the history, and no new version of the instance (which would
    # refuse a colleague's completion made with the version they read)
    iid, task_id = claimed
    with db.transaction(factory) as s:
        user_tasks.claim(s, task_id, officer)  # officer1 holds it already
        user_tasks.unclaim(s, task_id, officer)
    with db.transaction(factory) as s:
        version = s.get(ProcessInstance, iid).version_no
        user_tasks.unclaim(s, task_id, COLLEAGUE)
    with db.transaction(factory) as s:
        assert s.get(ProcessInstance, iid).version_no == version and s.get(UserTask, task_id).assignee is None
        kinds = s.scalars(select(HistoryEvent.kind).where(HistoryEvent.task_id == task_id,
                                                          HistoryEvent.kind.like("task_%"))).all()
    assert kinds == ["task_claimed", "task_unclaimed"]
