"""What Camunda Modeler draws beside the flow: data objects and data stores are for the reader, as in Camunda 7 (a
task connected to one keeps its variables and runs), and a call activity's camunda:in/out mapping of single
variables, which motcua does not run, is refused at deploy instead of being silently ignored."""
from __future__ import annotations

import pytest

from engine import db, instances
from engine.errors import DeploymentRefused
from tests.bpmn_builder import flow, process
from tests.conftest import deploy_files
from tests.engine.test_loop_limits import start_p
from tests.engine.test_runtime_errors import complete_the_form, detail

DATA = ('<bpmn:dataObjectReference id="DataObjectReference_0x" name="Tờ khai" dataObjectRef="DataObject_1abc"/>'
        '<bpmn:dataObject id="DataObject_1abc"/><bpmn:dataStoreReference id="DataStoreReference_1" name="Sổ" '
        'dataStoreRef="DataStore_1"/><bpmn:startEvent id="s"/>'
        '<bpmn:userTask id="r" camunda:candidateGroups="staff"><bpmn:property id="Property_1" '
        'name="__targetRef_placeholder"/><bpmn:dataInputAssociation id="DataInputAssociation_1"><bpmn:sourceRef>'
        'DataStoreReference_1</bpmn:sourceRef><bpmn:targetRef>Property_1</bpmn:targetRef></bpmn:dataInputAssociation>'
        '<bpmn:dataOutputAssociation id="DataOutputAssociation_1"><bpmn:targetRef>DataObjectReference_0x'
        '</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:userTask><bpmn:userTask id="r2" '
        'camunda:candidateGroups="staff"/><bpmn:endEvent id="e"/>'
        + flow("f0", "s", "r") + flow("f1", "r", "r2") + flow("f2", "r2", "e"))


def test_a_task_drawn_with_data_objects_and_stores_runs_and_keeps_its_variables(factory, operator):
    # the output association had failed every completion ("'DataObject_1abc' not exist in the task") and a data
    # store was refused at deploy with a Python repr of an XML element
    iid = start_p(factory, operator, process(DATA, extra='<bpmn:dataStore id="DataStore_1" name="Sổ hộ tịch"/>'),
                  {"a": 1})
    complete_the_form(factory, operator, iid, {"ho_ten": "Nguyễn Văn A"})
    found = detail(factory, iid)
    assert found["incidents"] == [] and found["variables"] == {"a": 1, "ho_ten": "Nguyễn Văn A"}
    assert [t["taskDefinitionKey"] for t in found["userTasks"]] == ["r2"]


def _caller(mapping: str) -> bytes:
    return process(f'<bpmn:startEvent id="s"/><bpmn:callActivity id="ca" calledElement="con"><bpmn:extensionElements>'
                   f'{mapping}</bpmn:extensionElements></bpmn:callActivity><bpmn:endEvent id="e"/>'
                   + flow("f0", "s", "ca") + flow("f1", "ca", "e"))


CALLED = process('<bpmn:startEvent id="cs"/><bpmn:endEvent id="ce"/>' + flow("c0", "cs", "ce"), process_id="con")


@pytest.mark.parametrize("mapping", ['<camunda:in source="ma_ho_so" target="ma"/>',
                                     '<camunda:out sourceExpression="${x}" target="y"/>'])
def test_a_mapping_of_single_variables_is_refused_at_deploy(factory, mapping):
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", _caller(mapping)), ("con.bpmn", CALLED)])
    (problem,) = refused.value.problems
    assert problem.file == "p.bpmn" and problem.element_id == "ca" and problem.line
    assert "is not run by motcua" in problem.message and 'variables="all"' in problem.message


def test_all_variables_in_and_out_deploys_and_passes_them(factory, operator):
    deploy_files(factory, [("p.bpmn", _caller('<camunda:in variables="all"/><camunda:out variables="all"/>')),
                           ("con.bpmn", CALLED)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", {"a": 1}).row.id
    assert detail(factory, iid)["status"] == "completed"
