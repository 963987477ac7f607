"""Authentication for ``/engine-rest``: HTTP Basic (any account) or a bearer token (service accounts).

A password check costs an Argon2id hash (tens of milliseconds), so a successful check is remembered for a
short while by a digest of the credential, together with the account's stamp at that moment. The account is
still read on every request: a new password changes the stamp, and a disabled account is refused, at the next
request, even when the change was made by another process (``motcua users …``). A bearer token is looked up by
its SHA-256 on every request (one indexed read, no slow hash), so a re-issued token or a disabled account
applies at once too.
"""
from __future__ import annotations

import hashlib
import threading
import time

from flask import g, jsonify, request

from engine import accounts
from engine.accounts import Principal
from engine.errors import Forbidden
from engine.runtime import Actor
from webapp import database
from webapp.rest import blueprint

PUBLIC_ENDPOINTS = {"engine_rest.openapi_document"}
CACHE_SECONDS = 300
_verified: dict[str, tuple[float, str]] = {}  # digest of name and password -> (expiry, account stamp)
_lock = threading.Lock()


def _cached(key: str) -> str | None:
    with _lock:
        hit = _verified.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        _verified.pop(key, None)
    return None


def _remember(key: str, stamp: str | None) -> None:
    if stamp is None:
        return
    with _lock:
        if len(_verified) > 10_000:
            _verified.clear()
        _verified[key] = (time.monotonic() + CACHE_SECONDS, stamp)


def forget_cached() -> None:
    """Forget remembered credentials (between tests; an account's change needs no call: its stamp changes)."""
    with _lock:
        _verified.clear()


def principal_from_request() -> Principal | None:
    """The principal the request's Authorization header names, or None."""
    credential = request.authorization
    if credential is None:
        return None
    if credential.type == "bearer" and credential.token:
        return accounts.by_token(database.session(), credential.token)
    if credential.type != "basic" or not credential.username or credential.password is None:
        return None
    key = hashlib.sha256(f"{credential.username}\0{credential.password}".encode()).hexdigest()
    found = accounts.by_password(database.session(), credential.username, credential.password, verified=_cached(key))
    if found is not None:
        _remember(key, found.stamp)
    return found


@blueprint.before_request
def authenticate():
    """Refuse a call without a valid credential (401 with a Basic challenge)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    principal = principal_from_request()
    if principal is None:
        response = jsonify({"type": "AuthenticationException", "code": "unauthenticated",
                            "message": "a valid HTTP Basic credential or service-account bearer token is required"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Basic realm="motcua engine-rest"'
        return response
    g.principal = principal
    database.release()
    return None


def actor() -> Actor:
    """The engine actor of the request's principal."""
    return g.principal.actor()


def agency_scope() -> str | None:
    """The agency a person's calls are limited to (an officer of an agency sees only its dossiers, as in the
    inbox); None for service accounts, administrators and province-wide accounts."""
    principal = g.principal
    return None if principal.is_service or principal.actor().operator else principal.agency


def require_operator() -> Actor:
    """The actor, if it is a service account or an administrator; otherwise :class:`Forbidden`."""
    current = actor()
    if not current.operator:
        raise Forbidden(f"{current.user_id} may not do this: it needs a service account or the admin group")
    return current
