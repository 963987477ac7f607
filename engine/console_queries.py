"""What the operations console reads: a definition's deployed BPMN file, and instances found by dossier code,
procedure, version, status, agency, start dates and one variable's value."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from engine.errors import BadInput, NotFound
from engine.models import DeploymentResource, Dossier, ProcessDefinition, ProcessInstance
from engine.queries import instance_dict

PAGE = 50
STATES = ("active", "suspended", "completed", "terminated")


def definition_file(session: Session, definition_id: str) -> tuple[str, bytes]:
    """(file name, content) of the BPMN file a definition was deployed from, exactly as deployed."""
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"no process definition {definition_id}")
    resource = session.get(DeploymentResource, (definition.deployment_id, definition.resource_name))
    if resource is None:
        raise NotFound(f"the file of definition {definition_id} is missing")
    return definition.resource_name, resource.content


def _variable_equals(session: Session, name: str, value: str):
    """``variables[name]`` as text equals ``value``, in the database's own JSON functions."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ProcessInstance.variables, JSONB)[name].astext == value
    return cast(func.json_extract(ProcessInstance.variables, f'$."{name}"'), String) == value


def search(session: Session, *, code: str | None = None, key: str | None = None, version: int | None = None,
           status: str | None = None, agency: str | None = None, started_from: dt.datetime | None = None,
           started_to: dt.datetime | None = None, variable: tuple[str, str] | None = None,
           page: int = 1) -> dict[str, Any]:
    """One page of instances, newest first, with their dossier's code, status and agency."""
    if status and status not in STATES:
        raise BadInput(f"trạng thái '{status}' không có; chọn một trong: {', '.join(STATES)}")
    stmt = (select(ProcessInstance, Dossier).outerjoin(Dossier, Dossier.instance_id == ProcessInstance.id)
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id))
    if code:
        pattern = f"%{code.strip()}%"
        stmt = stmt.where(or_(ProcessInstance.business_key.ilike(pattern), Dossier.code.ilike(pattern)))
    if key:
        stmt = stmt.where(ProcessInstance.process_key == key)
    if version is not None:
        stmt = stmt.where(ProcessInstance.definition_id == f"{key}:{version}" if key else
                          ProcessInstance.definition_id.like(f"%:{version}"))
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if agency:
        stmt = stmt.where(Dossier.agency == agency)
    if started_from:
        stmt = stmt.where(ProcessInstance.started_at >= started_from)
    if started_to:
        stmt = stmt.where(ProcessInstance.started_at < started_to)
    if variable and variable[0]:
        name = variable[0].strip()
        if not name.replace("_", "").isalnum():
            raise BadInput("tên biến chỉ gồm chữ, số và dấu gạch dưới")
        stmt = stmt.where(_variable_equals(session, name, variable[1]))
    page = max(page, 1)
    rows = session.execute(stmt.limit(PAGE + 1).offset((page - 1) * PAGE)).all()
    items = []
    for instance, dossier in rows[:PAGE]:
        item = instance_dict(instance)
        item.update(dossierCode=dossier.code if dossier else None, dossierStatus=dossier.status if dossier else None,
                    agency=dossier.agency if dossier else None, incidents=instance.open_incidents)
        items.append(item)
    return {"items": items, "page": page, "hasMore": len(rows) > PAGE}

