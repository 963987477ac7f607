"""engine.assignment: an assignee or candidate groups written as ${...} are worked out from the task's variables when
it becomes ready — one task per reviewer of a multi-instance review, each for its own officer — and a value that
cannot be worked out is an incident on the task, not a task nobody can see."""
from __future__ import annotations

import pytest

from engine import db, incidents, queries, user_tasks
from engine.errors import DeploymentRefused, NotACandidate, TaskHeldByAnother
from engine.runtime import Actor
from tests.bpmn_builder import end, linear, process, start
from tests.conftest import deploy_files
from tests.engine.test_runtime_errors import detail, started

EACH_REVIEWER = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="reviewers" '
                 'camunda:elementVariable="reviewer"/>')


def review(attributes: str, loop: str = "") -> tuple[str, str]:
    return "review", f'<bpmn:userTask id="review" name="Cho ý kiến" {attributes}>{loop}</bpmn:userTask>'


def open_tasks(factory, iid):
    with db.transaction(factory) as s:
        return queries.user_tasks(s, instance_id=iid)


def test_each_reviewer_of_a_multi_instance_review_gets_a_task_for_them_alone(factory, operator):
    iid = started(factory, operator, review('camunda:assignee="${reviewer}"', EACH_REVIEWER),
                  variables={"reviewers": ["an", "binh"]})
    tasks = {t["assignee"]: t for t in open_tasks(factory, iid)}
    assert set(tasks) == {"an", "binh"}
    an = Actor("an", frozenset({"staff"}))
    with pytest.raises(TaskHeldByAnother):
        with db.transaction(factory) as s:
            user_tasks.complete(s, tasks["binh"]["id"], an, {"opinion": "của An"})
    with db.transaction(factory) as s:
        user_tasks.complete(s, tasks["an"]["id"], an, {"opinion_an": "đồng ý"})
    assert [t["assignee"] for t in open_tasks(factory, iid)] == ["binh"]


def test_candidate_groups_worked_out_from_a_variable_take_a_list_or_a_comma_separated_text(factory, operator):
    iid = started(factory, operator, review('camunda:candidateGroups="${department + \',\' + extra}"'),
                  variables={"department": "so-xay-dung", "extra": "lanh-dao"})
    (task,) = open_tasks(factory, iid)
    assert task["candidateGroups"] == ["so-xay-dung", "lanh-dao"]
    other = started(factory, operator, review('camunda:candidateGroups="${groups}"'),
                    variables={"groups": ["mot-cua", "phap-che"]})
    (task,) = open_tasks(factory, other)
    assert task["candidateGroups"] == ["mot-cua", "phap-che"]
    with pytest.raises(NotACandidate):
        with db.transaction(factory) as s:
            user_tasks.complete(s, task["id"], Actor("x", frozenset({"staff"})), {})


@pytest.mark.parametrize("attributes, variables, words", [
    ('camunda:assignee="${reviewer}"', {}, "assignee '${reviewer}' of 'Cho ý kiến' (review) could not be worked out"),
    ('camunda:assignee="${reviewer}"', {"reviewer": 7}, "must give one user's name, not 7"),
    ('camunda:candidateGroups="${groups}"', {"groups": {"a": 1}}, "must give a list of names or a comma-separated"),
    ('camunda:candidateUsers="${users}"', {"users": ["x" * 101]}, "gave a name longer than 100 characters")])
def test_a_value_that_cannot_be_worked_out_is_an_incident_and_a_retry_with_it_fixed_makes_the_task(
        factory, operator, attributes, variables, words):
    iid = started(factory, operator, review(attributes + ' camunda:candidateGroups="staff"'
                                            if "candidateGroups" not in attributes else attributes),
                  variables=variables)
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "review" and words in incident["incidentMessage"]
    assert found["userTasks"] == []
    fixed = {"reviewer": "an", "groups": ["mot-cua"], "users": ["an"]}
    with db.transaction(factory) as s:
        incidents.retry(s, incident["id"], operator, {k: v for k, v in fixed.items() if k in attributes})
    (task,) = open_tasks(factory, iid)
    assert task["assignee"] == "an" or task["candidateGroups"] == ["mot-cua"] or task["candidateUsers"] == ["an"]


@pytest.mark.parametrize("attribute, words", [
    ('camunda:assignee="${execution.getVariable(\'x\')}"', "[review]"),
    ('camunda:candidateGroups="phong-${ward}"', "would be taken as a name, not worked out")])
def test_an_expression_the_sandbox_refuses_or_a_partial_one_is_refused_at_deploy(factory, attribute, words):
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(linear(start(), review(attribute), end())))])
    assert words in str(refused.value) and "p.bpmn:" in str(refused.value)


def test_a_retry_that_fails_again_opens_a_new_incident_instead_of_failing_the_request(factory, operator):
    iid = started(factory, operator, review('camunda:assignee="${reviewer}" camunda:candidateGroups="staff"'))
    (first,) = detail(factory, iid)["incidents"]
    with db.transaction(factory) as s:
        incidents.retry(s, first["id"], operator)  # nothing fixed
    found = detail(factory, iid)
    (retried,) = [i for i in found["incidents"] if i["id"] == first["id"]]
    still_open = [i for i in found["incidents"] if i["resolvedAt"] is None]
    assert retried["resolvedAt"] is not None and len(still_open) == 1
    assert "could not be worked out" in still_open[0]["incidentMessage"]
    assert found["userTasks"] == [] and found["status"] == "active"


def test_camunda_initiator_names_who_started_the_instance_and_a_caller_cannot_forge_it(factory, operator):
    body = linear(("s", '<bpmn:startEvent id="s" camunda:initiator="starter"/>'),
                  review('camunda:assignee="${starter}"'), end())
    deploy_files(factory, [("p.bpmn", process(body))])
    from engine import instances
    with db.transaction(factory) as s:
        iid = instances.start(s, Actor("can-bo-an", frozenset({"staff"})), "p", {"starter": "someone-else"}).row.id
    (task,) = open_tasks(factory, iid)
    assert task["assignee"] == "can-bo-an" and detail(factory, iid)["variables"]["starter"] == "can-bo-an"


def test_an_initiator_that_is_not_a_variable_name_is_refused_at_deploy(factory):
    body = linear(("s", '<bpmn:startEvent id="s" camunda:initiator="${starter}"/>'), review(""), end())
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(body))])
    assert "camunda:initiator '${starter}' must be a variable name" in str(refused.value)


def test_an_assignee_that_cannot_be_worked_out_says_why(factory, operator):
    # a dict collection gives each instance a value, not the item: the incident must say what went wrong with it
    iid = started(factory, operator, review('camunda:assignee="${reviewer[\'name\']}" camunda:candidateGroups="staff"',
                                            EACH_REVIEWER), variables={"reviewers": {"xay-dung": "an"}})
    (incident,) = detail(factory, iid)["incidents"]
    assert "could not be worked out" in incident["incidentMessage"]
    assert "string indices must be integers" in incident["incidentMessage"]  # it ended at "Error evaluating ... ."
