"""Parallel joins: what a branch wrote is among the instance's variables while it waits at the join, and a join
that a branch can no longer reach is an incident on the join instead of an instance waiting for nothing."""
from __future__ import annotations

from engine import db, incidents, instances, messages, modification, queries, user_tasks
from tests.bpmn_builder import end, flow, process, start, user_task
from tests.engine.test_loop_limits import start_p
from tests.engine.test_runtime_errors import complete_the_form, detail


def _split(*branches: str, join_to: str = "j") -> str:
    """A parallel split ``g`` into the branch elements given, each flowing into the join ``j``."""
    return ('<bpmn:parallelGateway id="g"/><bpmn:parallelGateway id="j"/>' + flow("fs", start()[0], "g")
            + "".join(flow(f"fb{i}", "g", b) + flow(f"fj{i}", b, join_to) for i, b in enumerate(branches)))


def test_what_a_branch_wrote_is_in_the_variables_while_it_waits_at_the_join(factory, operator):
    body = process(start()[1] + user_task("a")[1] + '<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:script>'
                   'y = 5</bpmn:script></bpmn:scriptTask>' + user_task("sau")[1] + end()[1] + _split("a", "calc")
                   + flow("f8", "j", "sau") + flow("f9", "sau", "end"))
    iid = start_p(factory, operator, body, {"x": 1})
    assert detail(factory, iid)["variables"] == {"x": 1, "y": 5}


def test_a_user_task_answer_is_in_the_variables_while_its_branch_waits_at_the_join(factory, operator):
    body = process(start()[1] + user_task("a")[1] + user_task("b")[1] + '<bpmn:intermediateCatchEvent id="m">'
                   '<bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>' + end()[1]
                   + _split("a", "b") + flow("f8", "j", "m") + flow("f9", "m", "end"),
                   extra='<bpmn:message id="M" name="tra_loi"/>')
    iid = start_p(factory, operator, body, {"x": 1})
    with db.transaction(factory) as s:
        (task,) = [t for t in queries.user_tasks(s, instance_id=iid) if t["taskDefinitionKey"] == "a"]
        user_tasks.complete(s, task["id"], operator, {"ma_ho_so": "HS-1"})
    assert detail(factory, iid)["variables"] == {"x": 1, "ma_ho_so": "HS-1"}
    complete_the_form(factory, operator, iid, {"b_xong": True})
    with db.transaction(factory) as s:  # correlation keys are matched against the variables
        assert messages.correlate(s, "tra_loi", operator, correlation_keys={"ma_ho_so": "HS-1"}) == [iid]
    assert detail(factory, iid)["status"] == "completed"


def test_a_join_a_branch_can_no_longer_reach_is_an_incident_on_the_join(factory, operator):
    # the second branch leaves through the exclusive gateway's default flow: the join would wait for it forever
    body = process(start()[1] + user_task("a")[1] + '<bpmn:exclusiveGateway id="x" default="fd"/>'
                   '<bpmn:endEvent id="e0"/>' + user_task("sau")[1] + end()[1] + _split("a", "x")
                   .replace(flow("fj1", "x", "j"), flow("fj1", "x", "j", "di_tiep")) + flow("fd", "x", "e0")
                   + flow("f8", "j", "sau") + flow("f9", "sau", "end"))
    iid = start_p(factory, operator, body, {"di_tiep": False})
    complete_the_form(factory, operator, iid, {"ket_qua": "xong"})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "j" and "can no longer" in incident["incidentMessage"]
    assert found["status"] == "active" and found["variables"] == {"di_tiep": False, "ket_qua": "xong"}
    with db.transaction(factory) as s:  # resuming runs the instance on: the same join gets no second incident
        instances.suspend(s, iid, operator)
    with db.transaction(factory) as s:
        instances.resume(s, iid, operator)
    assert len(detail(factory, iid)["incidents"]) == 1
    with db.transaction(factory) as s:  # the token still waits at the join, so an operator can move it on
        modification.move(s, iid, "j", "sau", operator, "nhánh thứ hai đã kết thúc")
    complete_the_form(factory, operator, iid, {})
    found = detail(factory, iid)
    assert found["status"] == "completed" and all(i["resolvedAt"] for i in found["incidents"])


def test_a_value_one_branch_changed_is_not_put_back_by_the_stale_copy_another_branch_brings_to_the_join(factory,
                                                                                                      operator):
    # each branch carries a copy of the variables from the split: the branch arriving last at the join brought back
    # the value the other branch's officer had replaced (x = 1 became 0 again), whichever finished first
    body = process(start()[1] + user_task("a")[1] + user_task("b")[1] + user_task("sau")[1] + end()[1]
                   + _split("a", "b") + flow("f8", "j", "sau") + flow("f9", "sau", "end"))
    for first, second in (("a", "b"), ("b", "a")):
        iid = start_p(factory, operator, body, {"x": 0, "y": 0, "z": 0})
        for element, answer in ((first, {"x": 1, "z": 3}), (second, {"y": 2, "z": 4})):
            with db.transaction(factory) as s:
                (task,) = [t for t in queries.user_tasks(s, instance_id=iid) if t["taskDefinitionKey"] == element]
                user_tasks.complete(s, task["id"], operator, answer)
        assert detail(factory, iid)["variables"] == {"x": 1, "y": 2, "z": 4}, (first, second)


def test_variables_corrected_by_a_retry_in_one_branch_reach_the_join(factory, operator):
    # the retry of the first step of a branch gives its corrected variables to that step, not to the split the other
    # branch left from: the join takes them as the retried branch's change
    body = process(start()[1] + '<bpmn:scriptTask id="s1" scriptFormat="python"><bpmn:script>r1 = 10 / d1</bpmn:script>'
                   '</bpmn:scriptTask><bpmn:scriptTask id="s2" scriptFormat="python"><bpmn:script>r2 = 10 / d2'
                   '</bpmn:script></bpmn:scriptTask>' + user_task("sau")[1] + end()[1] + _split("s1", "s2")
                   + flow("f8", "j", "sau") + flow("f9", "sau", "end"))
    iid = start_p(factory, operator, body, {"d1": 0, "d2": 0})
    for element, fixed in (("s1", {"d1": 5}), ("s2", {"d2": 2})):
        (incident,) = [i for i in detail(factory, iid)["incidents"]
                       if i["activityId"] == element and not i["resolvedAt"]]
        with db.transaction(factory) as s:
            incidents.retry(s, incident["id"], operator, fixed)
    found = detail(factory, iid)
    assert [t["taskDefinitionKey"] for t in found["userTasks"]] == ["sau"] and found["openIncidents"] == 0
    assert found["variables"] == {"d1": 5, "d2": 2, "r1": 2.0, "r2": 5.0}
