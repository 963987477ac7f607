"""Real Camunda 7 diagrams (camunda-bpm-examples, camunda-bpm-platform's test resources), reduced to what went wrong:
what Camunda runs one way and motcua would have run another, silently, is refused at deploy with what to draw
instead, in the analyst's words (file, element, line)."""
from __future__ import annotations

import pytest

from engine import db, queries, sandbox
from engine.errors import DeploymentRefused, ExpressionRefused
from tests.bpmn_builder import end, flow, linear, process, start, user_task
from tests.conftest import deploy_files
from tests.engine.test_decision_tables import deploy as deploy_table, table
from tests.engine.test_runtime_errors import started


def refused(factory, files):
    with pytest.raises(DeploymentRefused) as err:
        deploy_files(factory, files)
    return [p for p in err.value.problems if p.severity == "error"]


def test_a_sequence_flow_without_an_id_is_refused(factory):
    # ParallelGatewayTest.testUnbalancedForkJoin: flows written by hand, without ids; SpiffWorkflow took every one of
    # them for the same flow and the instance completed at once, having done nothing
    body = (start()[1] + user_task("a")[1] + end()[1] + flow("f1", "start", "a")
            + '\n<bpmn:sequenceFlow sourceRef="a" targetRef="end"/>')
    data = process(body)
    (problem,) = refused(factory, [("p.bpmn", data)])
    line = data[:data.index(b'<bpmn:sequenceFlow sourceRef')].count(b"\n") + 1
    assert problem.file == "p.bpmn" and problem.line == line
    assert "sequence flow from 'a' to 'end' has no id" in problem.message
    assert "Camunda Modeler" in problem.message


@pytest.mark.parametrize("cron", ["0/5 0/1 * 1/1 * ?", "0 0 8 * * ? *"])
def test_a_cron_timer_cycle_is_refused_with_the_iso_8601_to_write(factory, cron):
    # clients/java/order-handling and loan-granting: a timer start event with a Quartz cron cycle
    timer_start = ("start", f'<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>{cron}'
                            '</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>')
    (problem,) = refused(factory, [("p.bpmn", process(linear(timer_start, user_task("a"), end())))])
    assert problem.element_id == "start" and problem.line
    assert "cron" in problem.message and "R/PT5M" in problem.message and "Python" not in problem.message


@pytest.mark.parametrize("interrupting", ["true", "false"])
def test_an_event_subprocess_started_by_a_timer_is_refused(factory, interrupting):
    # StartTimerEventTest.testStartTimerEventSubProcessWithUserTask: SpiffWorkflow ran it as a branch started with the
    # process, so an interrupting one interrupted nothing and a non-interrupting one kept a finished process waiting
    event_subprocess = (
        '<bpmn:subProcess id="sp" triggeredByEvent="true">'
        f'<bpmn:startEvent id="sp_start" isInterrupting="{interrupting}"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>'
        '<bpmn:userTask id="sp_task" camunda:candidateGroups="staff"/><bpmn:endEvent id="sp_end"/>'
        '<bpmn:sequenceFlow id="sf1" sourceRef="sp_start" targetRef="sp_task"/>'
        '<bpmn:sequenceFlow id="sf2" sourceRef="sp_task" targetRef="sp_end"/></bpmn:subProcess>')
    (problem,) = refused(factory, [("p.bpmn", process(linear(start(), user_task("a"), end()) + event_subprocess))])
    assert problem.element_id == "sp_start" and problem.line
    assert "started by a timer" in problem.message and "boundary timer" in problem.message


@pytest.mark.parametrize("entry, words", [
    ("[250..1000]", "250 <= ? <= 1000"),  # examples/invoice: FEEL's range
    ("]250..1000[", "250 < ? < 1000"),
    ('"budget", "exceptional"', '? in ("budget", "exceptional")'),  # FEEL's "any of"
    ('not("Misc")', '? not in ("Misc",)'),
])
def test_feel_tests_in_a_decision_table_are_refused_with_the_python_to_write(factory, entry, words):
    # invoiceBusinessDecisions.dmn: a range failed every instance with Python's 'invalid syntax'; a list or a not(...)
    # compared the input with a tuple or a boolean and silently never matched
    with pytest.raises(DeploymentRefused) as err:
        deploy_table(factory, table("FIRST", [([entry.replace("<", "&lt;")], ['"a"'])]))
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.file == "d.dmn" and problem.element_id == "r0i0" and problem.line
    assert "FEEL" in problem.message and words in problem.message, problem.message


@pytest.mark.parametrize("definition, kind", [('<bpmn:messageEventDefinition messageRef="m"/>', "message"),
                                              ('<bpmn:signalEventDefinition signalRef="s"/>', "signal")])
def test_a_process_started_by_a_message_or_a_signal_is_refused(factory, definition, kind):
    # startevent/message-start: Camunda starts an instance when the message comes; motcua's POST /message found no
    # instance waiting, and an instance started otherwise waited at its start event with nothing to do
    message_start = ("start", f'<bpmn:startEvent id="start">{definition}</bpmn:startEvent>')
    declared = '<bpmn:message id="m" name="go"/><bpmn:signal id="s" name="go"/>'
    (problem,) = refused(factory, [("p.bpmn", process(linear(message_start, user_task("a"), end()), extra=declared))])
    assert problem.element_id == "start" and problem.line
    assert f"a process started by a {kind} is not run" in problem.message and "plain start event" in problem.message


def test_camundas_deferred_expression_form_is_read_as_its_immediate_one(factory, operator):
    with pytest.raises(ExpressionRefused) as refused:
        sandbox.check("#{approved}")
    assert "write it without '#{' and '}', as approved" in str(refused.value)
    review = ("r", '<bpmn:userTask id="r" camunda:assignee="#{reviewer}"/>')
    iid = started(factory, operator, review, variables={"reviewer": "an"})
    with db.transaction(factory) as s:
        (task,) = queries.user_tasks(s, instance_id=iid)
    assert task["assignee"] == "an"


def test_a_condition_refused_at_deploy_names_its_sequence_flow_not_the_expressions_own_id(factory):
    body = ('<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f3"/><bpmn:endEvent id="a"/>'
            '<bpmn:endEvent id="b"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="a"><bpmn:conditionExpression id="ce_56" '
            'xsi:type="bpmn:tFormalExpression">open("x")</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="b"/>')
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(body))])
    assert "[f2]" in str(refused.value) and "ce_56" not in str(refused.value)
