"""The rows one command writes besides its ORM objects, sent together at the end of its save.

A command inserts its instance row or updates it (checked against the version it read), deletes the
projection rows of tasks that left their state and inserts those of tasks that entered one, opens incidents
and appends history events. Sent
one by one, that is five or six statements and as many round trips on every command. On PostgreSQL the
batch goes as one statement: each write a data-modifying ``WITH`` query, the rows of each insert passed as
one JSON array (PostgreSQL runs every sub-statement of a ``WITH`` exactly once and checks
foreign keys at the end of the statement). Elsewhere (SQLite) each write is its own prebuilt Core statement.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from engine.errors import StaleVersion
from engine.models import (ExternalTask, HistoryEvent, Incident, MessageSubscription, ProcessInstance, UserTask,
                           UserTaskCandidate)

INSERT_ORDER = (ProcessInstance, UserTask, UserTaskCandidate, ExternalTask, MessageSubscription, Incident,
                HistoryEvent)  # parents first
DELETE_KEYS = {UserTask: "id", ExternalTask: "id", MessageSubscription: "task_id"}
_INSTANCES: Table = ProcessInstance.__table__
_PG = postgresql.dialect()
_PG_STATEMENTS: OrderedDict[tuple, str] = OrderedDict()
_PG_STATEMENTS_KEPT = 512  # distinct shapes (which tables, which columns) seen; a few dozen in practice


class WriteBatch:
    """The instance row update, deletes and inserts of one command, in the order they must apply."""

    def __init__(self) -> None:
        self.instance: tuple[str, int, dict[str, Any]] | None = None  # (id, version read, new values)
        self.deletes: dict[type, list[str]] = {}
        self.inserts: dict[type, list[dict[str, Any]]] = {}

    def update_instance(self, instance_id: str, read_version: int, values: dict[str, Any]) -> None:
        """Write ``values`` (``version_no`` among them) to the instance row if it is still at ``read_version``."""
        self.instance = (instance_id, read_version, values)

    def delete(self, model: type, keys: list[str]) -> None:
        """Delete the rows of ``model`` (a user task, external task or message subscription) with these ids."""
        self.deletes.setdefault(model, []).extend(keys)

    def insert(self, model: type, **values: Any) -> None:
        """Insert one row of ``model``."""
        self.inserts.setdefault(model, []).append(values)

    def send(self, session: Session) -> None:
        """Apply the batch in the session's transaction (after flushing the session's pending objects)."""
        if self.instance is None and not self.deletes and not self.inserts:
            return
        session.flush()
        connection = session.connection()
        if connection.dialect.name == "postgresql" and self._fits_one_statement():
            _send_postgresql(connection, self)
        else:
            _send_each(connection, self)

    def _fits_one_statement(self) -> bool:
        # a row deleted and inserted again by one command must see the delete (separate statements), and
        # the rows of a table must all name the same columns (one record type per table)
        for model, keys in self.deletes.items():
            rows = self.inserts.get(model)
            key = DELETE_KEYS[model]
            if rows and any(row.get(key) in keys for row in rows):
                return False
        for rows in self.inserts.values():
            first = rows[0].keys()
            if any(row.keys() != first for row in rows):
                return False
        return True


# --- one statement each (SQLite, and the rare batch that cannot be one statement) ---------------------------

_INSERTS = {model: insert(model.__table__) for model in INSERT_ORDER}
_DELETES = {model: delete(model.__table__).where(model.__table__.c[key].in_(bindparam("keys", expanding=True)))
            for model, key in DELETE_KEYS.items()}
_UPDATES: dict[tuple[str, ...], Any] = {}


def _instance_update(keys: tuple[str, ...]):
    stmt = _UPDATES.get(keys)
    if stmt is None:
        stmt = _UPDATES[keys] = (
            update(_INSTANCES)
            .where(_INSTANCES.c.id == bindparam("_id"), _INSTANCES.c.version_no == bindparam("_read_version"))
            .values({key: bindparam(key) for key in keys}))
    return stmt


def _send_each(connection, batch: WriteBatch) -> None:
    if batch.instance is not None:
        instance_id, read_version, values = batch.instance
        result = connection.execute(_instance_update(tuple(sorted(values))),
                                    {**values, "_id": instance_id, "_read_version": read_version})
        if result.rowcount != 1:
            raise StaleVersion(f"instance {instance_id} was changed by another command; try again")
    for model, keys in batch.deletes.items():
        connection.execute(_DELETES[model], {"keys": keys})
    for model in INSERT_ORDER:
        if model in batch.inserts:
            connection.execute(_INSERTS[model], batch.inserts[model])


# --- one statement (PostgreSQL) -----------------------------------------------------------------------------

def _send_postgresql(connection, batch: WriteBatch) -> None:
    update_keys = tuple(sorted(batch.instance[2])) if batch.instance is not None else None
    delete_models = tuple(m for m in DELETE_KEYS if batch.deletes.get(m))
    insert_shapes = tuple((m, tuple(batch.inserts[m][0])) for m in INSERT_ORDER if batch.inserts.get(m))
    shape = (update_keys, delete_models, insert_shapes)
    sql = _PG_STATEMENTS.get(shape)
    if sql is None:
        sql = _PG_STATEMENTS[shape] = _postgresql_statement(*shape)
        if len(_PG_STATEMENTS) > _PG_STATEMENTS_KEPT:
            _PG_STATEMENTS.popitem(last=False)
    params: dict[str, Any] = {}
    if batch.instance is not None:
        instance_id, read_version, values = batch.instance
        params.update({f"u_{key}": _bind(_INSTANCES.c[key], value) for key, value in values.items()},
                      u__id=instance_id, u__read_version=read_version)
    for model in delete_models:
        params[f"d_{model.__tablename__}"] = batch.deletes[model]
    for model, columns in insert_shapes:
        table = model.__table__
        processors = [(column, _bind_processor(table.c[column])) for column in columns]
        rows = [{column: process(row[column]) for column, process in processors} for row in batch.inserts[model]]
        params[f"i_{model.__tablename__}"] = json.dumps(rows, ensure_ascii=False, default=_json_value)
    result = connection.exec_driver_sql(sql, params)
    if batch.instance is not None and result.rowcount != 1:
        raise StaleVersion(f"instance {batch.instance[0]} was changed by another command; try again")


def _bind(column, value):
    """A value as the column's type would bind it (the ORM's and Core's processing, e.g. UTC timestamps)."""
    return _bind_processor(column)(value)


