"""Migrating running instances to a newer version: the element mapping and which instances can move (with the reason
for those that cannot) in a preview; a waiting instance moves and later reaches the step the new version added; an
instance at a removed element is reported and stays untouched on its version while the others of the batch move;
a waiting timer keeps its due time; a running service task reaches the step added after it."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sqlalchemy import select

from engine import audit, db, deployment, external_tasks, instances, queries, timers, user_tasks, version_migration
from engine.errors import BadInput, Forbidden
from engine.models import MessageSubscription, ProcessInstance
from engine.runtime import Actor
from tests.bpmn_builder import end, external, linear, process, start, user_task
from tests.conftest import PROCESSES, deploy_files
from tests.engine.test_dossier_actions import dossier  # noqa: F401  (the fixture)
from tests.engine.test_modification import complete, run_workers

OPERATOR = Actor("phan-tich-1", frozenset({"analyst"}), operator=True)
STAFF = Actor("can-bo-1", frozenset({"staff"}))
ONE_STEP = process(linear(start(), user_task("a"), end()))
TWO_STEPS = process(linear(start(), user_task("a"), user_task("b"), end()))
A_THEN_C = process(linear(start(), user_task("a"), user_task("c"), end()))
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)


def deploy(factory, *versions: bytes) -> None:
    for content in versions:
        deploy_files(factory, [("p.bpmn", content)])


def started(factory, count: int = 1) -> list[str]:
    with db.transaction(factory) as session:
        return [instances.start(session, OPERATOR, "p", {"n": i}, f"HS-{i}").row.id for i in range(count)]


def open_tasks(factory, iid: str) -> list[dict]:
    with db.transaction(factory) as session:
        return queries.user_tasks(session, instance_id=iid)


def finish(factory, iid: str, element: str) -> None:
    (task,) = [t for t in open_tasks(factory, iid) if t["taskDefinitionKey"] == element]
    with db.transaction(factory) as session:
        user_tasks.complete(session, task["id"], STAFF, {})


def test_a_waiting_instance_moves_to_the_new_version_and_reaches_the_step_it_added(factory):
    deploy(factory, ONE_STEP)
    (iid,) = started(factory)
    (task,) = open_tasks(factory, iid)
    with db.transaction(factory) as session:
        user_tasks.claim(session, task["id"], STAFF)
    deploy(factory, TWO_STEPS)
    with db.transaction(factory) as session:
        preview = version_migration.preview(session, "p:1", "p:2")
    assert [e.id for e in preview.mapping.added] == ["b"] and preview.mapping.removed == []
    assert {e.id for e, _ in preview.mapping.changed} == {"a", "end"}
    assert "start" in {e.id for e in preview.mapping.mapped}
    assert [(i["id"], i["at"]) for i in preview.movable] == [(iid, ["a"])] and preview.blocked == []
    with db.transaction(factory) as session:
        report = version_migration.migrate(session, "p:1", "p:2", OPERATOR, reason="Bổ sung bước kiểm tra")
    assert report == {"migrated": [iid], "not_migrated": []}
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
        (logged,) = audit.listing(session, action="instance_migrate")
    assert detail["definitionId"] == "p:2"
    (moved,) = detail["userTasks"]
    assert (moved["id"], moved["processDefinitionId"], moved["assignee"]) == (task["id"], "p:2", "can-bo-1")
    (event,) = [h for h in detail["history"] if h["kind"] == "instance_migrated"]
    assert event["details"] == {"from": "p:1", "to": "p:2", "reason": "Bổ sung bước kiểm tra"}
    assert event["userId"] == "phan-tich-1" and logged["targetId"] == iid and logged["details"]["to"] == "p:2"
    finish(factory, iid, "a")
    assert [t["taskDefinitionKey"] for t in open_tasks(factory, iid)] == ["b"]
    finish(factory, iid, "b")
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["status"] == "completed"


def test_an_instance_at_a_removed_element_stays_untouched_while_the_others_of_the_batch_move(factory):
    deploy(factory, A_THEN_C)
    at_a, at_c = started(factory, 2)
    finish(factory, at_c, "a")
    deploy(factory, ONE_STEP)
    with db.transaction(factory) as session:
        preview = version_migration.preview(session, "p:1", "p:2")
        before = session.get(ProcessInstance, at_c)
        kept = (before.state, before.version_no, before.updated_at)
    assert [e.id for e in preview.mapping.removed] == ["c"] and preview.mapping.added == []
    assert [i["id"] for i in preview.movable] == [at_a] and preview.total == 2
    (blocked,) = preview.blocked
    assert blocked["id"] == at_c and "Task c (c)" in blocked["reason"] and "không còn" in blocked["reason"]
    with db.transaction(factory) as session:
        report = version_migration.migrate(session, "p:1", "p:2", OPERATOR)
    assert report["migrated"] == [at_a]
    assert [(r["id"], "Task c (c)" in r["reason"]) for r in report["not_migrated"]] == [(at_c, True)]
    with db.transaction(factory) as session:
        row = session.get(ProcessInstance, at_c)
        assert (row.definition_id, row.state, row.version_no, row.updated_at) == ("p:1", *kept)
        assert not [h for h in queries.instance_detail(session, at_c)["history"] if h["kind"] == "instance_migrated"]
    finish(factory, at_c, "c")  # it goes on, on its own version
    finish(factory, at_a, "a")
    with db.transaction(factory) as session:
        assert [queries.instance(session, i)["status"] for i in (at_a, at_c)] == ["completed", "completed"]


def test_one_instance_that_fails_half_way_is_rolled_back_alone(factory, monkeypatch):
    deploy(factory, ONE_STEP)
    first, second = started(factory, 2)
    deploy(factory, TWO_STEPS)
    real = version_migration._refresh_projections

    def failing(session, loaded, old, new):
        if loaded.row.id == second:
            raise RuntimeError("ổ đĩa đầy")
        real(session, loaded, old, new)

    monkeypatch.setattr(version_migration, "_refresh_projections", failing)
    with db.transaction(factory) as session:
        report = version_migration.migrate(session, "p:1", "p:2", OPERATOR, instance_ids=[first, second, "khong-co"])
    assert report["migrated"] == [first]
    assert [(r["id"], r["reason"]) for r in report["not_migrated"]] == [
        (second, "lỗi khi chuyển: ổ đĩa đầy"), ("khong-co", "không phải phiên chạy đang chạy của p:1")]
    with db.transaction(factory) as session:
        assert [queries.instance(session, i)["definitionId"] for i in (first, second)] == ["p:2", "p:1"]
        assert [t["processDefinitionId"] for t in queries.user_tasks(session, instance_id=second)] == ["p:1"]


def test_only_newer_versions_of_the_same_key_and_only_operators(factory):
    deploy(factory, ONE_STEP, TWO_STEPS)
    deploy_files(factory, [("q.bpmn", process(linear(start(), user_task("a"), end()), process_id="q"))])
    with db.transaction(factory) as session:
        with pytest.raises(BadInput, match="mới hơn"):
            version_migration.preview(session, "p:2", "p:1")
        with pytest.raises(BadInput, match="cùng một quy trình"):
            version_migration.preview(session, "p:1", "q:1")
        with pytest.raises(BadInput, match="Không có phiên bản"):
            version_migration.preview(session, "p:1", "p:9")
        with pytest.raises(Forbidden):
            version_migration.migrate(session, "p:1", "p:2", STAFF)


def test_a_waiting_timer_keeps_its_due_time(factory):
    timer = ('wait', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                     '<bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>'
                     '</bpmn:intermediateCatchEvent>')
    with time_machine.travel(NOW, tick=False):
        deploy(factory, process(linear(start(), timer, end())))
        (iid,) = started(factory)
    with db.transaction(factory) as session:
        due = queries.instance(session, iid)["nextTimerAt"]
    assert due is not None
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        deploy(factory, process(linear(start(), timer, user_task("b"), end())))
        with db.transaction(factory) as session:
            assert version_migration.migrate(session, "p:1", "p:2", OPERATOR)["migrated"] == [iid]
        with db.transaction(factory) as session:
            assert queries.instance(session, iid)["nextTimerAt"] == due  # not two hours from the migration
    with time_machine.travel(NOW + dt.timedelta(hours=2, seconds=1), tick=False):
        assert timers.fire_due(factory) == [iid]
    assert [t["taskDefinitionKey"] for t in open_tasks(factory, iid)] == ["b"]


def test_a_running_service_task_reaches_the_step_added_after_it(factory):
    deploy(factory, process(linear(start(), external("goi"), end())))
    (iid,) = started(factory)
    with db.transaction(factory) as session:
        (locked,) = external_tasks.fetch_and_lock(session, "w", {"work": 60000}, 1)
    deploy(factory, process(linear(start(), external("goi"), user_task("b"), end())))
    with db.transaction(factory) as session:
        assert version_migration.migrate(session, "p:1", "p:2", OPERATOR)["migrated"] == [iid]
    with db.transaction(factory) as session:
        external_tasks.complete(session, locked.id, "w", {"ok": True})  # the worker's lock survived the migration
    assert [t["taskDefinitionKey"] for t in open_tasks(factory, iid)] == ["b"]


def test_a_dossier_moves_to_a_version_that_renames_the_step_it_waits_at(factory, dossier):  # noqa: F811
    code, iid = dossier
    complete(factory, iid, "tiep_nhan", "mot-cua", {"quyet_dinh": "tiep_nhan"})
    run_workers(factory, "document", "notify")
    complete(factory, iid, "tham_dinh", "chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đủ điều kiện"})
    renamed = [(name, data.replace("Lãnh đạo xem xét, ký duyệt".encode(), "Lãnh đạo ký duyệt".encode()))
               for name, data in deployment.collect_files([PROCESSES / "birth-registration"])]
    deploy_files(factory, renamed)
    with db.transaction(factory) as session:
        preview = version_migration.preview(session, "dang_ky_khai_sinh:1", "dang_ky_khai_sinh:2")
        assert [(e.id, changes) for e, changes in preview.mapping.changed] == [("phe_duyet", ["bpmn_name"])]
        assert version_migration.migrate(session, "dang_ky_khai_sinh:1", "dang_ky_khai_sinh:2",
                                         OPERATOR)["migrated"] == [iid]
    with db.transaction(factory) as session:
        (task,) = queries.user_tasks(session, instance_id=iid)
        listening = session.scalars(select(MessageSubscription.message_name)
                                    .where(MessageSubscription.instance_id == iid)).all()
    assert (task["name"], task["processDefinitionId"]) == ("Lãnh đạo ký duyệt", "dang_ky_khai_sinh:2")
    assert sorted(listening) == ["dossier_due_soon", "dossier_withdrawn"]  # its event subprocesses, once each
    complete(factory, iid, "phe_duyet", "lanh-dao", {"y_kien_lanh_dao": "dong_y"})
    run_workers(factory, "document", "notify")
    assert [t["taskDefinitionKey"] for t in open_tasks(factory, iid)] == ["tra_ket_qua"]
