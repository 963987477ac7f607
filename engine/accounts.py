"""Accounts: people who log in to the web pages and service accounts for machines.

Passwords are kept as Argon2id hashes (argon2-cffi; an older scrypt hash is replaced by one at the next
successful sign-in); a service account's bearer token is kept as its SHA-256 only, so a
copy of the database gives no usable credential. A service account may call ``/engine-rest`` (HTTP Basic
or bearer token) and cannot log in to the web pages.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import agencies, audit, runtime
from engine.errors import BadInput, Conflict, NotFound
from engine.models import Account
from engine.runtime import Actor

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # the hashes of accounts made before Argon2, still accepted
_ARGON2 = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 low-memory defaults
PASSWORD_MIN = 8  # NIST SP 800-63B's floor for passwords people choose
PASSWORD_MAX = 200
DISPLAY_NAME_MAX = 200  # account.display_name holds 200 characters


@dataclass(frozen=True)
class Principal:
    """Someone authenticated: the account's name, groups and kind."""

    name: str
    groups: frozenset[str]
    is_service: bool
    agency: str | None = None
    stamp: str | None = field(default=None, compare=False, repr=False)  # see :func:`by_password`

    def actor(self) -> Actor:
        """The engine actor for this principal (service accounts act as trusted operators)."""
        return Actor(self.name, self.groups, operator=self.is_service or "admin" in self.groups)


def check_password_rules(password: str) -> None:
    """:class:`BadInput` unless the password is long enough (and not absurdly long)."""
    if len(password or "") < PASSWORD_MIN:
        raise BadInput(f"the password is too short: at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise BadInput(f"the password is too long: at most {PASSWORD_MAX} characters")


def hash_password(password: str) -> str:
    """An Argon2id hash of a password, with its salt and parameters."""
    return _ARGON2.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash (Argon2id, or a legacy scrypt hash), in constant time."""
    if not stored:
        return False
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash should be replaced (legacy scrypt, or weaker Argon2 parameters than today's)."""
    return not stored.startswith("$argon2") or _ARGON2.check_needs_rehash(stored)


_DUMMY = None


def _spend_like_a_check(password: str) -> None:
    """Cost a missing account the same as a wrong password, so timing does not tell names apart."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _ARGON2.hash(secrets.token_urlsafe(16))
    check_password(_DUMMY, password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add(session: Session, name: str, password: str | None = None, groups: list[str] | None = None,
        agency: str | None = None, service: bool = False, display_name: str | None = None,
        external: bool = False, *, by: str | None = None, reason: str | None = None) -> Account:
    """Create an account; a service account gets no password unless one is given, nor does a person who signs in
    only through the officers' OpenID Connect provider (``external``). The agency and groups are checked as
    :mod:`engine.agencies` says. Audited as ``account_add`` by ``by``."""
    if not NAME.match(name or ""):
        raise BadInput(f"'{name}' is not a usable account name: 2-100 lower-case letters, digits, '.', '_' or '-'")
    if session.get(Account, name) is not None:
        raise Conflict(f"an account named '{name}' already exists")
    if not service and not external and not password:
        raise BadInput("a person's account needs a password")
    if password:
        check_password_rules(password)
    account = Account(name=name, display_name=clean_display_name(display_name),
                      groups=",".join(agencies.check_account_groups(session, groups or [])),
                      agency=agencies.check_account_agency(session, agency), is_service=service, disabled=False,
                      created_at=runtime.now(), password_hash=hash_password(password) if password else None)
    session.add(account)
    session.flush()
    audit.record(session, by, "account_add", "account", name, reason,
                 groups=[g for g in account.groups.split(",") if g], agency=account.agency, service=service,
                 external=external, displayName=account.display_name)
    return account


def clean_display_name(text: str | None) -> str | None:
    """The display name with its spaces tidied, None when empty; :class:`BadInput` when too long."""
    text = " ".join((text or "").split())
    if len(text) > DISPLAY_NAME_MAX:
        raise BadInput(f"the display name is longer than {DISPLAY_NAME_MAX} characters")
    return text or None


def issue_token(session: Session, name: str, *, by: str | None = None, reason: str | None = None) -> str:
    """Give a service account a new bearer token (the old one stops working); the token is shown once. Audited as
    ``token_issue`` by ``by`` (without the token)."""
    account = session.get(Account, name)
    if account is None:
        raise NotFound(f"no account named '{name}'")
    if not account.is_service:
        raise BadInput(f"'{name}' is not a service account; only service accounts get tokens")
    token = "mct_" + secrets.token_urlsafe(32)
    replaced = account.token_hash is not None
    account.token_hash = _token_hash(token)
    session.flush()
    audit.record(session, by, "token_issue", "account", name, reason, replaced=replaced)
    return token


def _principal(account: Account) -> Principal:
    return Principal(account.name, frozenset(g for g in account.groups.split(",") if g), account.is_service,
                     account.agency, stamp=_stamp(account))


def _stamp(account: Account) -> str | None:
    """What changes whenever the account's password does: its hash (every new hash has a new random salt)."""
    return account.password_hash


def by_password(session: Session, name: str, password: str, verified: str | None = None) -> Principal | None:
    """The principal whose name and password these are, or None.

    ``verified`` is the :attr:`Principal.stamp` an earlier successful check of this same name and password
    returned: while the account's password has not changed since, the slow hash check is skipped (the account is
    still read, so a disabled account or a new password applies at once)."""
    account = session.get(Account, name)
    if account is None:
        _spend_like_a_check(password)
        return None
    if account.disabled:
        return None
    if verified is not None and verified == _stamp(account):
        return _principal(account)
    if not check_password(account.password_hash, password):
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)  # the caller's transaction keeps it
    return _principal(account)


def by_name(session: Session, name: str) -> Principal | None:
    """The principal of an enabled account (its groups and agency as they are now), or None."""
    account = session.get(Account, name) if name else None
    return _principal(account) if account is not None and not account.disabled else None


def by_token(session: Session, token: str) -> Principal | None:
    """The service account this bearer token belongs to, or None."""
    account = session.scalars(select(Account).where(Account.token_hash == _token_hash(token))).first()
    if account is None or account.disabled:
        return None
    return _principal(account)


def listing(session: Session) -> list[dict]:
    """Every account, without secrets."""
    return [{"name": a.name, "displayName": a.display_name, "groups": [g for g in a.groups.split(",") if g],
             "agency": a.agency, "service": a.is_service, "disabled": a.disabled, "hasToken": a.token_hash is not None}
            for a in session.scalars(select(Account).order_by(Account.name))]
