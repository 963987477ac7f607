"""Multi-instance user and worker tasks: each instance is a task of its own, in the inbox and for workers, under
the activity's id and name; what each officer or worker answers reaches the process, as in Camunda; the element
variable stays the instance's own."""
from __future__ import annotations

import pytest

from engine import db, external_tasks, queries, user_tasks
from tests.engine.test_runtime_errors import detail, started

PARALLEL_OVER_REVIEWERS = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="reviewers" ' \
                          'camunda:elementVariable="reviewer"/>'
SEQUENTIAL_TWICE = '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2' \
                   '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'


def review(loop: str) -> tuple[str, str]:
    return "review", (f'<bpmn:userTask id="review" name="Cho ý kiến" camunda:candidateGroups="staff">{loop}'
                      '</bpmn:userTask>')


def consult(loop: str) -> tuple[str, str]:
    return "consult", (f'<bpmn:serviceTask id="consult" name="Hỏi ý kiến sở" camunda:type="external" '
                       f'camunda:topic="consult">{loop}</bpmn:serviceTask>')


def open_tasks(factory, iid):
    with db.transaction(factory) as s:
        return queries.user_tasks(s, instance_id=iid)


def test_each_instance_of_a_parallel_user_task_is_an_inbox_task_of_the_activity(factory, operator):
    iid = started(factory, operator, review(PARALLEL_OVER_REVIEWERS), variables={"reviewers": ["an", "binh", "chi"]})
    tasks = open_tasks(factory, iid)
    assert [(t["taskDefinitionKey"], t["name"], t["candidateGroups"]) for t in tasks] == \
        [("review", "Cho ý kiến", ["staff"])] * 3
    assert "reviewer" not in detail(factory, iid)["variables"]  # one instance's reviewer is not the process's
    for number, task in enumerate(tasks):
        with db.transaction(factory) as s:
            user_tasks.complete(s, task["id"], operator, {"opinion": f"ý kiến {number}"})
        assert len(open_tasks(factory, iid)) == 2 - number
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["incidents"] == []
    # each officer's answer reached the process (the last one given stands, as in Camunda); the element
    # variable stayed the instance's own and the collection is as it was
    assert found["variables"]["opinion"] == "ý kiến 2" and "reviewer" not in found["variables"]
    assert found["variables"]["reviewers"] == ["an", "binh", "chi"]
    completed = [h for h in found["history"] if h["kind"] == "task_completed"]
    assert [(h["activityId"], h["taskId"]) for h in completed] == [("review", t["id"]) for t in tasks]


def test_a_sequential_user_task_gives_one_task_at_a_time_and_each_sees_the_answer_before(factory, operator):
    iid = started(factory, operator, review(SEQUENTIAL_TWICE))
    (first,) = open_tasks(factory, iid)
    with db.transaction(factory) as s:
        user_tasks.complete(s, first["id"], operator, {"opinion": "đồng ý"})
    (second,) = open_tasks(factory, iid)
    assert second["id"] != first["id"] and second["taskDefinitionKey"] == "review"
    with db.transaction(factory) as s:
        assert queries.task_form(s, second["id"])[1]["opinion"] == "đồng ý"
        user_tasks.complete(s, second["id"], operator, {"opinion": "không đồng ý"})
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["variables"]["opinion"] == "không đồng ý"


def test_each_instance_of_a_parallel_worker_task_is_locked_and_answered_on_its_own(factory, operator):
    iid = started(factory, operator, consult(PARALLEL_OVER_REVIEWERS),
                  variables={"reviewers": ["so-xay-dung", "so-tai-nguyen"]})
    with db.transaction(factory) as s:
        locked = external_tasks.fetch_and_lock(s, "w", {"consult": 60_000}, 10)
    assert sorted(t.variables["reviewer"] for t in locked) == ["so-tai-nguyen", "so-xay-dung"]
    assert {t.activity_id for t in locked} == {"consult"}
    for task in locked:
        with db.transaction(factory) as s:
            external_tasks.complete(s, task.id, "w", {"reply_of_" + task.variables["reviewer"].replace("-", "_"): "ok"})
    found = detail(factory, iid)
    assert found["status"] == "completed"
    assert found["variables"]["reply_of_so_xay_dung"] == "ok" and found["variables"]["reply_of_so_tai_nguyen"] == "ok"


