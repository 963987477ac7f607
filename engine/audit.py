"""The audit log: every administrative action, with who did it, when, to what and why.

The engine command that makes the change calls :func:`record` with the actor it already has, in the caller's
transaction: the audit row and the change commit together, and a change rolled back leaves no row. So every way
in (the ``motcua`` command, ``/engine-rest``, the admin pages and the console) is covered once, in the engine.

Actions (``action``, with the kind of target):

- ``deploy`` (deployment): a deployment that created new versions (identical content deploys nothing and is not
  recorded);
- ``instance_suspend``, ``instance_resume``, ``instance_terminate``, ``instance_modify``, ``instance_migrate``
  (instance);
- ``incident_retry`` (external_task, or incident): a worker's task given retries again, which resolves its
  incident; ``retries_set`` (external_task) when retries are set on a task without an open incident;
- ``account_add``, ``account_change``, ``account_disable``, ``account_enable``, ``password_set``, ``token_issue``
  (account);
- ``agency_add``, ``agency_rename``, ``agency_disable``, ``agency_enable`` (agency); ``group_add``,
  ``group_retitle`` (group);
- ``supplement_allowed``, ``dossier_forwarded`` (dossier, by its instance id).

Secrets (passwords, tokens) are never written to the log.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit_models import AuditEvent
from engine.errors import BadInput

SYSTEM = "system"  # the actor of a direct engine call that names nobody (scripts, seeding)
REASON_MAX = 2000
LIMIT_MAX = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def record(session: Session, actor_name: str | None, action: str, target_kind: str, target_id: str,
           reason: str | None = None, **details: Any) -> AuditEvent:
    """Add an audit row to the caller's transaction (no commit: it commits, or rolls back, with the change).

    ``details`` are kept as a JSON object (values that JSON does not know are written as text).
    """
    if not action or not target_kind:
        raise BadInput("an audit event needs an action and the kind of its target")
    reason = (reason or "").strip()[:REASON_MAX] or None
    text = json.dumps(details, ensure_ascii=False, default=str, sort_keys=True) if details else None
    event = AuditEvent(at=_now(), actor=(actor_name or SYSTEM)[:100], action=action, target_kind=target_kind,
                       target_id=str(target_id)[:300], reason=reason, details=text)
    session.add(event)
    return event


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """An audit event as JSON-ready data."""
    return {"id": event.id, "at": event.at.isoformat(), "actor": event.actor, "action": event.action,
            "targetKind": event.target_kind, "targetId": event.target_id, "reason": event.reason,
            "details": json.loads(event.details) if event.details else {}}


def listing(session: Session, *, action: str | None = None, actor: str | None = None, target_kind: str | None = None,
            target_id: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
            limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered by action, actor, target and time (``since`` inclusive, ``until``
    exclusive)."""
    if limit < 1 or limit > LIMIT_MAX or offset < 0:
        raise BadInput(f"limit must be 1-{LIMIT_MAX} and offset 0 or more")
    stmt = select(AuditEvent)
    for column, value in ((AuditEvent.action, action), (AuditEvent.actor, actor),
                          (AuditEvent.target_kind, target_kind), (AuditEvent.target_id, target_id)):
        if value:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return [as_dict(e) for e in session.scalars(stmt)]
