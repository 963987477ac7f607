"""The rows one command writes, sent together at the end of its save.

A command inserts its instance row or updates it (checked against the version it read), deletes the
projection rows of tasks that left their state and inserts those of tasks that entered one, opens incidents,
appends history events and, for a dossier, receives it or moves its clock. Sent one by one through the ORM's
unit of work, that is up to ten statements on every command, each with its own round trip and a good deal
of Python. On PostgreSQL the batch goes as one statement: each write a data-modifying ``WITH`` query, the
rows of each insert passed as one JSON array (PostgreSQL runs every sub-statement of a ``WITH`` exactly once
and checks foreign keys at the end of the statement). Elsewhere (SQLite) each write is its own prebuilt Core
statement. Objects inserted or updated through the batch stay in the session as if the ORM had flushed them.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Table, bindparam, delete, inspect, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine import driver_sql
from engine.errors import StaleVersion
from engine.models import (Dossier, ExternalTask, HistoryEvent, Incident, MessageSubscription, ProcessInstance,
                           UserTask, UserTaskCandidate)
from engine.citizen_models import DossierNotice

INSERT_ORDER = (ProcessInstance, Dossier, DossierNotice, UserTask, UserTaskCandidate, ExternalTask,
                MessageSubscription, Incident, HistoryEvent)  # parents first
DELETE_KEYS = {UserTask: "id", ExternalTask: "id", MessageSubscription: "task_id"}
UPDATED_OBJECTS = (Dossier,)  # changed objects of these kinds go with the batch instead of the ORM's flush
_PG = postgresql.dialect()
_PG_STATEMENTS: OrderedDict[tuple, str] = OrderedDict()
_PG_STATEMENTS_KEPT = 512  # distinct shapes (which tables, which columns) seen; a few dozen in practice


@dataclass
class _Update:
    model: type
    key: dict[str, Any]  # primary key column -> value
    values: dict[str, Any]
    read_version: int | None = None  # checked: the row must still be at this version

    def shape(self) -> tuple:
        return self.model, tuple(self.key), tuple(sorted(self.values)), self.read_version is not None


class WriteBatch:
    """The inserts, updates and deletes of one command, in the order they must apply."""

    def __init__(self) -> None:
        self.updates: list[_Update] = []
        self.deletes: dict[type, list[str]] = {}
        self.inserts: dict[type, list[dict[str, Any]]] = {}
        self.new_objects: list[Any] = []
        self.after_send: list[Callable[[], None]] = []  # called once the batch has been applied

    def update_instance(self, instance_id: str, read_version: int, values: dict[str, Any]) -> None:
        """Write ``values`` (``version_no`` among them) to the instance row if it is still at ``read_version``."""
        self.updates.insert(0, _Update(ProcessInstance, {"id": instance_id}, values, read_version))

    def delete(self, model: type, keys: list[str]) -> None:
        """Delete the rows of ``model`` (a user task, external task or message subscription) with these ids."""
        self.deletes.setdefault(model, []).extend(keys)

    def insert(self, model: type, **values: Any) -> None:
        """Insert one row of ``model``."""
        self.inserts.setdefault(model, []).append(values)

    def insert_object(self, obj: Any) -> None:
        """Insert a new ORM object (its primary key set) with the batch; the session then holds it as if it had
        loaded it. Its values are read when the batch is sent."""
        self.new_objects.append(obj)

    def send(self, session: Session) -> None:
        """Apply the batch in the session's transaction (after flushing the session's other pending objects)."""
        for obj in self.new_objects:
            self.insert(type(obj), **_new_values(obj))
        for model, rows in self.inserts.items():
            _same_columns(model, rows)
        for obj in [o for o in session.dirty if isinstance(o, UPDATED_OBJECTS)]:
            self._update_object(obj)
        if not self.updates and not self.deletes and not self.inserts:
            self._sent()
            return
        session.flush()
        connection = session.connection()
        if connection.dialect.name == "postgresql" and self._fits_one_statement():
            _send_postgresql(connection, self)
        else:
            _send_each(connection, self)
        for obj in self.new_objects:
            make_transient_to_detached(obj)
            session.add(obj)
        self.new_objects = []
        self._sent()

    def _sent(self) -> None:
        callbacks, self.after_send = self.after_send, []
        for callback in callbacks:
            callback()

    def _update_object(self, obj: Any) -> None:
        state = inspect(obj)
        values = {attr.key: getattr(obj, attr.key) for attr in state.attrs
                  if attr.key in state.mapper.columns and attr.history.has_changes()}
        if not values:
            return
        key = {column.key: getattr(obj, column.key) for column in state.mapper.primary_key}
        self.updates.append(_Update(type(obj), key, values))
        for name, value in values.items():
            set_committed_value(obj, name, value)

    def _fits_one_statement(self) -> bool:
        # a row deleted and inserted again by one command must see the delete (separate statements); a table
        # is updated once
        for model, keys in self.deletes.items():
            rows = self.inserts.get(model)
            key = DELETE_KEYS[model]
            if rows and any(row.get(key) in keys for row in rows):
                return False
        return len({u.model for u in self.updates}) == len(self.updates)


def _same_columns(model: type, rows: list[dict[str, Any]]) -> None:
    """Give every row of a table the columns any of them names (a multi-row insert has one column list): a
    column a row leaves out gets its default, as it would alone."""
    first = rows[0].keys()
    if all(row.keys() == first for row in rows):
        return
    names = {name for row in rows for name in row}
    for row in rows:
        for name in names - row.keys():
            row[name] = _default(model.__table__.c[name])


def _default(column) -> Any:
    default = column.default
    if default is not None and not default.is_scalar:
        raise ValueError(f"{column} has a computed default: give it a value before the batch inserts it")
    return default.arg if default is not None else None


def _new_values(obj: Any) -> dict[str, Any]:
    """Every column of a new object: what it was given, else the column's default (set on the object too, so
    that nothing is left for the session to load again)."""
    values = {}
    for column in obj.__table__.columns:
        if column.key in obj.__dict__:
            values[column.key] = obj.__dict__[column.key]
            continue
        values[column.key] = _default(column)
        setattr(obj, column.key, values[column.key])
    return values


# --- one statement each (SQLite, and the rare batch that cannot be one statement) ---------------------------

_INSERTS = {model: insert(model.__table__) for model in INSERT_ORDER}
_DELETES = {model: delete(model.__table__).where(model.__table__.c[key].in_(bindparam("keys", expanding=True)))
            for model, key in DELETE_KEYS.items()}
_UPDATES: dict[tuple, Any] = {}


def _update_statement(shape: tuple):
    stmt = _UPDATES.get(shape)
    if stmt is None:
        model, key_columns, columns, versioned = shape
        table: Table = model.__table__
        where = [table.c[k] == bindparam(f"_key_{k}") for k in key_columns]
        if versioned:
            where.append(table.c.version_no == bindparam("_read_version"))
        stmt = _UPDATES[shape] = update(table).where(*where).values({c: bindparam(c) for c in columns})
    return stmt


def _send_each(connection, batch: WriteBatch) -> None:
    for model in INSERT_ORDER[:3]:  # rows the updates and the other inserts may refer to
        if model in batch.inserts:
            connection.execute(_INSERTS[model], batch.inserts[model])
    for change in batch.updates:
        params = {**change.values, **{f"_key_{k}": v for k, v in change.key.items()},
                  "_read_version": change.read_version}
        result = connection.execute(_update_statement(change.shape()), params)
        if change.read_version is not None and result.rowcount != 1:
            raise StaleVersion(f"instance {change.key['id']} was changed by another command; try again")
    for model, keys in batch.deletes.items():
        connection.execute(_DELETES[model], {"keys": keys})
    for model in INSERT_ORDER[3:]:
        if model in batch.inserts:
            connection.execute(_INSERTS[model], batch.inserts[model])


# --- one statement (PostgreSQL) -----------------------------------------------------------------------------

def _send_postgresql(connection, batch: WriteBatch) -> None:
    update_shapes = tuple(change.shape() for change in batch.updates)
    delete_models = tuple(m for m in DELETE_KEYS if batch.deletes.get(m))
    insert_shapes = tuple((m, tuple(batch.inserts[m][0])) for m in INSERT_ORDER if batch.inserts.get(m))
    shape = (update_shapes, delete_models, insert_shapes)
    sql = _PG_STATEMENTS.get(shape)
    if sql is None:
        sql = _PG_STATEMENTS[shape] = _postgresql_statement(*shape)
        if len(_PG_STATEMENTS) > _PG_STATEMENTS_KEPT:
            _PG_STATEMENTS.popitem(last=False)
    params: dict[str, Any] = {}
    for i, change in enumerate(batch.updates):
        table = change.model.__table__
        params.update({f"u{i}_{k}": _bind(table.c[k], v) for k, v in (*change.values.items(), *change.key.items())})
        if change.read_version is not None:
            params[f"u{i}__read_version"] = change.read_version
    for model in delete_models:
        params[f"d_{model.__tablename__}"] = batch.deletes[model]
    for model, columns in insert_shapes:
        table = model.__table__
        processors = [(column, _bind_processor(table.c[column])) for column in columns]
        rows = [{column: process(row[column]) for column, process in processors} for row in batch.inserts[model]]
        params[f"i_{model.__tablename__}"] = json.dumps(rows, ensure_ascii=False, default=_json_value)
    result = driver_sql.run(connection, sql, params)
    versioned = batch.updates[0] if batch.updates and batch.updates[0].read_version is not None else None
    if versioned is not None and result.rowcount != 1:
        raise StaleVersion(f"instance {versioned.key['id']} was changed by another command; try again")


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


def _postgresql_statement(update_shapes, delete_models, insert_shapes) -> str:
    """The SQL of one batch shape, with psycopg's named placeholders. A checked update (the instance row's) is
    the main statement, its row count telling whether the version still matched; otherwise the last write."""
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
    checked = None
    for i, (model, key_columns, columns, versioned) in enumerate(update_shapes):
        table = model.__table__
        assignments = ", ".join(f"{_quote(c)} = %(u{i}_{c})s::{_pg_type(table.c[c])}" for c in columns)
        where = " AND ".join(f"{_quote(k)} = %(u{i}_{k})s" for k in key_columns)
        if versioned:
            where += f" AND version_no = %(u{i}__read_version)s"
            checked = f"UPDATE {model.__tablename__} SET {assignments} WHERE {where}"
        else:
            writes.append(f"UPDATE {model.__tablename__} SET {assignments} WHERE {where}")
    if checked is not None:
        writes.append(checked)
    *before, main = writes
    if not before:
        return main
    return "WITH " + ",\n".join(f"w{i} AS ({sql})" for i, sql in enumerate(before)) + "\n" + main


def _quote(name: str) -> str:
    return _PG.identifier_preparer.quote(name)


def _pg_type(column) -> str:
    return column.type.compile(dialect=_PG)
