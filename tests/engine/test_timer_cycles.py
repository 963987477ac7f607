"""engine.timer_events.skip_missed: a cycle's repetitions already past fire once, not each. SpiffWorkflow fired every
missed repetition in one command: a boundary cycle starting in 2020 set off tens of thousands of branches, ran into
the step bound 50 times (50 incidents, 15 s with the write lock held) and then hung the scheduler."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.timer_events import skip_missed
from tests.bpmn_builder import flow, process
from tests.engine.test_loop_limits import start_p
from tests.engine.test_runtime_errors import detail

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize("cycles, nxt, after", [
    (-2, "2026-11-28T02:00:00+00:00", (-2, "2026-11-28T10:00:00+00:00")),  # unbounded (SpiffWorkflow counts down from -1)
    (5, "2026-11-28T08:00:00+00:00", (3, "2026-11-28T10:00:00+00:00")),    # two repetitions missed
    (3, "2020-01-01T00:00:00+00:00", (0, "2026-11-28T10:00:00+00:00")),    # all missed: this firing was the last
    (3, "2026-11-28T12:00:00+00:00", (3, "2026-11-28T12:00:00+00:00")),    # nothing missed
    (0, "2020-01-01T00:00:00+00:00", (0, "2020-01-01T00:00:00+00:00")),    # already ended
])
def test_missed_repetitions_are_skipped_and_counted(cycles, nxt, after):
    value = skip_missed({"cycles": cycles, "next": nxt, "duration": HOUR}, NOW)
    assert (value["cycles"], value["next"], value["duration"]) == (*after, HOUR)


def test_a_boundary_cycle_starting_in_the_past_fires_once_and_waits_for_its_next_repetition(factory, operator):
    body = process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u" camunda:candidateGroups="g"/><bpmn:endEvent id="e"/>'
        '<bpmn:boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><bpmn:timerEventDefinition>'
        '<bpmn:timeCycle>R/2020-01-01T00:00:00Z/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:scriptTask id="n" scriptFormat="python"><bpmn:script>k = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="e2"/>' + flow("f0", "s", "u") + flow("f1", "u", "e") + flow("f2", "b", "n")
        + flow("f3", "n", "e2"))
    before = dt.datetime.now(UTC)
    found = detail(factory, start_p(factory, operator, body, {}))
    assert found["incidents"] == [] and found["status"] == "active"
    next_timer = dt.datetime.fromisoformat(found["nextTimerAt"])
    assert before < next_timer <= before + dt.timedelta(hours=1)
