"""Managing existing accounts: their groups, agency and display name, disabling and enabling, new passwords.

Creating accounts, signing in and tokens are :mod:`engine.accounts`; the rules for agencies and groups are
:mod:`engine.agencies`. A disabled account cannot sign in, use its token or keep a web session (the pages look
the account up on every request), and is kept with its history.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine import accounts, agencies, audit, user_tasks, web_sessions
from engine.errors import BadInput, NotFound
from engine.models import Account


@dataclass(frozen=True)
class Unchanged:
    """The value of an argument that leaves its field as it is."""


UNCHANGED = Unchanged()


def _account(session: Session, name: str) -> Account:
    account = session.get(Account, (name or "").strip())
    if account is None:
        raise NotFound(f"no account named '{name}'")
    return account


def groups_of(account: Account) -> list[str]:
    """The account's groups, sorted."""
    return [g for g in account.groups.split(",") if g]


def detail(session: Session, name: str) -> dict | None:
    """One account without secrets (whether it has a password or a token), or None."""
    account = session.get(Account, (name or "").strip())
    if account is None:
        return None
    return {"name": account.name, "displayName": account.display_name, "groups": groups_of(account),
            "agency": account.agency, "service": account.is_service, "disabled": account.disabled,
            "hasPassword": account.password_hash is not None, "hasToken": account.token_hash is not None}


def update(session: Session, name: str, *, groups: list[str] | Unchanged = UNCHANGED,
           agency: str | None | Unchanged = UNCHANGED, display_name: str | None | Unchanged = UNCHANGED,
           by: str | None = None, reason: str | None = None) -> Account:
    """Change what is given of an account's groups, agency (None or "": none, which sees every agency's
    dossiers) and display name; the rest stays. Agencies and groups are checked as :mod:`engine.agencies` says.
    Audited as ``account_change`` by ``by``, with each changed field's old and new value."""
    account = _account(session, name)
    before = {"groups": groups_of(account), "agency": account.agency, "displayName": account.display_name}
    if not isinstance(groups, Unchanged):
        account.groups = ",".join(agencies.check_account_groups(session, groups, groups_of(account)))
    if not isinstance(agency, Unchanged):
        account.agency = agencies.check_account_agency(session, agency, account.agency)
    if not isinstance(display_name, Unchanged):
        account.display_name = accounts.clean_display_name(display_name)
    session.flush()
    after = {"groups": groups_of(account), "agency": account.agency, "displayName": account.display_name}
    audit.record(session, by, "account_change", "account", account.name, reason,
                 **{field: {"from": before[field], "to": after[field]} for field in after
                    if before[field] != after[field]})
    return account


def set_disabled(session: Session, name: str, disabled: bool, *, by: str | None = None,
                 reason: str | None = None) -> Account:
    """Disable an account (no sign-in, no token, its open web sessions end; the tasks it had claimed go back to
    their groups, in the same transaction) or enable it again. Audited as ``account_disable`` (with the tasks
    released) or ``account_enable`` by ``by``."""
    account = _account(session, name)
    was = account.disabled
    account.disabled = disabled
    session.flush()
    released = user_tasks.release_claims(session, account.name, by, reason) if disabled else []
    if disabled:
        web_sessions.revoke_all(session, "officer", account.name)
    audit.record(session, by, "account_disable" if disabled else "account_enable", "account", account.name, reason,
                 wasDisabled=was, **({"releasedTasks": released} if released else {}))
    return account


def set_password(session: Session, name: str, password: str, *, by: str | None = None,
                 reason: str | None = None) -> Account:
    """Give an account a new password (at least :data:`engine.accounts.PASSWORD_MIN` characters); the account's open
    web sessions end (whoever knew the old one is signed out). Audited as ``password_set`` by ``by`` (never the
    password)."""
    account = _account(session, name)
    if not password:
        raise BadInput("the new password is empty")
    accounts.check_password_rules(password)
    account.password_hash = accounts.hash_password(password)
    web_sessions.revoke_all(session, "officer", account.name)
    session.flush()
    audit.record(session, by, "password_set", "account", account.name, reason)
    return account
