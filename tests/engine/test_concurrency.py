"""Two commands on one instance at once: one wins, the other gets a conflict, nothing is lost."""
from __future__ import annotations

import threading

import pytest

from engine import db, instances, queries, runtime, user_tasks
from engine.errors import StaleVersion, TaskNotActive
from engine.models import HistoryEvent, ProcessInstance
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files

TWO_STEPS = process(linear(start(), user_task("review"), user_task("approve"), end()))


def test_two_officers_complete_the_same_task(factory, operator):
    deploy_files(factory, [("p.bpmn", TWO_STEPS)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p").row.id
    with db.transaction(factory) as s:
        task_id = queries.user_tasks(s, instance_id=iid)[0]["id"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def officer(name: str) -> None:
        actor = runtime.Actor(name, frozenset({"staff"}))
        barrier.wait(timeout=10)
        try:
            with db.transaction(factory) as s:
                user_tasks.complete(s, task_id, actor, {"decided_by": name})
            outcomes[name] = "ok"
        except TaskNotActive as err:
            outcomes[name] = err

    threads = [threading.Thread(target=officer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(type(v).__name__ if v != "ok" else "ok" for v in outcomes.values()) == ["TaskNotActive", "ok"]
    winner = next(n for n, v in outcomes.items() if v == "ok")
    loser_error = next(v for v in outcomes.values() if v != "ok")
    assert "no longer" in str(loser_error)
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
        assert detail["variables"]["decided_by"] == winner
        assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["approve"]
        completions = [h for h in detail["history"] if h["kind"] == "task_completed"]
        assert len(completions) == 1 and completions[0]["userId"] == winner
        assert s.get(ProcessInstance, iid).version_no == 2


def test_a_stale_expected_version_is_refused(factory, operator):
    deploy_files(factory, [("p.bpmn", TWO_STEPS)])
    with db.transaction(factory) as s:
        loaded = instances.start(s, operator, "p")
        iid, version = loaded.row.id, loaded.row.version_no
    with db.transaction(factory) as s:
        task_id = queries.user_tasks(s, instance_id=iid)[0]["id"]
        user_tasks.claim(s, task_id, operator)  # someone else changed the instance
    with db.transaction(factory) as s:
        with pytest.raises(StaleVersion):
            user_tasks.complete(s, task_id, operator, {}, expected_version=version)
    with db.transaction(factory) as s:
        user_tasks.complete(s, task_id, operator, {}, expected_version=version + 1)
        assert s.query(HistoryEvent).filter_by(kind="task_completed").count() == 1
