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
