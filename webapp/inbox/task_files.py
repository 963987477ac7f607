"""The file questions of an officer's task form, read with the portal's own rules (webapp.portal.file_answers): a
field of several files fills up over several uploads, each file has its remove button, ``maxItems`` holds. What is
uploaded is kept for the task (engine.task_uploads) before anything else is checked, so a refused completion loses
none of it; files let go of go to :func:`webapp.portal.uploads.discard`."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from engine import task_uploads
from engine.config import Settings
from engine.runtime import Actor
from webapp.portal import file_answers, uploads
from webapp.portal.eform import Field


def _file_fields(fields: list[Field]) -> list[Field]:
    return [f for f in fields if f.widget in ("file", "files")]


def kept_answers(session: Session, task_id: str, fields: list[Field]) -> dict[str, Any]:
    """The files kept for the task's form, as its answers: a path for a field of one file, a list for several."""
    kept = task_uploads.kept(session, task_id)
    return {f.name: kept[f.name] if f.widget == "files" else kept[f.name][-1]
            for f in _file_fields(fields) if kept.get(f.name)}


def _paths(answers: dict[str, Any]) -> set[str]:
    return {p for v in answers.values() for p in ([v] if isinstance(v, str) else v or [])}


def take(session: Session, task_id: str, actor: Actor, fields: list[Field], files: MultiDict, form: MultiDict,
         settings: Settings) -> tuple[dict[str, Any], file_answers.Outcome]:
    """Read the files of a posted task form, keep them for the task and return (the files now kept, as answers; what
    the post changed, with its errors). The caller commits. When the officer may not keep files for the task (it is
    done, or held by a colleague) the engine's error is raised after the files this post stored are deleted."""
    before = kept_answers(session, task_id, fields)
    outcome = file_answers.read(_file_fields(fields), before, files, form, settings)
    if outcome.changes:
        try:
            task_uploads.keep(session, task_id, actor, outcome.changes)
        except Exception:
            session.rollback()
            uploads.delete_unused(session, settings, sorted(_paths(outcome.changes) - _paths(before)))
            raise
    uploads.discard(session, settings, outcome.dropped)  # deleted after the commit, if nothing else names them
    return {**before, **outcome.changes}, outcome


def let_go(session: Session, settings: Settings, answers: dict[str, Any]) -> None:
    """After a completion that failed (and was rolled back): the form's files go to :func:`uploads.discard`, so that
    those nothing names any more (their task ended meanwhile) leave the disk once the caller commits; those still
    kept for the task stay."""
    uploads.discard(session, settings, sorted(_paths(answers)))
