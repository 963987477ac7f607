"""An event-based gateway waits for a message or a timer, whichever comes first; its state stores and loads."""
from __future__ import annotations

import datetime as dt

import time_machine

from engine import db, instances, messages, queries, timers
from tests.bpmn_builder import end, flow, process, start
from tests.conftest import deploy_files

GATEWAY = process("\n".join([
    start()[1],
    '<bpmn:eventBasedGateway id="gw"/>',
    '<bpmn:intermediateCatchEvent id="reply"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>',
    '<bpmn:intermediateCatchEvent id="late"><bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration>'
    '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    end("answered")[1], end("timed_out")[1],
    flow("f0", "start", "gw"), flow("f1", "gw", "reply"), flow("f2", "gw", "late"),
    flow("f3", "reply", "answered"), flow("f4", "late", "timed_out")]), process_id="gw_proc",
    extra='<bpmn:message id="m" name="police_records_reply"/>')


def _path(factory, iid):
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    return detail["status"], [h["activityId"] for h in detail["history"] if h["kind"] == "activity_completed"]


def test_the_message_wins_and_the_instance_is_stored_and_ends(factory, operator):
    deploy_files(factory, [("gw.bpmn", GATEWAY)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "gw_proc", {}, "LLTP-1").row.id
    with db.transaction(factory) as s:
        messages.correlate(s, "police_records_reply", operator, business_key="LLTP-1", variables={"co_an_tich": False})
    status, path = _path(factory, iid)
    assert status == "completed" and "reply" in path and "answered" in path and "late" not in path


def test_the_timer_wins_when_no_message_comes(factory, operator):
    deploy_files(factory, [("gw.bpmn", GATEWAY)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "gw_proc", {}, "LLTP-2").row.id
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)):
        assert timers.fire_due(factory) == [iid]
    status, path = _path(factory, iid)
    assert status == "completed" and "timed_out" in path and "reply" not in path
