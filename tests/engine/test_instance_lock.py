"""The instance lock read without the ORM: the same objects the ORM would load, in the session, under the lock."""
from __future__ import annotations

import pytest
from sqlalchemy import event, exc, inspect, select, text
from sqlalchemy.orm import contains_eager

from engine import db, external_tasks, instance_lock, instances, queries
from engine.models import Dossier, ExternalTask, ProcessInstance, UserTask
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files

ONE_STEP = process(linear(start(), user_task("review"), end()))
APPLICATION = {"citizen_id": "001099012345", "full_name": "Nguyễn Văn An", "purpose": "Xin việc"}


def _columns(obj) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def _as_the_orm_loads(factory, model, key):
    """The rows as an ORM query loads them, in a session of their own."""
    with factory() as s:
        stmt = select(ProcessInstance).outerjoin(ProcessInstance.dossier).options(
            contains_eager(ProcessInstance.dossier))
        if model is None:
            return _columns(s.scalars(stmt.where(ProcessInstance.id == key)).one()), None
        row = s.execute(stmt.add_columns(model).join(model, model.instance_id == ProcessInstance.id)
                        .where(model.id == key)).one()
        return _columns(row[0]), _columns(row[1]), (_columns(row[0].dossier) if row[0].dossier else None)


def _sample_at_lookup(factory, operator):
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "sample_residence", dict(APPLICATION), business_key="B-1").row.id
    with db.transaction(factory) as s:
        task = external_tasks.fetch_and_lock(s, "w1", {"population-lookup": 60_000}, 1)[0]
    return iid, task.id


@pytest.fixture
def pg_factory(pg_url):
    """A session factory on a migrated PostgreSQL schema (for what only PostgreSQL does: row locks, backends)."""
    from engine import schema
    engine = db.make_engine(pg_url)
    schema.upgrade(engine)
    yield db.make_session_factory(engine)
    engine.dispose()


def _one_step_instance(factory, operator) -> str:
    deploy_files(factory, [("p.bpmn", ONE_STEP)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p").row.id


def test_the_lock_reads_what_the_orm_would_with_the_dossier(factory, sample, operator):
    iid, task_id = _sample_at_lookup(factory, operator)
    instance_columns, task_columns, dossier_columns = _as_the_orm_loads(factory, ExternalTask, task_id)
    with db.transaction(factory) as s:
        instance, task = instance_lock.lock(s, ExternalTask, task_id)
        assert _columns(instance) == instance_columns and _columns(task) == task_columns
        assert dossier_columns is not None and _columns(instance.dossier) == dossier_columns
        assert instance.started_at.tzinfo is not None and task.lock_expires_at.tzinfo is not None
        assert task.suspended is False  # a boolean, on SQLite too
        # the objects belong to the session, loaded and unchanged: the session has nothing to write
        assert s.get(ProcessInstance, iid) is instance and s.get(ExternalTask, task_id) is task
        assert s.get(Dossier, iid) is instance.dossier
        assert inspect(instance).persistent and not s.dirty and not s.new


def test_a_process_without_a_dossier_and_a_missing_row(factory, operator):
    iid = _one_step_instance(factory, operator)
    with db.transaction(factory) as s:
        task_id = queries.user_tasks(s, instance_id=iid)[0]["id"]
    with db.transaction(factory) as s:
        instance, none = instance_lock.lock(s, None, iid)
        assert instance.id == iid and instance.dossier is None and none is None
        instance, task = instance_lock.lock(s, UserTask, task_id)
        assert task.id == task_id and task.instance_id == iid
        assert instance_lock.lock(s, UserTask, "no-such-task") == (None, None)
        assert instance_lock.lock(s, None, "no-such-instance") == (None, None)


def test_an_object_the_session_holds_is_refreshed_not_duplicated(factory, operator):
    iid = _one_step_instance(factory, operator)
    with factory() as s:
        held = s.get(ProcessInstance, iid)
        s.commit()  # the session keeps its objects (expire_on_commit=False)
        with db.transaction(factory) as other:  # another command moves the row on meanwhile
            other.execute(text("UPDATE process_instance SET version_no = version_no + 5 WHERE id = :id"), {"id": iid})
        assert held.version_no == 1
        instance, _ = instance_lock.lock(s, None, iid)
        assert instance is held and held.version_no == 6 and not s.dirty
        s.commit()


def test_cursor_listeners_hear_the_lock_statement(factory, operator):
    iid = _one_step_instance(factory, operator)
    heard = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if "process_instance" in statement:
            heard.append((statement, parameters))

    bind = factory.kw["bind"]
    event.listen(bind, "before_cursor_execute", listener)
    try:
        with db.transaction(factory) as s:
            instance_lock.lock(s, None, iid)
    finally:
        event.remove(bind, "before_cursor_execute", listener)
    assert len(heard) == 1 and heard[0][0].startswith("SELECT") and iid in str(heard[0][1])


@pytest.mark.postgresql
def test_a_lock_that_waits_too_long_is_sqlalchemys_error_and_the_session_recovers(pg_factory, operator):
    iid = _one_step_instance(pg_factory, operator)
    with db.transaction(pg_factory) as holder:
        instance_lock.lock(holder, None, iid)  # holds the row lock until this block ends
        with pytest.raises(exc.OperationalError, match="lock timeout"):
            with db.transaction(pg_factory) as s:
                s.execute(text("SET LOCAL lock_timeout = '50ms'"))
                instance_lock.lock(s, None, iid)
    with db.transaction(pg_factory) as s:  # the pool's connection is usable again
        assert instance_lock.lock(s, None, iid)[0].id == iid


@pytest.mark.postgresql
def test_a_connection_lost_under_the_lock_is_invalidated_and_the_next_command_gets_a_new_one(pg_factory, operator):
    iid = _one_step_instance(pg_factory, operator)
    with pytest.raises(exc.OperationalError) as raised:
        with db.transaction(pg_factory) as s:
            backend = s.execute(text("SELECT pg_backend_pid()")).scalar()
            with pg_factory.kw["bind"].connect() as killer:  # the database server ends this session's backend
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            instance_lock.lock(s, None, iid)
    assert raised.value.connection_invalidated
    with db.transaction(pg_factory) as s:
        assert s.execute(text("SELECT pg_backend_pid()")).scalar() != backend
        assert instance_lock.lock(s, None, iid)[0].id == iid


def test_the_first_lock_of_a_new_process_needs_no_query_before_it(sqlite_url, operator):
    """A worker process whose first ORM work is a command's lock (the mappers not configured yet)."""
    import subprocess
    import sys
    from engine import schema
    engine = db.make_engine(sqlite_url)
    schema.upgrade(engine)
    iid = _one_step_instance(db.make_session_factory(engine), operator)
    engine.dispose()
    script = ("import sys\nfrom engine import db, instance_lock\n"
              "factory = db.make_session_factory(db.make_engine(sys.argv[1]))\n"
              "with db.transaction(factory) as s:\n"
              "    instance, _ = instance_lock.lock(s, None, sys.argv[2])\n"
              "    print(instance.id, instance.status)\n")
    done = subprocess.run([sys.executable, "-c", script, sqlite_url, iid], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [iid, "active"]
