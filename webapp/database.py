"""One database session per request, opened on first use and closed (rolled back if uncommitted) at the end."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session


def state():
    """The app's shared state (settings, engine, session factory)."""
    return current_app.extensions["motcua"]


def session() -> Session:
    """The request's session."""
    if "db_session" not in g:
        g.db_session = state().factory()
    return g.db_session


def commit() -> None:
    """Commit the request's work (views call this once their command succeeded)."""
    if "db_session" in g:
        g.db_session.commit()


def release() -> None:
    """End the request's transaction now (a long wait must not hold a connection or, on SQLite, the lock)."""
    _close()


def _close(_exc=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()  # rolls back whatever was not committed


def init_app(app: Flask) -> None:
    """Close the request's session when the request ends."""
    app.teardown_appcontext(_close)
