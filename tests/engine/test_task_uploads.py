"""Files kept for an open task's form: only someone who may complete the task keeps them, they count as named while
kept, and they go with the task when it is completed."""
from __future__ import annotations

import pytest

from engine import db, task_uploads, upload_refs, user_tasks
from engine.errors import NotACandidate, TaskNotActive
from engine.models import UserTask
from engine.runtime import Actor
from tests.engine.test_instances import finish_lookup, start_sample

PATH = "/srv/uploads/ab/" + "ab" * 32 + "/anh.jpg"


def open_task(factory) -> str:
    start_sample(factory, Actor("operator", operator=True))
    finish_lookup(factory)
    with db.transaction(factory) as session:
        return session.query(UserTask).first().id


def test_files_are_kept_replaced_and_go_with_the_completed_task(factory, sample):
    tid = open_task(factory)
    with db.transaction(factory) as session:
        task_uploads.keep(session, tid, Actor("an", operator=True), {"anh": [PATH, PATH.replace("anh", "b")]})
        task_uploads.keep(session, tid, Actor("an", operator=True), {"anh": [PATH]})
    with db.transaction(factory) as session:
        assert task_uploads.kept(session, tid) == {"anh": [PATH]}
        assert upload_refs.referenced(session, [PATH]) == {PATH}
        user_tasks.complete(session, tid, Actor("an", operator=True),
                            {"review_decision": "accept", "review_note": "Đủ"})
    with db.transaction(factory) as session:
        assert task_uploads.kept(session, tid) == {}
    with db.transaction(factory) as session, pytest.raises(TaskNotActive):
        task_uploads.keep(session, tid, Actor("an", operator=True), {"anh": [PATH]})


def test_only_who_may_complete_the_task_keeps_files(factory, sample):
    tid = open_task(factory)
    with db.transaction(factory) as session, pytest.raises(NotACandidate):
        task_uploads.keep(session, tid, Actor("la", frozenset({"khac"})), {"anh": [PATH]})
