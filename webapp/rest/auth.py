"""Authentication for ``/engine-rest``: HTTP Basic (any account) or a bearer token (service accounts).

A password check costs an Argon2id hash (tens of milliseconds), so a successful check is remembered for a
short while by a digest of the credential, together with the account's stamp at that moment. A remembered
credential (password or token) is trusted for :data:`RECHECK_SECONDS` before its account is read again: a new
password, a re-issued token or a disabled account applies within that time in every process, even when the change
was made by another one (``motcua users …``), while a client's steady stream of calls costs no read of its account
per call.
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
CACHE_SECONDS = 300  # how long a successful password check is remembered (its stamp still checked)
RECHECK_SECONDS = 2.0  # how long a remembered credential is trusted before its account is read again
# digest of the credential -> (remembered until, account stamp, trusted until, principal)
_verified: dict[str, tuple[float, str | None, float, Principal]] = {}
_lock = threading.Lock()


def _cached(key: str) -> tuple[float, str | None, float, Principal] | None:
    with _lock:
        hit = _verified.get(key)
        if hit and hit[0] > time.monotonic():
            return hit
        _verified.pop(key, None)
    return None


def _remember(key: str, found: Principal | None, seconds: float = CACHE_SECONDS) -> None:
    with _lock:
        if found is None:
            _verified.pop(key, None)
            return
        if len(_verified) > 10_000:
            _verified.clear()
        now = time.monotonic()
        _verified[key] = (now + seconds, found.stamp, now + RECHECK_SECONDS, found)


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
        key = "token:" + hashlib.sha256(credential.token.encode()).hexdigest()
        hit = _cached(key)
        if hit is not None and hit[2] > time.monotonic():
            return hit[3]
        found = accounts.by_token(database.session(), credential.token)
        _remember(key, found, RECHECK_SECONDS)
        return found
    if credential.type != "basic" or not credential.username or credential.password is None:
        return None
    key = hashlib.sha256(f"{credential.username}\0{credential.password}".encode()).hexdigest()
    hit = _cached(key)
    if hit is not None and hit[2] > time.monotonic():
        return hit[3]
    session = database.session()
    found = accounts.by_password(session, credential.username, credential.password,
                                 verified=hit[1] if hit is not None else None)
    if found is not None and session.dirty:
        session.commit()  # an old hash replaced by today's: kept even when the call itself writes nothing
    _remember(key, found)
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
