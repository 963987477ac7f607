"""Text a caller gives that no column can hold — a NUL character (PostgreSQL refuses it) or half of a surrogate pair
(not encodable as UTF-8) — is bad input naming the field, on either database, not a database error mid-command."""
from __future__ import annotations

import pytest

from engine import db, external_tasks, instances, user_tasks
from engine.errors import BadInput
from engine.models import UserTask
from engine.runtime import Actor
from tests.bpmn_builder import end, external, linear, process, start, user_task
from tests.conftest import deploy_files

XML = process(linear(start(), external("call", "work"), user_task("review"), end()))
BAD = ["a\x00b", "a\ud800b"]


@pytest.fixture
def instance(factory, operator):
    deploy_files(factory, [("p.bpmn", XML)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p", {}).row.id


def locked(factory):
    with db.transaction(factory) as s:
        (task,) = external_tasks.fetch_and_lock(s, "w1", {"work": 60_000})
    return task.id


def refused(factory, command, field):
    with pytest.raises(BadInput, match=field):
        with db.transaction(factory) as s:
            command(s)


@pytest.mark.parametrize("text", BAD)
def test_a_business_key_or_a_reason_with_a_character_no_column_holds_is_refused(factory, operator, instance, text):
    refused(factory, lambda s: instances.start(s, operator, "p", {}, text), "business key")
    refused(factory, lambda s: instances.suspend(s, instance, operator, text), "reason")
    refused(factory, lambda s: instances.terminate(s, instance, operator, text), "reason")
    with db.transaction(factory) as s:
        instances.suspend(s, instance, operator)
    refused(factory, lambda s: instances.resume(s, instance, operator, text), "reason")


@pytest.mark.parametrize("text", BAD)
def test_a_worker_or_user_name_with_a_character_no_column_holds_is_refused(factory, operator, instance, text):
    refused(factory, lambda s: external_tasks.fetch_and_lock(s, text, {"work": 1000}), "worker id")
    refused(factory, lambda s: external_tasks.fetch_and_lock(s, "w1", {text: 1000}), "topic")
    task_id = locked(factory)
    refused(factory, lambda s: external_tasks.failure(s, task_id, "w1", text), "error message")
    refused(factory, lambda s: external_tasks.failure(s, task_id, "w1", "down", text), "error details")
    refused(factory, lambda s: external_tasks.bpmn_error(s, task_id, "w1", text), "error code")
    refused(factory, lambda s: external_tasks.bpmn_error(s, task_id, "w1", "E1", text), "error message")
    with db.transaction(factory) as s:
        external_tasks.complete(s, task_id, "w1", {})
    with db.transaction(factory) as s:
        review = s.query(UserTask).one().id
    refused(factory, lambda s: user_tasks.claim(s, review, operator, text), "userId")
    with pytest.raises(BadInput, match="user id"):
        Actor(text)
