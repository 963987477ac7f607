"""Database connections and sessions.

The caller opens the session (one per request, job or command) and commits it; engine functions take
the session and never commit. On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (the
database's write lock, taken up front so two writers never deadlock on an upgrade) in WAL mode with a
busy timeout; on PostgreSQL instance rows are locked with ``SELECT ... FOR UPDATE``.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, echo: bool = False, **kwargs) -> Engine:
    """Create the SQLAlchemy engine for ``url``, with the SQLite settings motcua relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_recycle", 1800)  # no pre-ping: it would cost a round trip per transaction
    if parsed.get_driver_name() == "psycopg":
        from engine.pg_cursor import LeanDescriptionCursor
        kwargs["connect_args"] = {"cursor_factory": LeanDescriptionCursor, **kwargs.get("connect_args", {})}
    return create_engine(url, echo=echo, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    with factory.begin() as session:
        yield session


_NAMES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_name(session: Session) -> str:
    """The URL of the session's database, as a string: the key of what a process keeps per database (rendering
    a URL, which hashing one does, costs more than a short query's round trip, so each engine's is kept)."""
    engine = session.get_bind().engine
    name = _NAMES.get(engine)
    if name is None:
        name = _NAMES[engine] = engine.url.render_as_string()
    return name


def is_postgresql(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (row locks and SKIP LOCKED are available)."""
    return session.get_bind().dialect.name == "postgresql"