@pytest.mark.parametrize("loop", [PARALLEL_OVER_REVIEWERS, SEQUENTIAL_TWICE])
def test_an_instance_answer_does_not_undo_what_an_earlier_instance_answered(factory, operator, loop):
    iid = started(factory, operator, review(loop), variables={"reviewers": ["an", "binh"], "status": "mới"})
    first = open_tasks(factory, iid)[0]
    with db.transaction(factory) as s:
        user_tasks.complete(s, first["id"], operator, {"status": "đã xem"})
    second = open_tasks(factory, iid)[0]
    with db.transaction(factory) as s:  # this officer leaves the status alone
        user_tasks.complete(s, second["id"], operator, {"opinion": "đồng ý"})
    found = detail(factory, iid)
    assert found["variables"]["status"] == "đã xem" and found["variables"]["opinion"] == "đồng ý"


def test_a_collection_written_as_camundas_expression_for_a_variable_is_that_variable(factory, operator):
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${ reviewers }" camunda:elementVariable="r"/>'
    iid = started(factory, operator, review(loop), variables={"reviewers": ["an", "binh"]})
    assert len(open_tasks(factory, iid)) == 2


@pytest.mark.parametrize("attributes, words", [
    ('camunda:collection="${reviewers.list}" camunda:elementVariable="r"',
     "the collection '${reviewers.list}' must name a list variable"),
    ('camunda:collection="reviewers"', "a collection needs an element variable (camunda:elementVariable)")])
def test_a_collection_the_engine_cannot_read_is_refused_at_deploy(factory, attributes, words):
    from engine.errors import DeploymentRefused
    from tests.bpmn_builder import end, linear, process, start
    from tests.conftest import deploy_files
    bpmn = process(linear(start(), review(f"<bpmn:multiInstanceLoopCharacteristics {attributes}/>"), end()))
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", bpmn)])
    assert "p.bpmn:" in str(refused.value) and "[review]" in str(refused.value) and words in str(refused.value)


@pytest.mark.parametrize("variables, words", [
    ({}, "the collection 'reviewers' of 'Cho ý kiến' (review) is not among the instance's variables"),
    ({"reviewers": "an, binh"}, "must be a list (or a dict), not str 'an, binh'"),
    ({"reviewers": list(range(501))}, "holds 501 items: at most 500 instances are allowed")])
@pytest.mark.parametrize("loop", [PARALLEL_OVER_REVIEWERS, PARALLEL_OVER_REVIEWERS.replace(
    "<bpmn:multiInstanceLoopCharacteristics", '<bpmn:multiInstanceLoopCharacteristics isSequential="true"')])
def test_a_collection_missing_not_a_list_or_too_long_is_an_incident_on_the_activity(factory, operator, variables,
                                                                                    words, loop):
    iid = started(factory, operator, review(loop), variables=variables)
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "review" and words in incident["incidentMessage"]
    assert found["status"] == "active" and found["userTasks"] == []


def test_a_script_over_a_collection_longer_than_the_bound_is_one_incident(factory, operator):
    loop = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
            '<bpmn:inputDataItem id="item" name="item"/></bpmn:multiInstanceLoopCharacteristics>')
    each = ("each", f'<bpmn:scriptTask id="each" scriptFormat="python">{loop}<bpmn:script>x = item</bpmn:script>'
                    '</bpmn:scriptTask>')
    iid = started(factory, operator, each, variables={"items": list(range(2_000))})
    (incident,) = detail(factory, iid)["incidents"]  # not fifty "step 1,501" incidents, as before
    assert incident["activityId"] == "each" and "holds 2,000 items: at most 500" in incident["incidentMessage"]
    done = started(factory, operator, each, variables={"items": list(range(3))})
    assert detail(factory, done)["status"] == "completed"


def until(condition: str, sequential: bool = False) -> str:
    kind = ' isSequential="true"' if sequential else ""
    return (f'<bpmn:multiInstanceLoopCharacteristics{kind} '
            'camunda:collection="reviewers" camunda:elementVariable="reviewer"><bpmn:completionCondition '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:completionCondition>'
            '</bpmn:multiInstanceLoopCharacteristics>')


@pytest.mark.parametrize("sequential", [False, True])
def test_a_completion_condition_counts_the_instances_as_camunda_does_and_the_rest_leave_the_inbox(
        factory, operator, sequential):
    iid = started(factory, operator, review(until("nrOfCompletedInstances >= 2 and nrOfInstances == 3", sequential)),
                  variables={"reviewers": ["an", "binh", "chi"]})
    for number in range(2):
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"opinion": f"ý kiến {number}"})
        assert detail(factory, iid)["incidents"] == []  # 'nrOfCompletedInstances' was not defined, on every answer
    found = detail(factory, iid)
    assert found["status"] == "completed" and open_tasks(factory, iid) == []
    assert found["variables"]["opinion"] == "ý kiến 1"


