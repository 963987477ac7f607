"""The engine's PostgreSQL connections describe results with plain DB-API columns, and results still map by
name (text queries, ORM entities) and keep their types."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest
import sqlalchemy as sa

from engine import db, deployment, schema
from engine.models import ProcessDefinition
from engine.pg_cursor import LazyDescription, LeanColumn, LeanDescriptionCursor
from tests.conftest import PROCESSES, deploy_files

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg_engine(pg_url):
    engine = db.make_engine(pg_url)
    yield engine
    engine.dispose()


def test_the_engine_connects_with_the_lean_cursor_and_describes_columns_by_name_and_type(pg_engine):
    with pg_engine.connect() as conn:
        result = conn.exec_driver_sql("SELECT 1 AS n, 'a'::text AS t, now() AS at")
        assert isinstance(result.cursor, LeanDescriptionCursor)
        description = result.cursor.description
        assert [c.name for c in description] == ["n", "t", "at"]
        assert [c.type_code for c in description] == [23, 25, 1184]  # int4, text, timestamptz
        assert all(isinstance(c, LeanColumn) and len(c) == 7 and c[2:] == (None,) * 5 for c in description)
        assert result.cursor.description[0] == ("n", 23, None, None, None, None, None)


def test_psycopgs_own_description_agrees_on_names_and_types(pg_engine):
    query = "SELECT 1 AS n, 'a'::text AS t, NULL::numeric(5, 2) AS d, ARRAY['x'] AS xs"
    raw = pg_engine.raw_connection()
    try:
        lean = raw.driver_connection.cursor()
        lean.execute(query)
        plain = psycopg.Cursor(raw.driver_connection)
        plain.execute(query)
        assert [(c.name, c.type_code) for c in lean.description] == \
               [(c.name, c.type_code) for c in plain.description]
        lean.execute("SET search_path TO public")  # no rows: no description, as psycopg's
        assert lean.description is None
        lean.execute("SELECT")  # a result of no columns is still a result
        assert lean.description == []
    finally:
        raw.rollback()
        raw.close()


def test_results_map_by_name_and_keep_their_types(pg_engine):
    with pg_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT :n + 1 AS n, :at AS at, 'Nguyễn' AS tên"),
                           {"n": 41, "at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)}).mappings().one()
        assert row == {"n": 42, "at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc), "tên": "Nguyễn"}


def test_orm_entities_load_through_it(pg_engine):
    schema.upgrade(pg_engine)
    factory = db.make_session_factory(pg_engine)
    deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence"]))
    with db.transaction(factory) as s:
        definition = s.scalars(sa.select(ProcessDefinition)).one()
        assert (definition.key, definition.version) == ("sample_residence", 1)
        assert s.execute(sa.select(ProcessDefinition.key, ProcessDefinition.version)).one()._mapping == \
               {"key": "sample_residence", "version": 1}


def test_the_description_builds_its_columns_only_when_read_and_outlives_the_next_statement(pg_engine, monkeypatch):
    raw = pg_engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        cursor.execute("SELECT 1 AS a, 2 AS b, 3 AS c")
        description = cursor.description
        built = []
        monkeypatch.setattr(LazyDescription, "_built",
                            lambda self, _orig=LazyDescription._built: built.append(1) or _orig(self))
        assert len(description) == 3 and not built  # SQLAlchemy's question for a statement it has run before
        cursor.execute("SELECT 'x' AS other")  # the cursor moves on; the description read before still holds
        assert [c.name for c in description] == ["a", "b", "c"] and built
        assert description[1] == ("b", 23, None, None, None, None, None)
        assert [c.name for c in cursor.description] == ["other"]
    finally:
        raw.rollback()
        raw.close()
