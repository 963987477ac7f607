"""psycopg's cursor with a plainer ``description``, read by SQLAlchemy on every statement that returns rows.

psycopg builds its ``description`` anew on each access: one ``Column`` object per column, its name decoded
and its type looked up in the connection's registry. SQLAlchemy reads the description of every statement that
returns rows, though for a statement it has run before it only counts the columns; the lock statement of a
command reads the instance, the task and the dossier, 62 columns, and building their descriptions was about
3 % of a command's client time. Here each column is the DB-API's seven-item tuple — name and type code, the
sizes left ``None`` as the DB-API allows — with the two attributes psycopg's own row factories use.
"""
from __future__ import annotations

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


class LeanDescriptionCursor(psycopg.Cursor):
    """A psycopg cursor whose ``description`` is a list of :class:`LeanColumn`."""

    @property
    def description(self) -> list[LeanColumn] | None:  # type: ignore[override]
        """The columns of the current result (None if it returns no rows), as psycopg's own but plainer."""
        res = self.pgresult
        if res is None or not (res.nfields or res.status in _WITH_ROWS):
            return None
        encoding = self.connection.info.encoding
        columns = []
        for i in range(res.nfields):
            name = res.fname(i)
            columns.append(_NEW(LeanColumn, (name.decode(encoding) if name else f"column_{i + 1}", res.ftype(i),
                                             None, None, None, None, None)))
        return columns
