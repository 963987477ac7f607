"""``motcua users``: accounts for people and service accounts for machines."""
from __future__ import annotations

import sys

import click

from engine import accounts, db
from webapp.cli import Context, emit, handle_errors, json_option, main


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
@json_option
@click.pass_obj
@handle_errors
def add(obj: Context, name, password_stdin, groups, agency, display_name, service, as_json: bool) -> None:
    """Create an account; a service account gets a bearer token, printed once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with db.transaction(obj.factory) as session:
        accounts.add(session, name, password, [g.strip() for g in groups.split(",") if g.strip()], agency, service,
                     display_name)
        token = accounts.issue_token(session, name) if service else None
    data = {"name": name, "service": service, **({"token": token} if token else {})}
    text = f"Account {name} created."
    if token:
        text += f"\nBearer token (shown once; keep it secret):\n{token}"
    emit(data, as_json, text)


@users.command("token")
@click.argument("name")
@json_option
@click.pass_obj
@handle_errors
def token(obj: Context, name, as_json: bool) -> None:
    """Give a service account a new bearer token (the old one stops working)."""
    with db.transaction(obj.factory) as session:
        value = accounts.issue_token(session, name)
    emit({"name": name, "token": value}, as_json, value)


@users.command("list")
@json_option
@click.pass_obj
@handle_errors
def listing(obj: Context, as_json: bool) -> None:
    """Every account (without secrets)."""
    with db.transaction(obj.factory) as session:
        rows = accounts.listing(session)
    emit(rows, as_json, "\n".join(f"{r['name']:<20} {'service' if r['service'] else 'person ':<8} "
                                  f"{','.join(r['groups'])}" for r in rows))
