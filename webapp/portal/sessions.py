"""Sessions of people (citizens, officers): the cookie, signed with a key from the configuration or one kept in
the var folder so that every web process of a deployment signs alike, and the sign-in-required decorator."""
from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, url_for

from engine.config import Settings

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
