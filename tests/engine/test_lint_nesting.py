"""Embedded subprocesses drawn deeper than an instance may run them are refused at deploy."""
from __future__ import annotations

import pytest

from engine.errors import DeploymentRefused
from engine.loop_limits import MAX_SUBPROCESS_DEPTH
from tests.bpmn_builder import process
from tests.conftest import deploy_files


def _nested(depth: int, i: int = 0) -> str:
    """A start, a subprocess (with the same inside, ``depth`` levels) or a user task, and an end."""
    inner = (f'<bpmn:subProcess id="sp{i}">{_nested(depth - 1, i + 1)}</bpmn:subProcess>' if depth
             else f'<bpmn:userTask id="sp{i}" camunda:candidateGroups="staff"/>')
    return (f'<bpmn:startEvent id="s{i}"/>{inner}<bpmn:endEvent id="e{i}"/>'
            f'<bpmn:sequenceFlow id="a{i}" sourceRef="s{i}" targetRef="sp{i}"/>'
            f'<bpmn:sequenceFlow id="b{i}" sourceRef="sp{i}" targetRef="e{i}"/>')


def test_subprocesses_nested_up_to_the_limit_deploy(factory):
    result = deploy_files(factory, [("p.bpmn", process(_nested(MAX_SUBPROCESS_DEPTH)))])
    assert [d.created for d in result.definitions] == [True]


def test_one_subprocess_deeper_is_refused_at_the_outermost_one_too_deep(factory):
    with pytest.raises(DeploymentRefused) as err:
        deploy_files(factory, [("p.bpmn", process(_nested(MAX_SUBPROCESS_DEPTH + 5)))])
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.element_id == f"sp{MAX_SUBPROCESS_DEPTH}" and problem.line and "nested" in problem.message
