"""engine.loop_limits: a loop that would not end and a multi-instance activity asking for millions of instances
open an incident on their element and end the command, instead of running it without end (on SQLite, with the
engine's write lock held)."""
from __future__ import annotations

import pytest

from engine import loop_limits
from tests.bpmn_builder import end, flow, linear, process, start, user_task
from tests.engine.test_runtime_errors import complete_the_form, detail, started


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


@pytest.mark.parametrize("n, words", [(10_000_000, "asks for 10,000,000 instances: at most 500"),
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
    from tests.conftest import deploy_files
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(linear(start(), multi_instance("5000"), end())))])
    (problem,) = refused.value.problems
    assert problem.file == "p.bpmn" and "loopCardinality 5,000 is more instances than allowed (500)" in \
        problem.message and problem.line


def cycle(limit_text: str) -> str:
    """A script and a gateway going back to it until ``x`` reaches the limit: a loop with no wait in it."""
    return ('<bpmn:startEvent id="s"/><bpmn:scriptTask id="t" name="Cộng" scriptFormat="python"><bpmn:script>x = x + 1'
            '</bpmn:script></bpmn:scriptTask><bpmn:exclusiveGateway id="g"/><bpmn:endEvent id="e"/>'
            + flow("f0", "s", "t") + flow("f1", "t", "g") + flow("f2", "g", "t", f"x &lt; {limit_text}")
            + flow("f3", "g", "e", f"x &gt;= {limit_text}"))


def start_p(factory, operator, body: bytes, variables: dict) -> str:
    from engine import db, instances
    from tests.conftest import deploy_files
    deploy_files(factory, [("p.bpmn", body)])
    with db.transaction(factory) as s:
        return instances.start(s, operator, "p", variables).row.id


def test_a_loop_deeper_than_spiffworkflows_iterators_reach_still_ends_at_its_end_event(factory, operator):
    # SpiffWorkflow's task iterators stopped at depth 1,000: round 501 of this loop was out of their sight and the
    # workflow called itself completed with x = 501, its end event never reached (engine.task_tree)
    iid = start_p(factory, operator, process(cycle("limit")), {"x": 0, "limit": 600})
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["incidents"] == [] and found["variables"]["x"] == 600
    assert "e" in {event["activityId"] for event in found["history"] if event["kind"] == "activity_completed"}


def test_a_loop_with_no_wait_that_would_not_end_stops_at_the_step_bound_with_an_incident(factory, operator):
    iid = start_p(factory, operator, process(cycle("limit")), {"x": 0, "limit": 10**9})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert f"at most {loop_limits.MAX_AUTOMATIC_STEPS:,} steps run at once" in incident["incidentMessage"]
    assert found["status"] == "active" and 0 < found["variables"]["x"] < loop_limits.MAX_AUTOMATIC_STEPS


def test_an_exclusive_gateway_with_no_true_condition_is_an_incident_on_it_not_a_failed_command(factory, operator):
    body = process(linear(start(), user_task("form"), ("g", '<bpmn:exclusiveGateway id="g"/>'))
                   + '<bpmn:endEvent id="e"/>' + flow("f9", "g", "e", "x &gt; 5"))
    iid = start_p(factory, operator, body, {})
    complete_the_form(factory, operator, iid, {"x": 1})  # the officer's answer is kept
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "g" and "No conditions satisfied" in incident["incidentMessage"]
    assert found["variables"]["x"] == 1 and found["status"] == "active"


def test_a_process_that_calls_itself_stops_at_the_nesting_bound_with_an_incident(factory, operator):
    body = process(linear(start(), ("ca", '<bpmn:callActivity id="ca" calledElement="p"/>'), end()))
    found = detail(factory, start_p(factory, operator, body, {}))
    (incident,) = found["incidents"]
    assert f"at most {loop_limits.MAX_SUBPROCESS_DEPTH} levels" in incident["incidentMessage"]
    assert found["status"] == "active"


def test_a_loop_drawn_back_into_a_parallel_join_is_refused_at_deploy(factory):
    # the join would wait for a token only it can produce; SpiffWorkflow recursed until Python stopped it (a 500)
    from engine.errors import DeploymentRefused
    from tests.conftest import deploy_files
    body = process('<bpmn:startEvent id="s"/><bpmn:parallelGateway id="g"/><bpmn:userTask id="a"/>'
                   '<bpmn:endEvent id="e"/>' + flow("f0", "s", "g") + flow("f1", "g", "a") + flow("f2", "a", "g")
                   + flow("f3", "g", "e"))
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", body)])
    (problem,) = [p for p in refused.value.problems if p.element_id == "g"]
    assert "waits for a token from 'a'" in problem.message and problem.line


def test_a_parallel_split_and_join_around_a_loop_deploys(factory, operator):
    # the loop is merged by an exclusive gateway inside one branch: the join receives both branches once
    body = process('<bpmn:startEvent id="s"/><bpmn:parallelGateway id="split"/><bpmn:exclusiveGateway id="m"/>'
                   '<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>x = x + 1</bpmn:script>'
                   '</bpmn:scriptTask><bpmn:exclusiveGateway id="x"/><bpmn:scriptTask id="other" scriptFormat="python">'
                   '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask><bpmn:parallelGateway id="join"/>'
                   '<bpmn:endEvent id="e"/>' + flow("f0", "s", "split") + flow("f1", "split", "m") + flow("f2", "m", "t")
                   + flow("f3", "t", "x") + flow("f4", "x", "m", "x &lt; 3") + flow("f5", "x", "join", "x &gt;= 3")
                   + flow("f6", "split", "other") + flow("f7", "other", "join") + flow("f8", "join", "e"))
    found = detail(factory, start_p(factory, operator, body, {"x": 0}))
    assert found["status"] == "completed" and found["variables"]["x"] == 3 and found["variables"]["y"] == 1
