"""psycopg's cursor with a ``description`` that is built only when its columns are read.

psycopg builds its ``description`` anew on each access: one ``Column`` object per column, its name decoded
and its type looked up in the connection's registry. SQLAlchemy reads the description of every statement that
returns rows, but for a statement it has run before it keeps the result's columns from the first run and only
asks whether there is a description at all; the lock statement of a command reads the instance, the task and
the dossier, 62 columns, and building their descriptions anyway was about 3 % of a command's time. Here the
description is a sequence that knows its length at once and builds its columns — the DB-API's seven-item
tuples, name and type code, the sizes left ``None`` as the DB-API allows — the first time one is read.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import psycopg
from psycopg import pq

_WITH_ROWS = frozenset({pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK})


class LeanColumn(NamedTuple):
    """One column of a result, as the DB-API describes it."""

    name: str
    type_code: int
    display_size: None = None
    internal_size: None = None
    precision: None = None
    scale: None = None
    null_ok: None = None


_NEW = tuple.__new__  # a NamedTuple's own constructor runs Python code; the fields are all given here


class LazyDescription(Sequence):
    """The columns of one result, built from it on first use."""

    __slots__ = ("_result", "_encoding", "_columns")

    def __init__(self, result: pq.abc.PGresult, encoding: str) -> None:
        self._result = result
        self._encoding = encoding
        self._columns: list[LeanColumn] | None = None

    def _built(self) -> list[LeanColumn]:
        columns = self._columns
        if columns is None:
            res, encoding = self._result, self._encoding
            columns = self._columns = [
                _NEW(LeanColumn, ((name.decode(encoding) if (name := res.fname(i)) else f"column_{i + 1}"),
                                  res.ftype(i), None, None, None, None, None))
                for i in range(res.nfields)]
            self._result = None  # the result may be cleared by the cursor's next statement
        return columns

    def __len__(self) -> int:
        return len(self._columns) if self._columns is not None else self._result.nfields

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(self._built())


class LeanDescriptionCursor(psycopg.Cursor):
    """A psycopg cursor whose ``description`` is a :class:`LazyDescription`."""

    @property
    def description(self) -> LazyDescription | None:  # type: ignore[override]
        """The columns of the current result (None if it returns no rows), as psycopg's own but plainer."""
        res = self.pgresult
        if res is None or not (res.nfields or res.status in _WITH_ROWS):
            return None
        return LazyDescription(res, self.connection.info.encoding)
