"""``motcua users``: accounts for people and service accounts for machines."""
from __future__ import annotations

import sys

import click

from engine import account_admin, accounts, db
from engine.errors import BadInput
from webapp.cli import Context, emit, handle_errors, json_option, main, reason_option


@main.group()
def users() -> None:
    """Accounts: people (officers, leaders) and service accounts (workers, integrations)."""


@users.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--groups", default="", help="Comma-separated groups, e.g. mot-cua,lanh-dao.")
@click.option("--agency", help="The agency code the account belongs to.")
@click.option("--display-name", help="The name shown in the web pages.")
@click.option("--service", is_flag=True, help="A machine account: REST only (Basic or a bearer token), no web login.")
@click.option("--no-password", is_flag=True,
              help="A person who signs in only through the officers' OpenID Connect provider.")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def add(obj: Context, name, password_stdin, groups, agency, display_name, service, no_password, reason,
        as_json: bool) -> None:
    """Create an account; a service account gets a bearer token, printed once."""
    password = _read_password() if password_stdin else None
    with db.transaction(obj.factory) as session:
        by = obj.operator().user_id
        accounts.add(session, name, password, _groups(groups), agency, service, display_name, external=no_password,
                     by=by, reason=reason)
        token = accounts.issue_token(session, name, by=by, reason=reason) if service else None
    data = {"name": name, "service": service, **({"token": token} if token else {})}
    text = f"Account {name} created."
    if token:
        text += f"\nBearer token (shown once; keep it secret):\n{token}"
    emit(data, as_json, text)


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\n")


def _groups(text: str) -> list[str]:
    return [g.strip() for g in text.split(",") if g.strip()]


@users.command("set")
@click.argument("name")
@click.option("--groups", help="The account's groups, comma-separated (replacing the old ones; '' for none).")
@click.option("--agency", help="The agency code ('' for none: the account then sees every agency's dossiers).")
@click.option("--display-name", help="The name shown in the web pages ('' for none).")
@click.option("--password-stdin", is_flag=True, help="Read a new password from standard input.")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def set_account(obj: Context, name, groups, agency, display_name, password_stdin, reason, as_json: bool) -> None:
    """Change an account's groups, agency, display name or password; what is not given stays."""
    changes = {k: v for k, v in (("groups", None if groups is None else _groups(groups)), ("agency", agency),
                                 ("display_name", display_name)) if v is not None}
    if not changes and not password_stdin:
        raise BadInput("nothing to change: give --groups, --agency, --display-name or --password-stdin")
    password = _read_password() if password_stdin else None
    with db.transaction(obj.factory) as session:
        by = obj.operator().user_id
        if changes:
            account_admin.update(session, name, **changes, by=by, reason=reason)
        if password_stdin:
            account_admin.set_password(session, name, password, by=by, reason=reason)
        data = account_admin.detail(session, name)
    emit(data, as_json, f"Account {name} changed.")


def _switch(command: str, disabled: bool, help_text: str):
    @click.argument("name")
    @reason_option
    @json_option
    @click.pass_obj
    @handle_errors
    def switch(obj: Context, name, reason, as_json: bool) -> None:
        with db.transaction(obj.factory) as session:
            account_admin.set_disabled(session, name, disabled, by=obj.operator().user_id, reason=reason)
            data = account_admin.detail(session, name)
        emit(data, as_json, f"Account {name} {'disabled' if disabled else 'enabled'}.")
    switch.__doc__ = help_text
    return users.command(command)(switch)


_switch("disable", True, "Disable an account: it can no longer sign in or use its token; its sessions end.")
_switch("enable", False, "Enable a disabled account again.")


@users.command("token")
@click.argument("name")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def token(obj: Context, name, reason, as_json: bool) -> None:
    """Give a service account a new bearer token (the old one stops working)."""
    with db.transaction(obj.factory) as session:
        value = accounts.issue_token(session, name, by=obj.operator().user_id, reason=reason)
    emit({"name": name, "token": value}, as_json, value)


@users.command("list")
@json_option
@click.pass_obj
@handle_errors
def listing(obj: Context, as_json: bool) -> None:
    """Every account (without secrets)."""
    with db.transaction(obj.factory) as session:
        rows = accounts.listing(session)
    emit(rows, as_json, "\n".join(f"{r['name']:<20} {'service' if r['service'] else 'person':<8} "
                                  f"{'disabled' if r['disabled'] else 'enabled':<9} {r['agency'] or '-':<16} "
                                  f"{','.join(r['groups'])}" for r in rows) or "No accounts.")
