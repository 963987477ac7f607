"""A statement sent straight to the database driver, on the session's connection and in its transaction.

The command path sends two statements built once and run thousands of times: the lock of its instance
(engine.instance_lock) and its writes (engine.write_batch). Through SQLAlchemy's execution, each pays for an
execution context and a result object built anew from the cursor's description: on the lock, which reads some
sixty columns, more than the database takes to answer. Here the statement goes to the driver's cursor. What
SQLAlchemy's execution promises its users still holds: listeners of ``before_cursor_execute`` hear of the
statement (and may change it, as SQLAlchemy lets them), an error is raised as SQLAlchemy's own exception, and
a connection found lost is not handed out by the pool again.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class DriverResult(NamedTuple):
    """What a statement sent to the driver gave back."""

    row: Any  # the first row, when asked for (else None)
    description: Any  # the driver's description of the columns (None for a statement without rows)
    rowcount: int


def run(connection: Connection, sql: str, params: Any, fetch_one: bool = False) -> DriverResult:
    """Send ``sql`` with ``params`` (in the driver's parameter style) on ``connection``'s driver connection."""
    dispatch = connection.dispatch
    if dispatch.before_cursor_execute:
        for listener in dispatch.before_cursor_execute:
            # SQLAlchemy wraps every listener of this event to return the statement and parameters to send
            sql, params = listener(connection, None, sql, params, None, False)
    driver = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        row = cursor.fetchone() if fetch_one else None
        return DriverResult(row, cursor.description, cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as err:
        # a lost connection is left to the rollback that follows, which SQLAlchemy turns into invalidating it
        # (and the pool's other connections to the same server) as it does for its own statements
        lost = connection.dialect.is_disconnect(err, driver, cursor)
        raise DBAPIError.instance(sql, params, err, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=connection.dialect) from err
    finally:
        cursor.close()
