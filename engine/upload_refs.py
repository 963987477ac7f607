"""Whether anything in the database still names an uploaded file, so that a file nobody refers to any more can be
deleted and a file somebody does refer to never is.

Uploads are stored under their content's SHA-256 (``<folder>/<2 hex>/<64 hex>/<name>``, webapp.portal.uploads),
so two citizens who upload the same document share one file: a file let go by one draft may still be named by
another draft, by an officer's files kept for an open task (engine.task_uploads) or by any dossier. A dossier names
its files in its instance's variables and, for what its finished steps saw (an earlier supplement, a signed document
replaced by a later one), in the serialized workflow: both count, so the files of a dossier — refused or not — stay
with it as its record. Rows are found by the digest (ASCII, so it matches whatever escaping the JSON uses) and then
checked for the exact path.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.citizen_models import ApplicationDraft
from engine.models import ExternalTask, ProcessInstance
from engine.task_upload_models import TaskUpload

DIGEST = re.compile(r"[0-9a-f]{64}")
# a row names a file only after the file was written; the margin covers clocks of different hosts
CLOCK_MARGIN = dt.timedelta(hours=1)


def digest_of(path: str) -> str | None:
    """The SHA-256 folder a stored upload lies in, or None for a path outside that layout."""
    parent = Path(path).parent.name
    return parent if DIGEST.fullmatch(parent) else None


def stored_paths(value: Any) -> list[str]:
    """The paths of stored uploads among the strings of a JSON-like value (answers, variables), each once, in order."""
    if isinstance(value, str):
        return [value] if digest_of(value) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return list(dict.fromkeys(path for child in children for path in stored_paths(child)))


# (text column, when its row last changed) of the rows that may name an upload
COLUMNS = ((ApplicationDraft.data, ApplicationDraft.updated_at),
           (ProcessInstance.variables, ProcessInstance.updated_at), (ProcessInstance.state, ProcessInstance.updated_at),
           (ExternalTask.variables, ExternalTask.created_at), (TaskUpload.path, TaskUpload.uploaded_at))


def referenced(session: Session, paths: Iterable[str], written: dict[str, dt.datetime] | None = None) -> set[str]:
    """The ``paths`` that a draft, a process instance (variables or workflow state), an external task or an officer's
    files kept for an open task (engine.task_uploads) names.
    ``written`` (path → when the file was written) narrows the search to rows changed since then; a path outside
    the store's layout is always reported as named (it is never ours to delete)."""
    named: set[str] = set()
    for path in dict.fromkeys(paths):
        digest = digest_of(path)
        if digest is None:
            named.add(path)
            continue
        since = written.get(path) - CLOCK_MARGIN if written and written.get(path) else None
        spellings = {path, json.dumps(path)[1:-1], json.dumps(path, ensure_ascii=False)[1:-1]}
        for text, changed in COLUMNS:
            stmt = select(text).where(text.like(f"%{digest}%"))
            if since is not None:
                stmt = stmt.where(changed >= since)
            if any(any(s in (row or "") for s in spellings) for row in session.scalars(stmt)):
                named.add(path)
                break
    return named
