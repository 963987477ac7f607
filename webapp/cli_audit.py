"""``motcua audit``: the audit log of administrative actions (who did what, when and why)."""
from __future__ import annotations

import datetime as dt
import json

import click

from engine import audit, db
from engine.errors import BadInput
from webapp.cli import Context, emit, handle_errors, json_option, main


def parse_time(text: str | None, option: str) -> dt.datetime | None:
    """An ISO 8601 date or time (UTC when it names no offset), or None; :class:`BadInput` when unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option}: '{text}' is not an ISO 8601 date or time, e.g. 2026-11-28 or "
                       "2026-11-28T08:00+07:00") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _line(event: dict) -> str:
    details = json.dumps(event["details"], ensure_ascii=False) if event["details"] else ""
    reason = f"  reason: {event['reason']}" if event["reason"] else ""
    return (f"{event['at'][:19]}  {event['actor']:<16} {event['action']:<20} {event['targetKind']}:{event['targetId']}"
            f"{reason}{'  ' + details if details else ''}")


@main.command("audit")
@click.option("--action", help="Only this action (deploy, instance_terminate, account_add, ...).")
@click.option("--actor", help="Only what this account (or 'system') did.")
@click.option("--target", help="Only actions on this object: KIND:ID (e.g. account:can-bo-1) or KIND.")
@click.option("--since", help="From this time on (ISO 8601; UTC unless an offset is given).")
@click.option("--until", help="Before this time (ISO 8601).")
@click.option("--limit", default=100, show_default=True, help="At most this many, newest first.")
@click.option("--offset", default=0, show_default=True)
@json_option
@click.pass_obj
@handle_errors
def audit_command(obj: Context, action, actor, target, since, until, limit, offset, as_json: bool) -> None:
    """The audit log, newest first: deployments, instance and incident actions, account and agency changes."""
    kind, _, target_id = (target or "").partition(":")
    with db.transaction(obj.factory) as session:
        rows = audit.listing(session, action=action, actor=actor, target_kind=kind or None,
                             target_id=target_id or None, since=parse_time(since, "--since"),
                             until=parse_time(until, "--until"), limit=limit, offset=offset)
    emit(rows, as_json, "\n".join(_line(r) for r in rows) or "No audit events.")
