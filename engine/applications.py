"""Citizens' online applications: drafts kept page by page, discarded by their owner, and the submission that starts
the procedure with its dossier code. A draft belongs to the citizen who started it; nobody else can read, change or
discard it. Once submitted it is a dossier, withdrawn through the procedure (engine.citizen_dossiers), not discarded."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import catalogue, dossier_codes, instances, upload_refs
from engine.errors import BadInput, Conflict, NotFound
from engine.citizen_models import ApplicationDraft
from engine.runtime import Actor
from engine.serializer import dumps_variables

MAX_OPEN_DRAFTS = 20


class TooManyDrafts(BadInput):
    """The citizen has as many applications in progress as one may: one must be finished or discarded first."""


def start(session: Session, owner_id: str, procedure: catalogue.Procedure, answers: dict[str, Any]) -> ApplicationDraft:
    """A new draft of an application, with the answers already known (the registry's prefill)."""
    open_count = len(open_drafts(session, owner_id))
    if open_count >= MAX_OPEN_DRAFTS:
        raise TooManyDrafts(f"too many applications in progress ({open_count}): submit or discard one first")
    now = dt.datetime.now(dt.timezone.utc)
    draft = ApplicationDraft(id=str(uuid.uuid4()), owner_id=owner_id, procedure_code=procedure.code,
                             process_key=procedure.process_key, data=dumps_variables(answers), created_at=now,
                             updated_at=now)
    session.add(draft)
    return draft


def get(session: Session, draft_id: str, owner_id: str) -> ApplicationDraft:
    """The citizen's own draft; :class:`NotFound` for anybody else's or a missing one."""
    draft = session.get(ApplicationDraft, draft_id) if len(draft_id) == 36 else None
    if draft is None or draft.owner_id != owner_id:
        raise NotFound("no such application")
    return draft


def discard(session: Session, draft_id: str, owner_id: str) -> list[str]:
    """Delete the citizen's own draft; return the uploaded files its answers named, for the caller to hand to the
    uploads store (which deletes those nothing else names once the transaction commits). :class:`NotFound` for
    anybody else's or a missing draft, :class:`Conflict` for one already submitted (a dossier is withdrawn)."""
    draft = get(session, draft_id, owner_id)
    session.refresh(draft, with_for_update=True)  # a submission racing with the discard: one of them sees the other
    if draft.submitted_code:
        raise Conflict(f"the application was already submitted as dossier {draft.submitted_code}: withdraw the "
                       "dossier instead")
    files = upload_refs.stored_paths(answers(draft))
    session.delete(draft)
    return files


def answers(draft: ApplicationDraft) -> dict[str, Any]:
    """The answers given so far."""
    return json.loads(draft.data or "{}")


def save(draft: ApplicationDraft, changes: dict[str, Any]) -> dict[str, Any]:
    """Keep a page's answers (an empty answer removes the field); return all answers."""
    if draft.submitted_code:
        raise BadInput(f"the application was already submitted as dossier {draft.submitted_code}")
    data = answers(draft)
    for name, value in changes.items():
        if value in (None, "", []):
            data.pop(name, None)
        else:
            data[name] = value
    draft.data = dumps_variables(data)
    draft.updated_at = dt.datetime.now(dt.timezone.utc)
    return data


def open_drafts(session: Session, owner_id: str) -> list[ApplicationDraft]:
    """The citizen's applications not yet submitted, newest first."""
    return list(session.scalars(select(ApplicationDraft).where(
        ApplicationDraft.owner_id == owner_id, ApplicationDraft.submitted_code.is_(None))
        .order_by(ApplicationDraft.updated_at.desc())))


def submit(session: Session, draft: ApplicationDraft, procedure: catalogue.Procedure) -> str:
    """Start the procedure with the application (checked against its start form): the dossier gets its code
    and status 1 (Mới đăng ký); return the code. The draft is marked submitted in the same transaction."""
    # a second submission or a discard racing with this one waits for it, then sees what it did
    locked = session.scalars(select(ApplicationDraft).where(ApplicationDraft.id == draft.id).with_for_update()
                             .execution_options(populate_existing=True)).first()
    if locked is None:
        raise NotFound("the application was discarded")
    if draft.submitted_code:
        return draft.submitted_code
    now = dt.datetime.now(dt.timezone.utc)
    code = dossier_codes.next_code(session, procedure.entry.get("agency") or "000.00.00.H00", now)
    variables = {**answers(draft), "citizen_id": draft.owner_id, "dossier_code": code,
                 "procedure_name": procedure.name, "channel": "online"}
    instances.start(session, Actor(draft.owner_id), None, variables, code, definition_id=procedure.definition_id,
                    from_form=True)
    draft.submitted_code = code
    draft.updated_at = now
    return code
