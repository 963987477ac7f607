"""A message correlated to an instance that stopped waiting for it between the look-up of the waiting instances (made
without a lock) and the instance's command — a concurrent correlation, timer or command took the catch event — is
not correlated there: the caller gets the engine's own error, not SpiffWorkflow's."""
from __future__ import annotations

import pytest

from engine import db, instances, messages, queries
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files

XML = process(linear(start(), ("paid", '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition '
                                       'messageRef="m_paid"/></bpmn:intermediateCatchEvent>'), user_task("review"), end()),
              extra='<bpmn:message id="m_paid" name="payment_received"/>')


def waiting(factory, operator, keys):
    deploy_files(factory, [("p.bpmn", XML)])
    with db.transaction(factory) as s:
        return [instances.start(s, operator, "p", {}, key).row.id for key in keys]


def test_a_message_that_lost_the_race_for_its_instance_is_not_correlated(factory, operator, monkeypatch):
    (iid,) = waiting(factory, operator, ["H-1"])
    with db.transaction(factory) as s:
        assert messages.correlate(s, "payment_received", operator, "H-1") == [iid]
    # the second caller looked before the first one's commit: it found the instance waiting
    monkeypatch.setattr(messages, "waiting_instances", lambda *args, **kwargs: [iid])
    with pytest.raises(messages.MessageNotCorrelated, match="stopped waiting for it meanwhile"):
        with db.transaction(factory) as s:
            messages.correlate(s, "payment_received", operator, "H-1", variables={"amount": 1})
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert [h["kind"] for h in detail["history"]].count("message_received") == 1 and "amount" not in detail["variables"]


def test_correlating_to_all_skips_the_instances_that_stopped_waiting(factory, operator, monkeypatch):
    first, second = waiting(factory, operator, ["H-1", "H-2"])
    with db.transaction(factory) as s:
        messages.correlate(s, "payment_received", operator, "H-1")
    monkeypatch.setattr(messages, "waiting_instances", lambda *args, **kwargs: [first, second])
    with db.transaction(factory) as s:
        assert messages.correlate(s, "payment_received", operator, all_instances=True) == [second]
    with db.transaction(factory) as s:
        assert [t["taskDefinitionKey"] for t in queries.instance_detail(s, second)["userTasks"]] == ["review"]
