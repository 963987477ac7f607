"""``motcua agencies`` and ``motcua groups``: where officers work and the groups BPMN candidate groups name."""
from __future__ import annotations

import click

from engine import agencies, db
from webapp.cli import Context, emit, handle_errors, json_option, main, reason_option


@main.group("agencies")
def agency_commands() -> None:
    """Agencies by their code in the national list (e.g. 000.00.16.H56)."""


@agency_commands.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="The code of the agency this one belongs to (defined first).")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def add_agency(obj: Context, code, name, parent, reason, as_json: bool) -> None:
    """Define an agency CODE called NAME."""
    with db.transaction(obj.factory) as session:
        agency = agencies.add_agency(session, code, name, parent, by=obj.operator().user_id, reason=reason)
        data = {"code": agency.code, "name": agency.name, "parentCode": agency.parent_code, "disabled": False}
    emit(data, as_json, f"Agency {data['code']} created: {data['name']}.")


@agency_commands.command("rename")
@click.argument("code")
@click.argument("name")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def rename_agency(obj: Context, code, name, reason, as_json: bool) -> None:
    """Give the agency CODE a new NAME (the code stays)."""
    with db.transaction(obj.factory) as session:
        agency = agencies.rename_agency(session, code, name, by=obj.operator().user_id, reason=reason)
        data = {"code": agency.code, "name": agency.name}
    emit(data, as_json, f"Agency {data['code']} is now called {data['name']}.")


def _switch(command: str, disabled: bool, help_text: str):
    @click.argument("code")
    @reason_option
    @json_option
    @click.pass_obj
    @handle_errors
    def switch(obj: Context, code, reason, as_json: bool) -> None:
        with db.transaction(obj.factory) as session:
            agency = agencies.set_agency_disabled(session, code, disabled, by=obj.operator().user_id, reason=reason)
            data = {"code": agency.code, "disabled": agency.disabled}
        emit(data, as_json, f"Agency {data['code']} {'disabled' if disabled else 'enabled'}.")
    switch.__doc__ = help_text
    return agency_commands.command(command)(switch)


_switch("disable", True, "Disable an agency: no account can be moved to it (its accounts keep working).")
_switch("enable", False, "Enable a disabled agency again.")


@agency_commands.command("list")
@json_option
@click.pass_obj
@handle_errors
def list_agencies(obj: Context, as_json: bool) -> None:
    """Every agency, with its state and number of accounts."""
    with db.transaction(obj.factory) as session:
        rows = agencies.agencies(session)
    emit(rows, as_json, "\n".join(f"{r['code']:<20} {'disabled' if r['disabled'] else 'enabled':<9} "
                                  f"{r['accounts']:>4} accounts  {r['name']}" for r in rows)
         or "No agencies: accounts may name any agency code until one is defined.")


@main.group("groups")
def group_commands() -> None:
    """Officers' groups, by the name BPMN candidate groups use (e.g. mot-cua), with a title."""


def _titling(command: str, change, doc: str, said: str) -> None:
    """Register ``groups COMMAND NAME TITLE``: ``change(session, name, title, by=, reason=)``, then say ``said``."""
    @group_commands.command(command, help=doc)
    @click.argument("name")
    @click.argument("title")
    @reason_option
    @json_option
    @click.pass_obj
    @handle_errors
    def run(obj: Context, name, title, reason, as_json: bool) -> None:
        with db.transaction(obj.factory) as session:
            group = change(session, name, title, by=obj.operator().user_id, reason=reason)
            data = {"name": group.name, "title": group.title}
        emit(data, as_json, said.format(**data))


_titling("add", agencies.add_group, "Define a group NAME whose title is TITLE.", "Group {name} created: {title}.")
_titling("rename", agencies.retitle_group, "Give the group NAME a new TITLE (the name stays).",
         "Group {name} is now titled {title}.")


@group_commands.command("list")
@json_option
@click.pass_obj
@handle_errors
def list_groups(obj: Context, as_json: bool) -> None:
    """Every group (the built-in admin first), with its number of accounts."""
    with db.transaction(obj.factory) as session:
        rows = agencies.groups(session)
    emit(rows, as_json, "\n".join(f"{r['name']:<20} {r['accounts']:>4} accounts  {r['title']}"
                                  + ("  (built in)" if r["builtIn"] else "") for r in rows))