def test_an_answer_is_kept_when_the_completion_condition_fails(factory, operator):
    iid = started(factory, operator, review(until("so_phieu >= 2")), variables={"reviewers": ["an", "binh"]})
    with db.transaction(factory) as s:
        user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"opinion": "đồng ý"})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert "so_phieu" in incident["incidentMessage"] and found["variables"]["opinion"] == "đồng ý"


@pytest.mark.parametrize("sequential", [False, True])
def test_a_failing_completion_condition_is_an_incident_on_the_activity_and_its_retry_keeps_every_answer(
        factory, operator, sequential):
    from engine import incidents
    iid = started(factory, operator, review(until("nrOfCompletedInstances &gt;= so_phieu", sequential)),
                  variables={"reviewers": ["an", "binh", "chi"]})
    with db.transaction(factory) as s:
        user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"y_kien_1": "đồng ý"})
    found = detail(factory, iid)
    (incident,) = found["incidents"]
    assert incident["activityId"] == "review" and "the completion condition" in incident["incidentMessage"]
    assert "so_phieu" in incident["incidentMessage"]
    assert len(found["userTasks"]) == (1 if sequential else 2)  # the other reviewers go on
    with db.transaction(factory) as s:  # the operator gives the missing variable: nothing is reset or reopened
        incidents.retry(s, incident["id"], operator, {"so_phieu": 2})
    found = detail(factory, iid)
    assert len(found["userTasks"]) == (1 if sequential else 2)
    assert [i["resolvedAt"] is not None for i in found["incidents"]] == [True]
    with db.transaction(factory) as s:
        user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"y_kien_2": "đồng ý"})
    found = detail(factory, iid)  # two of three answered: the activity ends, the third reviewer's task leaves
    assert found["status"] == "completed" and found["userTasks"] == [] and found["incidents"][0]["resolvedAt"]
    assert found["variables"]["y_kien_1"] == found["variables"]["y_kien_2"] == "đồng ý"


def test_a_condition_incident_left_open_until_every_instance_answered_closes_with_the_instance(factory, operator):
    iid = started(factory, operator, review(until("so_phieu &gt;= 9")), variables={"reviewers": ["an", "binh"]})
    for _ in range(2):
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"ok": True})
    found = detail(factory, iid)
    # the condition failed at the first answer; at the last one every instance had answered and it was not needed;
    # the instance ended, and its incident, which nothing can retry any more, closed with it (as in Camunda)
    assert found["status"] == "completed" and len(found["incidents"]) == 1 and found["incidents"][0]["resolvedAt"]
    with db.transaction(factory) as s:
        from engine.models import ProcessInstance
        assert s.get(ProcessInstance, iid).open_incidents == 0


def test_a_terminated_instance_does_not_show_an_instances_element_variable_as_the_processs(factory, operator):
    from engine import instances
    iid = started(factory, operator, review(PARALLEL_OVER_REVIEWERS), variables={"reviewers": ["an", "binh"]})
    with db.transaction(factory) as s:
        user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"opinion": "đồng ý"})
    with db.transaction(factory) as s:
        instances.terminate(s, iid, operator, "rút hồ sơ")
    found = detail(factory, iid)
    assert found["status"] == "terminated" and "reviewer" not in found["variables"]


@pytest.mark.parametrize("loop", [PARALLEL_OVER_REVIEWERS, SEQUENTIAL_TWICE, PARALLEL_OVER_REVIEWERS.replace(
    "<bpmn:multiInstanceLoopCharacteristics", '<bpmn:multiInstanceLoopCharacteristics isSequential="true"')])