def _bind_processor(column):
    processor = _PROCESSORS.get(column)
    if processor is None:
        processor = _PROCESSORS[column] = column.type.bind_processor(_PG) or _unchanged
    return processor


def _unchanged(value):
    return value


def _json_value(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()  # timezone-aware (UTCDateTime refuses naive ones)
    raise TypeError(f"{type(value).__name__} cannot be written in a batch")


_PROCESSORS: dict = {}


def _postgresql_statement(update_keys, delete_models, insert_shapes) -> str:
    """The SQL of one batch shape, with psycopg's named placeholders. The instance row's update, if any, is
    the main statement (its row count tells whether the version still matched); otherwise the last write."""
    writes = []
    for model in delete_models:
        name, key = model.__tablename__, DELETE_KEYS[model]
        writes.append(f"DELETE FROM {name} WHERE {_quote(key)} = ANY(%(d_{name})s::varchar[])")
    for model, columns in insert_shapes:
        name, table = model.__tablename__, model.__table__
        listed = ", ".join(_quote(c) for c in columns)
        typed = ", ".join(f"{_quote(c)} {_pg_type(table.c[c])}" for c in columns)
        # WITH ORDINALITY and ORDER BY: rows go in (and history ids are drawn) in the order they were added
        writes.append(f"INSERT INTO {name} ({listed}) SELECT {listed} FROM ROWS FROM "
                      f"(json_to_recordset(%(i_{name})s::json) AS ({typed})) WITH ORDINALITY AS rows({listed}, n) "
                      f"ORDER BY n")
    if update_keys is not None:
        assignments = ", ".join(f"{_quote(key)} = %(u_{key})s::{_pg_type(_INSTANCES.c[key])}" for key in update_keys)
        writes.append(f"UPDATE process_instance SET {assignments} WHERE id = %(u__id)s "
                      f"AND version_no = %(u__read_version)s")
    *before, main = writes
    if not before:
        return main
    return "WITH " + ",\n".join(f"w{i} AS ({sql})" for i, sql in enumerate(before)) + "\n" + main


def _quote(name: str) -> str:
    return _PG.identifier_preparer.quote(name)


def _pg_type(column) -> str:
    return column.type.compile(dialect=_PG)
