"""Comments between officers on a dossier: a note for colleagues, never shown to the citizen."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import runtime
from engine.errors import BadInput
from engine.office_models import DossierComment

MAX_LENGTH = 4000


def add(session: Session, instance_id: str, author: str, body: str, task_id: str | None = None) -> DossierComment:
    """Add a comment (1 to 4,000 characters) to a dossier; the caller has checked the author may see it."""
    body = (body or "").strip()
    if not body:
        raise BadInput("Nội dung trao đổi không được để trống")
    if len(body) > MAX_LENGTH:
        raise BadInput(f"Nội dung trao đổi dài quá {MAX_LENGTH} ký tự")
    comment = DossierComment(instance_id=instance_id, task_id=task_id, author=author, body=body,
                             created_at=runtime.now())
    session.add(comment)
    session.flush()
    return comment


def listing(session: Session, instance_id: str) -> list[dict[str, Any]]:
    """The comments of a dossier, oldest first."""
    return [{"id": c.id, "author": c.author, "body": c.body, "at": c.created_at, "taskId": c.task_id}
            for c in session.scalars(select(DossierComment).where(DossierComment.instance_id == instance_id)
                                     .order_by(DossierComment.id))]
