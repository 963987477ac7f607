"""Whether the database still names an uploaded file: a draft, a process instance's variables, or only the data of
a finished step kept in its workflow state (the record of a dossier) all count; non-ASCII names are found whatever
the JSON's escaping; a path outside the store's layout is never reported as free."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from engine import db, upload_refs
from engine.citizen_models import ApplicationDraft

NOW = dt.datetime(2026, 5, 4, 3, 0, tzinfo=dt.timezone.utc)


def stored_path(tmp_path, content: bytes, name: str) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return str(tmp_path / "uploads" / digest[:2] / digest / name)


def draft(session, data: dict, at: dt.datetime = NOW) -> None:
    session.add(ApplicationDraft(id=str(uuid.uuid4()), owner_id="001099012345", procedure_code="x", process_key="x",
                                 data=json.dumps(data), created_at=at, updated_at=at))


def test_a_file_named_by_a_draft_is_referenced_and_another_is_not(factory, tmp_path):
    named, free = stored_path(tmp_path, b"a", "Giấy chứng sinh.pdf"), stored_path(tmp_path, b"b", "khac.pdf")
    with db.transaction(factory) as session:
        draft(session, {"document": named})  # json.dumps escapes "ấ": the digest finds the row all the same
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [named, free]) == {named}


def test_the_same_content_under_another_name_is_another_file(factory, tmp_path):
    named, other = stored_path(tmp_path, b"a", "a.pdf"), stored_path(tmp_path, b"a", "b.pdf")
    with db.transaction(factory) as session:
        draft(session, {"document": named})
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [other]) == set()


def test_a_file_only_a_finished_step_of_a_dossier_saw_is_still_referenced(factory, sample, tmp_path):
    from engine import instances
    from engine.runtime import Actor
    earlier = stored_path(tmp_path, b"first supplement", "bo-sung-1.pdf")
    with db.transaction(factory) as session:
        row = instances.start(session, Actor("portal"), "sample_residence", {"citizen_id": "001099012345"}).row
        assert earlier not in row.variables
        row.state = row.state[:-1] + f',"kept_by_test":"{earlier}"}}'  # as a completed task's data keeps it
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [earlier]) == {earlier}


def test_rows_older_than_the_file_are_not_searched(factory, tmp_path):
    path = stored_path(tmp_path, b"a", "a.pdf")
    with db.transaction(factory) as session:
        draft(session, {"document": path}, at=NOW - dt.timedelta(days=2))
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [path], {path: NOW - dt.timedelta(days=3)}) == {path}
        assert upload_refs.referenced(session, [path], {path: NOW}) == set()


def test_a_path_outside_the_stores_layout_is_never_free(factory, tmp_path):
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [str(tmp_path / "documents" / "mau-01.pdf")]) == \
            {str(tmp_path / "documents" / "mau-01.pdf")}
