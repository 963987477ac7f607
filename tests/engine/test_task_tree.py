"""engine.task_tree: the tasks in a state, read from the workflows' task tables, are the ones SpiffWorkflow's
tree walk finds, in subprocesses too and at every step of a run."""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine import dialect
from engine.task_tree import tasks_in_state
from tests.bpmn_builder import flow, process

# a parallel split whose one branch runs an embedded subprocess (with its own parallel branches and a user task)
# and whose other branch waits on a user task with a boundary timer; then a join and a last user task
BODY = "".join([
    '<bpmn:startEvent id="s"/>', '<bpmn:parallelGateway id="split"/>',
    '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:parallelGateway id="ssplit"/>',
    '<bpmn:userTask id="inner_a"/><bpmn:scriptTask id="inner_b" scriptFormat="python"><bpmn:script>b = 1</bpmn:script>'
    '</bpmn:scriptTask><bpmn:parallelGateway id="sjoin"/><bpmn:endEvent id="se"/>',
    flow("g1", "ss", "ssplit"), flow("g2", "ssplit", "inner_a"), flow("g3", "ssplit", "inner_b"),
    flow("g4", "inner_a", "sjoin"), flow("g5", "inner_b", "sjoin"), flow("g6", "sjoin", "se"), '</bpmn:subProcess>',
    '<bpmn:userTask id="outer"/>',
    '<bpmn:boundaryEvent id="late" attachedToRef="outer" cancelActivity="false"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '<bpmn:endEvent id="late_end"/>', '<bpmn:parallelGateway id="join"/>', '<bpmn:userTask id="last"/>',
    '<bpmn:endEvent id="e"/>',
    flow("f1", "s", "split"), flow("f2", "split", "sub"), flow("f3", "split", "outer"), flow("f4", "sub", "join"),
    flow("f5", "outer", "join"), flow("f6", "late", "late_end"), flow("f7", "join", "last"), flow("f8", "last", "e"),
])

MASKS = [TaskState.READY, TaskState.WAITING | TaskState.READY | TaskState.STARTED, TaskState.FINISHED_MASK,
         TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR, TaskState.PREDICTED_MASK,
         TaskState.NOT_FINISHED_MASK, TaskState.ANY_MASK]


def workflow() -> BpmnWorkflow:
    parser = CamundaParser()
    root = dialect.parse_xml(process(BODY))
    parser.add_bpmn_xml(root, filename="p.bpmn")
    return BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"))


def assert_same_as_the_walk(wf: BpmnWorkflow, since: float) -> None:
    for mask in MASKS:
        walked = wf.get_tasks(state=mask)
        assert sorted(t.id for t in tasks_in_state(wf, mask)) == sorted(t.id for t in walked), TaskState.get_name(mask)
        recent = [t.id for t in wf.get_tasks(state=mask, updated_ts=since)]
        assert sorted(t.id for t in tasks_in_state(wf, mask, since)) == sorted(recent)


def test_the_tasks_in_a_state_are_those_the_tree_walk_finds_at_every_step_subprocesses_included():
    wf = workflow()
    since = 0.0
    wf.do_engine_steps()
    seen_inside = False
    for _ in range(10):
        assert_same_as_the_walk(wf, since)
        ready = wf.get_tasks(state=TaskState.READY)
        if not ready:
            break
        seen_inside |= any(t.workflow is not wf for t in ready)
        since = ready[0].last_state_change
        ready[0].run()
        wf.do_engine_steps()
    assert wf.is_completed() and seen_inside  # the run went through the subprocess's user task
    assert_same_as_the_walk(wf, since)
    assert {t.task_spec.name for t in tasks_in_state(wf, TaskState.COMPLETED)} >= {"inner_a", "inner_b", "outer", "last"}
