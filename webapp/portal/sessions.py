"""Sessions of people (citizens, officers): the cookie, signed with a key from the configuration or one kept in
the var folder so that every web process of a deployment signs alike; the server-side record each signed-in
session also needs (:mod:`engine.web_sessions`), so that signing out ends it everywhere; and the
sign-in-required decorator."""
from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, session, url_for

from engine import web_sessions
from engine.config import Settings
from webapp import database

SESSION_HOURS = 8  # a working day; an application in progress is also kept as a draft


def _stored_key(var_dir: Path) -> str:
    path = var_dir / "secret-key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(secrets.token_urlsafe(48))
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    return path.read_text().strip()


def configure(app: Flask, settings: Settings) -> None:
    """Set the secret key and the cookie's protections."""
    app.config.update(
        SECRET_KEY=settings.secret_key or _stored_key(settings.var_dir),
        SESSION_COOKIE_NAME="motcua_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600)


def begin(kind: str, subject: str, **details: Any) -> None:
    """Sign ``subject`` in as ``kind`` (``citizen``, ``officer``): a server-side session is opened and committed,
    and its id goes into the cookie under ``session[kind]`` with ``details``."""
    session_id = web_sessions.open_session(database.session(), kind, subject, dt.timedelta(hours=SESSION_HOURS))
    database.commit()
    session[kind] = {**details, "sid": session_id}


def signed_in(kind: str, subject_key: str) -> dict[str, Any] | None:
    """``session[kind]`` if its server-side session is still open (checked once a request); otherwise the cookie's
    entry is dropped (signed out elsewhere, expired, account disabled, or a cookie from before server sessions)."""
    entry = session.get(kind)
    if not entry:
        return None
    checked = g.setdefault("web_sessions_checked", {})
    if kind not in checked:
        checked[kind] = web_sessions.is_open(database.session(), entry.get("sid"), kind,
                                             str(entry.get(subject_key) or ""))
    if not checked[kind]:
        session.pop(kind, None)
        return None
    return entry


def end(kind: str) -> None:
    """Sign out: revoke the server-side session (committed) and drop it from the cookie."""
    entry = session.pop(kind, None) or {}
    web_sessions.revoke(database.session(), entry.get("sid"))
    database.commit()
    g.pop("web_sessions_checked", None)


def sign_in_required(who: Callable[[], Any], sign_in_endpoint: str, name: str):
    """A decorator for views of signed-in people only: ``who()`` (the citizen, the officer) goes to ``g.<name>``;
    without one, the browser is sent to ``sign_in_endpoint`` and brought back afterwards."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            person = who()
            if person is None:
                return redirect(url_for(sign_in_endpoint, next=request.path))
            setattr(g, name, person)
            return view(*args, **kwargs)
        return wrapper
    return decorate