def test_instances_opened_before_a_restart_complete_the_activity_after_it(factory, operator, loop):
    from engine.specs import SPECS
    from engine.workflow_cache import WORKFLOWS
    iid = started(factory, operator, review(loop), variables={"reviewers": ["an", "binh"]})
    for number in range(2):
        SPECS.clear()  # another web process, or this one restarted: the definition is parsed again
        WORKFLOWS.clear()
        with db.transaction(factory) as s:
            user_tasks.complete(s, open_tasks(factory, iid)[0]["id"], operator, {"opinion": f"ý kiến {number}"})
        assert "reviewer" not in detail(factory, iid)["variables"]
    # it waited for ever with no task and no incident, or a sequential one ended after the next instance, and
    # each answer was added to the collection
    found = detail(factory, iid)
    assert found["status"] == "completed" and found["variables"]["opinion"] == "ý kiến 1"
    assert found["variables"]["reviewers"] == ["an", "binh"] and "reviewer" not in found["variables"]


@pytest.mark.parametrize("sequential", ["false", "true"])
def test_what_the_steps_inside_a_multi_instance_subprocess_answer_reaches_the_process(factory, operator, sequential):
    from tests.bpmn_builder import flow
    loop = PARALLEL_OVER_REVIEWERS.replace("<bpmn:multiInstanceLoopCharacteristics",
                                           f'<bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}"')
    each = ("sp", f'<bpmn:subProcess id="sp">{loop}<bpmn:startEvent id="ss"/><bpmn:userTask id="inner" '
                  'camunda:candidateGroups="staff"/><bpmn:endEvent id="se"/>' + flow("g1", "ss", "inner")
                  + flow("g2", "inner", "se") + '</bpmn:subProcess>')
    iid = started(factory, operator, each, variables={"reviewers": ["an", "binh"], "status": "mới"})
    assert "reviewer" not in detail(factory, iid)["variables"]  # one instance's item, not the process's
    for number in range(2):
        task = open_tasks(factory, iid)[0]
        with db.transaction(factory) as s:
            user_tasks.complete(s, task["id"], operator, {f"answer_{number}": number} if number else {"status": "xong"})
    found = detail(factory, iid)
    assert found["status"] == "completed"
    assert found["variables"]["answer_1"] == 1 and found["variables"]["status"] == "xong"  # not undone by the second
    assert "reviewer" not in found["variables"] and found["variables"]["reviewers"] == ["an", "binh"]


def test_each_instance_sees_its_own_item_among_its_tasks_variables(factory, operator):
    iid = started(factory, operator, review(PARALLEL_OVER_REVIEWERS),
                  variables={"reviewers": [{"ten": "an", "so": "xay-dung"}, {"ten": "binh", "so": "tai-nguyen"}]})
    seen = []
    for task in open_tasks(factory, iid):
        with db.transaction(factory) as s:
            _, values = queries.task_form(s, task["id"])
            seen.append(values["reviewer"]["so"])
            assert values["reviewers"] == [{"ten": "an", "so": "xay-dung"}, {"ten": "binh", "so": "tai-nguyen"}]
    assert sorted(seen) == ["tai-nguyen", "xay-dung"]
    assert "reviewer" not in detail(factory, iid)["variables"]


def test_a_multi_instance_call_activity_gives_each_called_process_its_item_and_keeps_what_each_answers(factory,
                                                                                                      operator):
    from engine import instances
    from tests.bpmn_builder import HEADER, flow
    from tests.conftest import deploy_files
    diagram = (HEADER + '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
               f'<bpmn:callActivity id="ca" calledElement="con">{PARALLEL_OVER_REVIEWERS}</bpmn:callActivity>'
               '<bpmn:endEvent id="e"/>' + flow("f1", "s", "ca") + flow("f2", "ca", "e") + '</bpmn:process>'
               '<bpmn:process id="con" isExecutable="true"><bpmn:startEvent id="cs"/><bpmn:userTask id="inner" '
               'camunda:assignee="${reviewer}"/><bpmn:endEvent id="ce"/>' + flow("g1", "cs", "inner")
               + flow("g2", "inner", "ce") + '</bpmn:process></bpmn:definitions>').encode()
    deploy_files(factory, [("p.bpmn", diagram)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"reviewers": ["an", "binh"]}).row.id
    tasks = {t["assignee"]: t for t in open_tasks(factory, iid)}
    assert set(tasks) == {"an", "binh"}
    for who, task in tasks.items():
        with db.transaction(factory) as s:
            assert queries.task_form(s, task["id"])[1]["reviewer"] == who
            user_tasks.complete(s, task["id"], operator, {f"answer_of_{who}": "đồng ý"})
    found = detail(factory, iid)
    assert found["status"] == "completed" and "reviewer" not in found["variables"]
    assert found["variables"]["answer_of_an"] == found["variables"]["answer_of_binh"] == "đồng ý"
