"""Correlating a message into the instances waiting for it (Camunda's ``POST /message``).

Messages are routed here, by the message name, the business key, an instance id and correlation keys
(process variables that must have the given values), to the instances with a waiting catch event; only
then does SpiffWorkflow deliver the payload. Routing in the engine, not by SpiffWorkflow's own
correlation, is what keeps one dossier's payment from landing in another's instance.
"""
from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import runtime
from engine.dialect import MessageEventDefinition
from engine.errors import BadInput
from engine.instances import check_variables
from engine.models import MessageSubscription, ProcessInstance
from engine.runtime import Actor


class MessageNotCorrelated(BadInput):
    """No instance, or more than one, waits for the message."""

    code = "message_not_correlated"


def _matches(row: ProcessInstance, correlation_keys: dict[str, Any]) -> bool:
    if not correlation_keys:
        return True
    variables = json.loads(row.variables)
    return all(name in variables and variables[name] == value for name, value in correlation_keys.items())


def waiting_instances(session: Session, message_name: str, business_key: str | None = None,
                      instance_id: str | None = None, correlation_keys: dict[str, Any] | None = None) -> list[str]:
    """The active instances waiting for this message that match the business key, id and correlation keys."""
    stmt = (select(ProcessInstance).join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
            .where(MessageSubscription.message_name == message_name, ProcessInstance.status == "active")
            .order_by(ProcessInstance.started_at, ProcessInstance.id).distinct())
    if business_key is not None:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    if instance_id is not None:
        stmt = stmt.where(ProcessInstance.id == instance_id)
    return [row.id for row in session.scalars(stmt) if _matches(row, correlation_keys or {})]


def correlate(session: Session, message_name: str, actor: Actor, business_key: str | None = None,
              instance_id: str | None = None, correlation_keys: dict[str, Any] | None = None,
              variables: dict[str, Any] | None = None, all_instances: bool = False) -> list[str]:
    """Deliver a message (its variables become process variables) and run the instances on; return their ids.

    Exactly one instance must match unless ``all_instances``; otherwise :class:`MessageNotCorrelated`. An instance
    that stopped waiting between the look-up and its lock is skipped (none left: :class:`MessageNotCorrelated`).
    """
    if not message_name:
        raise BadInput("a message name is required")
    variables = check_variables(variables)
    ids = waiting_instances(session, message_name, business_key, instance_id, correlation_keys)
    where = " and ".join(part for part in (
        f"business key '{business_key}'" if business_key is not None else "",
        f"instance {instance_id}" if instance_id else "",
        f"correlation keys {correlation_keys}" if correlation_keys else "") if part) or "any instance"
    if not ids:
        raise MessageNotCorrelated(f"no instance is waiting for message '{message_name}' ({where})")
    if len(ids) > 1 and not all_instances:
        raise MessageNotCorrelated(f"message '{message_name}' matches {len(ids)} instances ({where}); "
                                   "narrow it down or correlate to all")
    delivered = []
    for one in ids:
        loaded = runtime.load(session, one)
        runtime.require_running(loaded)
        try:
            loaded.wf.send_event(BpmnEvent(MessageEventDefinition(message_name),
                                           payload={"payload": dict(variables), "result_var": None}))
        except WorkflowException:  # it was found waiting without a lock: a concurrent command took the event since
            continue
        loaded.record("message_received", user_id=actor.user_id, message=message_name)
        runtime.advance(loaded)
        runtime.save(session, loaded, actor)
        delivered.append(one)
    if not delivered:
        raise MessageNotCorrelated(f"no instance is waiting for message '{message_name}' ({where}) any more: "
                                   f"{', '.join(ids)} stopped waiting for it meanwhile")
    return delivered
