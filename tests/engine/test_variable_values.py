"""Variables handed to the engine in Python (an in-process worker, a script of the operators) that JSON cannot hold
are refused with InvalidVariables before anything is stored, never a TypeError out of the command."""
from __future__ import annotations

import pytest

from engine import db, external_tasks, instances, queries
from engine.errors import InvalidVariables
from tests.bpmn_builder import end, external, linear, process, start
from tests.conftest import deploy_files


@pytest.mark.parametrize("value, kind", [(b"%PDF-1.7", "bytes"), (1j, "complex"), ({"nested": [b"x"]}, "bytes"),
                                         ({"k": object()}, "object")])
def test_a_worker_result_that_cannot_be_stored_is_refused_and_the_task_stays(factory, operator, value, kind):
    deploy_files(factory, [("p.bpmn", process(linear(start(), external("work"), end())))])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {}).row.id
    with db.transaction(factory) as s:
        (task,) = external_tasks.fetch_and_lock(s, "w1", {"work": 60_000})
    with pytest.raises(InvalidVariables, match=f"'result' holds a value of type {kind}"):
        with db.transaction(factory) as s:
            external_tasks.complete(s, task.id, "w1", {"result": value})
    with db.transaction(factory) as s:
        external_tasks.complete(s, task.id, "w1", {"result": "ok"})  # still locked by the worker, still open
        assert queries.instance_detail(s, iid)["status"] == "completed"


def test_a_start_with_bytes_is_refused_before_anything_is_stored(factory, operator):
    deploy_files(factory, [("p.bpmn", process(linear(start(), external("work"), end())))])
    with pytest.raises(InvalidVariables, match="type bytes"):
        with db.transaction(factory) as s:
            instances.start(s, operator, "p", {"scan": b"\x89PNG"})
    with db.transaction(factory) as s:
        assert not queries.instances(s)
