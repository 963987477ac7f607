"""The lock a command takes on its instance, read without the ORM's loading machinery.

Every command begins by locking its instance row (``SELECT ... FOR UPDATE``; on SQLite the transaction holds
the write lock already) and reading it together with its dossier and, for a task command, the task row: one
statement, some sixty columns. Through an ORM query (``contains_eager``, ``populate_existing``) that statement
cost three to four times what the database takes to answer it, for the ORM sets up its loading context and row
processors anew on every execution. Here the statement is compiled once per database kind and sent to the
driver on the session's own connection, in its transaction (engine.driver_sql); the columns go through the
result processors the ORM would apply (UTC timestamps, booleans), and the rows become objects of the session
as if the ORM had loaded them: an object the session holds already is refreshed with what was read, as
``populate_existing`` would, and any other is added as a persistent object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine import driver_sql
from engine.models import Dossier, ProcessInstance


@dataclass
class _LockStatement:
    """The lock statement of one kind (by instance, or by a task model's id) compiled for one database kind."""

    sql: str
    positional: tuple[str, ...] | None  # the parameter names in order, for a driver with positional parameters
    parts: list[tuple[type, int, int, tuple[str, ...]]]  # (model, first column, end, attribute names)
    columns: list[Any]
    processors: list[Any] | None = field(default=None)  # per column, built from the first result's types


_STATEMENTS: dict[tuple[str, type | None], _LockStatement] = {}


def lock(session: Session, task_model: type | None, key: str) -> tuple[ProcessInstance | None, Any]:
    """Lock the instance with id ``key`` (``task_model`` None) or the instance of the ``task_model`` row with id
    ``key``, and read it with its dossier (and the task row) under that lock. Returns (instance, task row), the
    task row None when ``task_model`` is; (None, None) when there is no such row."""
    connection = session.connection()
    statement = _statement(connection.dialect, task_model)
    params: Any = {"id": key}
    if statement.positional is not None:
        params = tuple(params[name] for name in statement.positional)
    row, description, _ = driver_sql.run(connection, statement.sql, params, fetch_one=True)
    processors = statement.processors
    if processors is None:
        dialect = connection.dialect
        processors = statement.processors = [column.type.dialect_impl(dialect).result_processor(dialect, d[1])
                                             for column, d in zip(statement.columns, description)]
    if row is None:
        return None, None
    values = [process(value) if process is not None else value for process, value in zip(processors, row)]
    objects = [_as_loaded(session, model, names, values[start:end]) for model, start, end, names in statement.parts]
    instance, dossier = objects[0], objects[-1]
    set_committed_value(instance, "dossier", dossier)
    return instance, (objects[1] if task_model is not None else None)


def _statement(dialect, task_model: type | None) -> _LockStatement:
    kind = (dialect.name, task_model)
    statement = _STATEMENTS.get(kind)
    if statement is None:
        statement = _STATEMENTS[kind] = _compile(dialect, task_model)
    return statement


def _compile(dialect, task_model: type | None) -> _LockStatement:
    configure_mappers()  # objects are made below without a query, which would otherwise configure the mappers
    instance: Table = ProcessInstance.__table__
    dossier: Table = Dossier.__table__
    models = [ProcessInstance] + ([task_model] if task_model is not None else []) + [Dossier]
    columns = [column for model in models for column in model.__table__.columns]
    joined = instance
    if task_model is None:
        where = instance.c.id == bindparam("id")
    else:
        task: Table = task_model.__table__
        joined = joined.join(task, task.c.instance_id == instance.c.id)
        where = task.c.id == bindparam("id")
    joined = joined.outerjoin(dossier, dossier.c.instance_id == instance.c.id)
    compiled = select(*columns).select_from(joined).where(where).with_for_update(of=instance).compile(dialect=dialect)
    parts, start = [], 0
    for model in models:
        names = tuple(model.__mapper__.get_property_by_column(c).key for c in model.__table__.columns)
        parts.append((model, start, start + len(names), names))
        start += len(names)
    positional = tuple(compiled.positiontup) if compiled.positional else None
    return _LockStatement(compiled.string, positional, parts, columns)


def _as_loaded(session: Session, model: type, names: tuple[str, ...], values: list[Any]):
    """The session's object for a row read (None for the columns of a row the outer join did not find)."""
    mapper = model.__mapper__
    by_name = dict(zip(names, values))
    primary_key = tuple(by_name[mapper.get_property_by_column(c).key] for c in mapper.primary_key)
    if primary_key[0] is None:
        return None
    held = session.identity_map.get((model, primary_key, None))
    if held is not None:
        for name, value in by_name.items():
            set_committed_value(held, name, value)
        return held
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(by_name)  # loaded values, not changes: nothing for a flush to write
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
