"""engine.user_tasks: an id that is not a user task's is 'no user task', whatever history it has."""
from __future__ import annotations

import pytest

from engine import db, external_tasks, user_tasks
from engine.errors import NotFound
from tests.engine.test_instances import start_sample


def _attempt(factory, action, task_id, operator):
    with db.transaction(factory) as s:
        if action == "claim":
            user_tasks.claim(s, task_id, operator, "officer1")
        else:
            user_tasks.complete(s, task_id, operator, {})


@pytest.mark.parametrize("action", ["claim", "complete"])
def test_an_external_task_id_is_no_user_task_open_or_done(factory, sample, operator, action):
    start_sample(factory, operator, "H-1")
    with db.transaction(factory) as s:
        (waiting,) = external_tasks.fetch_and_lock(s, "worker-1", {"population-lookup": 60_000})
    with pytest.raises(NotFound, match=f"no user task {waiting.id}"):
        _attempt(factory, action, waiting.id, operator)
    with db.transaction(factory) as s:
        external_tasks.complete(s, waiting.id, "worker-1", {"registry_found": True})
    with pytest.raises(NotFound, match=f"no user task {waiting.id}"):
        _attempt(factory, action, waiting.id, operator)
