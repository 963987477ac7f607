"""The migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine import schema
from engine.models import Base


def test_migrations_match_the_models(engine):
    assert schema.current_revision(engine) == schema.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(engine):
    assert schema.upgrade(engine) == schema.head_revision()


def test_the_applicant_migration_fills_in_open_dossiers(engine, factory):
    import datetime as dt

    from alembic import command
    from sqlalchemy import text

    from engine import db, deployment
    from tests.conftest import FORMS, PROCESSES
    from tests.engine.test_inbox import BIRTH, VN, at_intake
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    at_intake(factory, "dang_ky_khai_sinh", BIRTH, "000.00.00.H56", dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN))
    config = schema.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
    assert schema.current_revision(engine) == "0017"
    assert schema.upgrade(engine) == schema.head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT applicant_name FROM dossier")).scalars().all() == [BIRTH["applicant_name"]]


def test_the_heatmap_indexes_come_and_go_with_migration_0021(engine):
    from alembic import command
    from sqlalchemy import inspect

    def names():
        return {i["name"] for i in inspect(engine).get_indexes("history_event")}
    assert {"ix_history_event_completed", "ix_history_event_started"} <= names()
    config = schema.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    assert not {"ix_history_event_completed", "ix_history_event_started"} & names()
    assert schema.upgrade(engine) == schema.head_revision()
    assert {"ix_history_event_completed", "ix_history_event_started"} <= names()


def test_a_user_tasks_history_is_read_through_its_index(engine, factory, sample, operator):
    # the second officer's answer ("completed by … at …") must not read the whole history (migration 0023)
    from sqlalchemy import select, text

    import pytest

    from engine import db, user_tasks
    from engine.errors import TaskNotActive
    from engine.models import HistoryEvent
    from tests.engine.test_instances import finish_lookup, open_task, start_sample
    start_sample(factory, operator)
    finish_lookup(factory)
    task_id = open_task(factory, "mot-cua")["id"]
    with db.transaction(factory) as s:
        user_tasks.complete(s, task_id, operator, {"review_decision": "accept"})
    with pytest.raises(TaskNotActive, match="no longer open: it was completed"), db.transaction(factory) as s:
        user_tasks.complete(s, task_id, operator, {"review_decision": "accept"})
    query = (select(HistoryEvent).where(HistoryEvent.task_id == task_id, HistoryEvent.activity_type == "userTask")
             .order_by(HistoryEvent.id.desc()).limit(1))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("SET enable_seqscan = off"))  # a tiny table: ask whether the index can serve at all
            plan = "\n".join(c.execute(text(f"EXPLAIN {compiled}")).scalars())
        else:
            plan = "\n".join(str(row[-1]) for row in c.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_history_event_user_task" in plan
