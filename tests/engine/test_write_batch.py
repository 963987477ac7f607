"""A command's writes as one batch: the same rows on SQLite and PostgreSQL, nothing lost when the version check
fails, history in the order it happened, objects written by the batch held by the session."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import event, select, update

from engine import db, dossiers, instances, runtime, user_tasks
from engine.errors import StaleVersion
from engine.models import Dossier, HistoryEvent, ProcessInstance, UserTask, UserTaskCandidate
from engine.write_batch import WriteBatch
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files

TWO_STEPS = process(linear(start(), user_task("review"), user_task("approve"), end()))
AT = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.timezone.utc)


def _started(factory, operator) -> str:
    deploy_files(factory, [("p.bpmn", TWO_STEPS)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p").row.id


def _statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_a_version_changed_under_the_command_is_refused_and_nothing_it_wrote_stays(factory, operator):
    iid = _started(factory, operator)
    with db.transaction(factory) as s:
        task_id = s.scalars(select(UserTask.id).where(UserTask.instance_id == iid)).one()
    with pytest.raises(StaleVersion, match="changed by another command"):
        with db.transaction(factory) as s:
            loaded, task, _ = user_tasks._load_ready(s, task_id, operator, None)
            # another writer got past the row lock (the version is the backstop)
            table = ProcessInstance.__table__
            s.execute(update(table).where(table.c.id == iid).values(version_no=table.c.version_no + 1))
            task.run()
            runtime.advance(loaded)
            runtime.save(s, loaded, operator)
    with db.transaction(factory) as s:
        assert s.scalars(select(UserTask.activity_id).where(UserTask.instance_id == iid)).all() == ["review"]
        assert s.scalar(select(ProcessInstance.version_no).where(ProcessInstance.id == iid)) == 1
        kinds = s.scalars(select(HistoryEvent.kind).where(HistoryEvent.instance_id == iid)).all()
        assert "task_completed" not in kinds


def test_a_command_writes_its_rows_in_one_statement_on_postgresql(factory, operator):
    iid = _started(factory, operator)
    with db.transaction(factory) as s:
        task_id = s.scalars(select(UserTask.id).where(UserTask.instance_id == iid)).one()
    with db.transaction(factory) as s:
        seen = _statements(s)
        user_tasks.complete(s, task_id, operator, {"ok": True})
        writes = [q for q in seen if not q.lstrip().upper().startswith(("SELECT", "BEGIN"))]
    postgresql = s.get_bind().dialect.name == "postgresql"
    # the instance row, the old task out, the new task and its candidates in, the history
    assert len(writes) == (1 if postgresql else 5), writes
    with db.transaction(factory) as s:
        task = s.scalars(select(UserTask).where(UserTask.instance_id == iid)).one()
        assert task.activity_id == "approve" and task.created_at.tzinfo is not None
        assert s.scalars(select(UserTaskCandidate.value).where(UserTaskCandidate.task_id == task.id)).all() == ["staff"]
        assert s.get(ProcessInstance, iid).version_no == 2


def test_history_rows_keep_the_order_they_were_added_in(factory, operator):
    iid = _started(factory, operator)
    loaded_kinds = [f"probe_{i:02d}" for i in range(40)]
    with db.transaction(factory) as s:
        loaded = runtime.load(s, iid)
        batch = WriteBatch()
        for kind in loaded_kinds:
            batch.insert(HistoryEvent, instance_id=iid, at=AT, kind=kind, details=None)
        batch.send(s)
    with db.transaction(factory) as s:
        rows = s.scalars(select(HistoryEvent.kind).where(HistoryEvent.kind.like("probe_%"))
                         .order_by(HistoryEvent.id)).all()
        assert rows == loaded_kinds
        assert loaded.row.id == iid


def test_a_row_deleted_and_inserted_again_and_rows_of_different_columns_still_apply(factory, operator):
    iid = _started(factory, operator)
    with db.transaction(factory) as s:
        task = s.scalars(select(UserTask).where(UserTask.instance_id == iid)).one()
        values = {c.key: getattr(task, c.key) for c in UserTask.__table__.columns}
        batch = WriteBatch()
        batch.delete(UserTask, [task.id])
        batch.insert(UserTask, **{**values, "name": "Xem xét lại"})  # same id: needs the delete first
        batch.insert(HistoryEvent, instance_id=iid, at=AT, kind="probe_a")
        batch.insert(HistoryEvent, instance_id=iid, at=AT, kind="probe_b", user_id="someone")
        s.expunge(task)
        batch.send(s)
    with db.transaction(factory) as s:
        assert s.scalars(select(UserTask.name).where(UserTask.instance_id == iid)).all() == ["Xem xét lại"]
        rows = s.execute(select(HistoryEvent.kind, HistoryEvent.user_id).where(HistoryEvent.kind.like("probe_%"))
                         .order_by(HistoryEvent.id)).all()
        assert [tuple(r) for r in rows] == [("probe_a", None), ("probe_b", "someone")]


def test_a_naive_time_is_refused_not_stored_in_another_zone(factory, operator):
    iid = _started(factory, operator)
    with pytest.raises(Exception, match="naive datetimes"):
        with db.transaction(factory) as s:
            batch = WriteBatch()
            batch.insert(HistoryEvent, instance_id=iid, at=dt.datetime(2026, 11, 27, 8, 30), kind="probe")
            batch.send(s)
    with db.transaction(factory) as s:
        assert s.scalars(select(HistoryEvent).where(HistoryEvent.kind == "probe")).all() == []


def test_objects_written_by_the_batch_are_held_by_the_session_without_a_query(factory, operator):
    iid = _started(factory, operator)
    other = str(uuid.uuid4())
    with db.transaction(factory) as s:
        source = s.get(ProcessInstance, iid)
        row = ProcessInstance(**{c.key: getattr(source, c.key) for c in ProcessInstance.__table__.columns})
        row.id, row.business_key = other, "B-2"
        dossier = dossiers.receive(s, other, "B-2", {"deadline": {"unit": "days", "online": 5}}, {}, AT)
        batch = WriteBatch()
        batch.insert_object(row)
        batch.insert_object(dossier)
        batch.send(s)
        seen = _statements(s)
        assert s.get(Dossier, other) is dossier and dossier.supplements_allowed == 1 and dossier.paused_at is None
        assert s.get(ProcessInstance, other) is row and row.business_key == "B-2"
        dossier.paused_at = AT  # a change after the batch: the batch of the next command (or the flush) takes it
        second = WriteBatch()
        second.send(s)
        assert any(q.lstrip().upper().startswith("UPDATE DOSSIER") or "UPDATE dossier" in q for q in seen)
        assert not s.is_modified(dossier)
    with db.transaction(factory) as s:
        assert s.get(Dossier, other).paused_at == AT
        assert s.get(Dossier, other).due_at > AT
