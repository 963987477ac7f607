"""engine.loop_limits: a loop that would not end and a multi-instance activity asking for millions of instances
open an incident on their element and end the command, instead of running it without end (on SQLite, with the
engine's write lock held)."""
from __future__ import annotations

import pytest

from engine import loop_limits
from tests.engine.test_runtime_errors import detail, started


def standard_loop(condition: str, maximum: str = "") -> tuple[str, str]:
    most = f' loopMaximum="{maximum}"' if maximum else ""
    return "lp", (f'<bpmn:scriptTask id="lp" name="Đếm" scriptFormat="python"><bpmn:standardLoopCharacteristics{most}>'
                  f'<bpmn:loopCondition>{condition}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>'
                  f'<bpmn:script>count = count + 1</bpmn:script></bpmn:scriptTask>')


def multi_instance(cardinality: str) -> tuple[str, str]:
    return "mi", ('<bpmn:scriptTask id="mi" scriptFormat="python"><bpmn:multiInstanceLoopCharacteristics>'
                  f'<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
                  '<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')


def test_a_loop_whose_condition_never_turns_false_stops_at_the_bound_with_an_incident(factory, operator):
    iid = started(factory, operator, standard_loop("count &gt; 0"), variables={"count": 0})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "lp" and f"at most {loop_limits.MAX_LOOP_ITERATIONS:,} times" in \
        incident["incidentMessage"] and "'Đếm'" in incident["incidentMessage"]
    assert found["status"] == "active"


def test_a_loop_within_the_bound_runs_to_its_end(factory, operator):
    iid = started(factory, operator, standard_loop("count &lt; 50"), variables={"count": 0})
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["incidents"] == [] and found["variables"]["count"] == 50


@pytest.mark.parametrize("n, words", [(10_000_000, "asks for 10,000,000 instances: at most 1,000"),
                                      ("3", "must be a whole number of instances, not '3'"),
                                      (-1, "must be a whole number of instances, not -1")])
def test_a_cardinality_past_the_bound_or_not_a_count_is_an_incident(factory, operator, n, words):
    iid = started(factory, operator, multi_instance("n"), variables={"n": n})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "mi" and words in incident["incidentMessage"]
    assert found["status"] == "active"


def test_a_cardinality_within_the_bound_makes_that_many_instances(factory, operator):
    iid = started(factory, operator, multi_instance("n"), variables={"n": loop_limits.MAX_INSTANCES})
    assert detail(factory, iid)["status"] == "completed"


def test_a_literal_cardinality_past_the_bound_is_refused_at_deploy(factory):
    from engine.errors import DeploymentRefused
    from tests.bpmn_builder import end, linear, process, start
    from tests.conftest import deploy_files
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(linear(start(), multi_instance("5000"), end())))])
    (problem,) = refused.value.problems
    assert problem.file == "p.bpmn" and "loopCardinality 5,000 is more instances than allowed (1,000)" in \
        problem.message and problem.line
