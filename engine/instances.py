"""Commands on process instances: start, suspend, resume, terminate."""
from __future__ import annotations

import copy
import keyword
import math
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine import audit, dossier_clock, limits, dossier_notices, dossiers, projections, runtime, storable
from engine.errors import BadInput, InstanceNotActive, InvalidVariables, NotFound
from engine.forms import validate_form
from engine.models import ExternalTask, ProcessDefinition, UserTask
from engine.runtime import Actor, Loaded
from engine.specs import SPECS

MAX_NESTING = 100  # lists and objects inside one another; deeper values would overflow Python's recursion


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether a JSON-like value has more than ``limit`` lists and objects inside one another (checked without
    recursion, so any depth is safe to ask about)."""
    return _walk(value, limit) == "deep"


def _walk(value: Any, limit: int = MAX_NESTING) -> str | None:
    """"deep" past ``limit`` levels, "not finite" at a NaN or an infinity (JSON cannot store them: they would come
    back as null), "not text" at a string (or key) holding a lone surrogate (``"\\ud800"`` is valid JSON, but no
    UTF-8 column, document or page can hold it), None when the value is fine; without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "not finite"
        if isinstance(item, str) and not _is_unicode(item):
            return "not text"
        if isinstance(item, dict):
            if not all(_is_unicode(key) for key in item if isinstance(key, str)):
                return "not text"
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > limit:
            return "deep"
        stack.extend((child, depth + 1) for child in children)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_variables(variables: Any) -> dict[str, Any]:
    """Refuse variables that expressions could not use; return a copy of the others."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidVariables("variables must be a JSON object of names and values")
    for name in variables:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name):
            raise InvalidVariables(f"'{name}' is not a usable variable name: use letters, digits and '_', "
                                   "starting with a letter")
    for name, value in variables.items():
        wrong = _walk(value)
        if wrong == "deep":
            raise InvalidVariables(f"the variables are nested too deeply: at most {MAX_NESTING} levels of lists and "
                                   "objects")
        if wrong == "not finite":
            raise InvalidVariables(f"'{name}' holds NaN or an infinity, which cannot be stored: give a number")
        if wrong == "not text":
            raise InvalidVariables(f"'{name}' holds a string that is not valid Unicode text (a lone surrogate such as "
                                   "\\ud800), which cannot be stored: send the text as UTF-8")
        found = storable.first_unstorable(value)
        if found is not None:
            raise InvalidVariables(f"'{name}' holds a value of type {type(found).__name__}, which cannot be stored: "
                                   "give JSON values (text, numbers, true/false, null, lists and objects)")
    return copy.deepcopy(variables)  # the workflow keeps its own copy: a caller changing its dict later changes nothing


_NEWEST_VERSION = (select(ProcessDefinition.id, ProcessDefinition.sha256)
                   .where(ProcessDefinition.key == bindparam("key"))
                   .order_by(ProcessDefinition.version.desc()).limit(1))


def find_definition(session: Session, key: str | None = None, definition_id: str | None = None) -> ProcessDefinition:
    """The definition with this id, or the newest version of this key."""
    if definition_id:
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"no process definition {definition_id}")
        return definition
    newest = session.connection().execute(_NEWEST_VERSION, {"key": key}).first()
    if newest is None:
        raise NotFound(f"no process definition with key '{key}': deploy it first")
    return SPECS.definition(session, newest.id, newest.sha256)  # a definition never changes: read once per process


def start(session: Session, actor: Actor, key: str | None = None, variables: dict[str, Any] | None = None,
          business_key: str | None = None, definition_id: str | None = None, from_form: bool = False) -> Loaded:
    """Start an instance of the newest version of ``key`` (or of ``definition_id``) and run it to its first wait.

    ``from_form``: the variables are a submitted start form (the application), checked against the start
    event's form; a plain start, as Camunda's, trusts the caller's variables.
    """
    limits.check_length("the business key", business_key, limits.BUSINESS_KEY_MAX)
    variables = check_variables(variables)
    definition = find_definition(session, key, definition_id)
    parsed = SPECS.get(session, definition)
    if from_form:
        if not parsed.start_form_key:
            raise BadInput(f"process '{definition.key}' has no start form (camunda:formKey on its start event)")
        validate_form(parsed.forms.get(parsed.start_form_key), variables)
    if parsed.initiator_variable:  # who started it, as Camunda's camunda:initiator (never taken from the caller)
        variables[parsed.initiator_variable] = actor.user_id
    wf = runtime.new_workflow(parsed)
    wf.get_next_task(spec_name="Start").data.update(variables)
    row = runtime.new_instance_row(definition, business_key, actor)
    loaded = Loaded(row=row, parsed=parsed, wf=wf, before={}, is_new=True)
    loaded.record("instance_started", user_id=actor.user_id,
                  **({"business_key": business_key} if business_key else {}))
    runtime.advance(loaded)
    batch = runtime.save(session, loaded, actor, send=False)
    if parsed.procedure:
        dossier = dossiers.receive(session, row.id, business_key, parsed.procedure, variables, row.started_at)
        if dossier is not None:
            batch.insert_object(dossier)
        if dossier is not None and loaded.status_reached:
            dossier.status, dossier.status_at = loaded.status_reached
            projections.write_events(session, loaded, [dossier_clock.status_event(*loaded.status_reached)], actor,
                                     batch)
        if dossier is not None:  # the citizen hears that the dossier was registered (or where it went at once)
            dossier_notices.record(session, row.id, business_key, dossier.status, dossier.status_at, batch=batch)
    batch.send(session)
    return loaded


def _set_suspended(session: Session, instance_id: str, suspended: bool) -> None:
    for table in (UserTask, ExternalTask):
        session.execute(update(table).where(table.instance_id == instance_id).values(suspended=suspended))


def _audit(session: Session, loaded: Loaded, actor: Actor, action: str, reason: str | None) -> None:
    audit.record(session, actor.user_id, action, "instance", loaded.row.id, reason,
                 processKey=loaded.row.process_key, businessKey=loaded.row.business_key)


def suspend(session: Session, instance_id: str, actor: Actor, reason: str | None = None) -> Loaded:
    """Suspend an active instance: its tasks stay but nobody can act on them until it is resumed."""
    limits.check_text("the reason", reason)
    loaded = runtime.load(session, instance_id)
    runtime.require_running(loaded)
    loaded.row.status = "suspended"
    loaded.record("instance_suspended", user_id=actor.user_id, **({"reason": reason} if reason else {}))
    runtime.save(session, loaded, actor)
    _set_suspended(session, instance_id, True)
    _audit(session, loaded, actor, "instance_suspend", reason)
    return loaded


def resume(session: Session, instance_id: str, actor: Actor, reason: str | None = None) -> Loaded:
    """Resume a suspended instance."""
    limits.check_text("the reason", reason)
    loaded = runtime.load(session, instance_id)
    if loaded.row.status != "suspended":
        raise InstanceNotActive(f"instance {instance_id} is {loaded.row.status}, not suspended", loaded.row.status)
    loaded.row.status = "active"
    loaded.record("instance_resumed", user_id=actor.user_id, **({"reason": reason} if reason else {}))
    runtime.advance(loaded)  # timers that came due while it was suspended fire now
    runtime.save(session, loaded, actor)
    _set_suspended(session, instance_id, False)
    _audit(session, loaded, actor, "instance_resume", reason)
    return loaded


def terminate(session: Session, instance_id: str, actor: Actor, reason: str | None = None) -> Loaded:
    """End an instance now: every open task is cancelled."""
    limits.check_text("the reason", reason)
    loaded = runtime.load(session, instance_id)
    if loaded.row.status not in ("active", "suspended"):
        raise InstanceNotActive(f"instance {instance_id} has already ended ({loaded.row.status})", loaded.row.status)
    loaded.wf.cancel()
    loaded.row.status = "terminated"
    loaded.row.ended_at = runtime.now()
    loaded.row.end_reason = reason
    loaded.record("instance_terminated", user_id=actor.user_id, **({"reason": reason} if reason else {}))
    runtime.save(session, loaded, actor)
    _audit(session, loaded, actor, "instance_terminate", reason)
    return loaded
