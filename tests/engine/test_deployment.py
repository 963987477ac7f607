"""Deploy checks speak in the analyst's terms (file, element, line), and versions follow content."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import db, deployment, instances, queries, user_tasks
from engine.errors import BadInput, DeploymentRefused
from tests.bpmn_builder import HEADER, end, external, flow, linear, process, start, user_task
from tests.conftest import PROCESSES, deploy_files


def refused(factory, files, forms_dir=None):
    with pytest.raises(DeploymentRefused) as err:
        if forms_dir is None:
            deploy_files(factory, files)
        else:
            deploy_files(factory, files, forms_dir)
    return [p for p in err.value.problems if p.severity == "error"]


def test_malformed_xml_names_the_line(factory):
    (problem,) = refused(factory, [("bad.bpmn", b"<?xml version='1.0'?>\n<bpmn:definitions>\n<oops>\n")])
    assert problem.file == "bad.bpmn" and problem.line and "not well-formed" in problem.message


def test_a_doctype_is_refused_and_no_entity_is_read(factory):
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
           + HEADER.split("\n", 1)[1].encode() + b'<bpmn:process id="p" isExecutable="true">'
           b'<bpmn:startEvent id="s" name="&xxe;"/></bpmn:process></bpmn:definitions>')
    (problem,) = refused(factory, [("xxe.bpmn", xxe)])
    assert "DOCTYPE" in problem.message and problem.line == 2


def _with_doctype(prolog: str, encoding: str) -> bytes:
    body = process(linear(start(), user_task("t"), end())).decode().split("?>", 1)[1]
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n{prolog}'
            '<!DOCTYPE d [<!ENTITY e "entity text">]>\n' + body).encode(encoding)


@pytest.mark.parametrize("xml, line", [
    (_with_doctype("<!-- " + "x" * 5000 + " -->\n", "UTF-8"), 3),  # past the first 4 KB
    (_with_doctype("", "UTF-16"), 2),  # Windows tools save UTF-16: no b"<!DOCTYPE" in its bytes
    (_with_doctype("", "UTF-16-BE"), 2),
])
def test_a_doctype_anywhere_in_any_encoding_is_refused(factory, xml, line):
    (problem,) = refused(factory, [("d.bpmn", xml)])
    assert "DOCTYPE" in problem.message and problem.line == line


def test_a_utf16_file_without_a_doctype_deploys(factory):
    body = process(linear(start(), user_task("t"), end())).decode().split("?>", 1)[1]
    result = deploy_files(factory, [("p.bpmn", ('<?xml version="1.0" encoding="UTF-16"?>' + body).encode("utf-16"))])
    assert [d.created for d in result.definitions] == [True]


def test_no_executable_process(factory):
    (problem,) = refused(factory, [("p.bpmn", process(linear(start(), end()), executable=False))])
    assert "no executable process" in problem.message and "Executable" in problem.message


PROPS = '<bpmn:extensionElements><camunda:properties><camunda:property name="{}" value="{}"/></camunda:properties></bpmn:extensionElements>'
IO = '<bpmn:extensionElements><camunda:inputOutput>{}</camunda:inputOutput></bpmn:extensionElements>'


@pytest.mark.parametrize("xml, words", [
    (f'<bpmn:task id="el">{PROPS.format("dossier_status", "11")}</bpmn:task>', "from 1 (Mới đăng ký) to 10"),
    (f'<bpmn:task id="el">{PROPS.format("dossier_status", "done")}</bpmn:task>', "'done' is not a dossier status"),
    (f'<bpmn:task id="el">{PROPS.format("dossier_clock", "stop")}</bpmn:task>', "use 'pause'"),
    ('<bpmn:serviceTask id="el" camunda:type="external" camunda:topic="notify">'
     + IO.format('<camunda:inputParameter name="notify_template">${tpl}</camunda:inputParameter>')
     + '</bpmn:serviceTask>', "must be plain text"),
    ('<bpmn:serviceTask id="el" camunda:type="external" camunda:topic="notify">'
     + IO.format('<camunda:outputParameter name="x">y</camunda:outputParameter>') + '</bpmn:serviceTask>',
     "output parameters are not run"),
    ('<bpmn:serviceTask id="el" camunda:type="external" camunda:topic="notify" '
     'camunda:taskPriority="99999999999999999999"/>', "between -9,223,372,036,854,775,807 and"),
    ('<bpmn:userTask id="el" camunda:assignee="user-${initiator}"/>', "would be taken as a name"),
    ('<bpmn:userTask id="el" camunda:candidateGroups="mot-cua,#{group}"/>', "would be taken as a name"),
    # Camunda extensions that would deploy and silently do nothing
    ('<bpmn:userTask id="el" camunda:candidateGroups="a"><bpmn:extensionElements><camunda:executionListener '
     'class="vn.Notify" event="start"/></bpmn:extensionElements></bpmn:userTask>', "execution listeners are not run"),
    ('<bpmn:userTask id="el" camunda:candidateGroups="a"><bpmn:extensionElements><camunda:taskListener '
     'expression="${x}" event="create"/></bpmn:extensionElements></bpmn:userTask>', "task listeners are not run"),
    ('<bpmn:userTask id="el" camunda:candidateGroups="a"><bpmn:extensionElements><camunda:formData><camunda:formField '
     'id="ok" type="boolean"/></camunda:formData></bpmn:extensionElements></bpmn:userTask>', "give the task a form key"),
    ('<bpmn:userTask id="el" camunda:candidateGroups="a">'
     + IO.format('<camunda:inputParameter name="k">v</camunda:inputParameter>') + '</bpmn:userTask>',
     "read only on service tasks (given to the worker), not on a userTask"),
    ('<bpmn:scriptTask id="el" scriptFormat="python" camunda:resultVariable="total"><bpmn:script>1 + 1</bpmn:script>'
     '</bpmn:scriptTask>', "assign the variable in the script itself (total = ...)"),
    ('<bpmn:intermediateThrowEvent id="el"><bpmn:messageEventDefinition camunda:type="external" camunda:topic="send"/>'
     '</bpmn:intermediateThrowEvent>', "motcua does not deliver a message a process throws"),
])
def test_extension_values_motcua_cannot_use_are_refused(factory, xml, words):
    body = "\n".join([start()[1], xml, end()[1], flow("f1", "start", "el"), flow("f2", "el", "end")])
    problems = refused(factory, [("p.bpmn", process(body))])
    assert problems[0].element_id == "el" and words in problems[0].message, problems


def test_input_parameters_reach_the_worker_as_variables_of_that_task_only(factory, operator):
    io = IO.format('<camunda:inputParameter name="notify_template">received</camunda:inputParameter>')
    body = linear(start(), external("a", "notify", io), external("b", "notify"), end())
    deploy_files(factory, [("p.bpmn", process(body))])
    from engine import external_tasks
    with db.transaction(factory) as session:
        instances.start(session, operator, "p", {"x": 1})
        (first,) = external_tasks.fetch_and_lock(session, "w", {"notify": 1000})
        assert first.variables == {"x": 1, "notify_template": "received"}
        external_tasks.complete(session, first.id, "w", {"y": 2})
        (second,) = external_tasks.fetch_and_lock(session, "w", {"notify": 1000})
        assert second.activity_id == "b" and second.variables == {"x": 1, "y": 2}


@pytest.mark.parametrize("xml, element, words", [
    ('<bpmn:complexGateway id="cg"/>', "cg", "complex gateways"),
    ('<bpmn:receiveTask id="rt"/>', "rt", "receive tasks"),
    ('<bpmn:serviceTask id="svc"/>', "svc", "Implementation 'External' and a topic"),
    ('<bpmn:serviceTask id="svc" camunda:type="external"/>', "svc", "topic"),
    ('<bpmn:serviceTask id="svc" camunda:class="org.Foo"/>', "svc", "Java implementation"),
    ('<bpmn:userTask id="ut" camunda:candidateGroups="g" camunda:formKey="no-such-form"/>', "ut",
     "forms/no-such-form.json"),
    ('<bpmn:userTask id="ut" camunda:candidateGroups="g" camunda:formKey="embedded:app:forms/x.html"/>', "ut",
     "not a motcua form"),
    ('<bpmn:businessRuleTask id="br" camunda:decisionRef="fee"/>', "br", "DMN"),
    ('<bpmn:scriptTask id="sc" scriptFormat="javascript"><bpmn:script>1</bpmn:script></bpmn:scriptTask>', "sc",
     "Python"),
    ('<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition><bpmn:timeDuration>'
     '__import__("os")</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>', "tm",
     "refused"),
])
def test_elements_the_engine_cannot_run(factory, xml, element, words):
    element_id = element
    body = "\n".join([start()[1], xml, end()[1], flow("f1", "start", element_id), flow("f2", element_id, "end")])
    problems = refused(factory, [("p.bpmn", process(body))])
    assert problems[0].element_id == element_id, problems
    assert words in problems[0].message and problems[0].line == 5


def test_a_start_form_that_does_not_exist(factory):
    xml = process(linear(("s0", '<bpmn:startEvent id="s0" camunda:formKey="no-such-start-form"/>'), end()))
    (problem,) = refused(factory, [("p.bpmn", xml)])
    assert problem.element_id == "s0" and "forms/no-such-start-form.json" in problem.message


def test_a_juel_condition_gets_a_hint(factory):
    body = "\n".join([start()[1], '<bpmn:exclusiveGateway id="gw" default="f_b"/>', end("a")[1], end("b")[1],
                      flow("f0", "start", "gw"), flow("f_a", "gw", "a", "${amount &gt; 100}"), flow("f_b", "gw", "b")])
    (problem,) = refused(factory, [("p.bpmn", process(body))])
    assert problem.element_id == "f_a" and "JUEL" in problem.message
    assert problem.message.endswith("as amount > 100")


def test_spiff_validation_errors_are_translated(factory):
    body = "\n".join([start()[1], '<bpmn:exclusiveGateway id="gw"/>', end("a")[1], end("b")[1],
                      flow("f0", "start", "gw"), flow("f_a", "gw", "a"), flow("f_b", "gw", "b")])
    problems = refused(factory, [("p.bpmn", process(body))])
    assert problems[0].file == "p.bpmn" and "cannot run" in problems[0].message


def test_a_task_nobody_can_see_is_a_warning(factory):
    result = deploy_files(factory, [("p.bpmn", process(linear(start(), ("t", '<bpmn:userTask id="t"/>'), end())))])
    assert result.deployment_id and result.warnings[0].element_id == "t"


def test_identical_content_is_the_same_version_changed_content_the_next(factory, operator, tmp_path):
    v1 = process(linear(start(), user_task("review"), end()))
    first = deploy_files(factory, [("p.bpmn", v1)])
    again = deploy_files(factory, [("p.bpmn", v1)])
    assert [(d.id, d.created) for d in first.definitions] == [("p:1", True)]
    assert [(d.id, d.created) for d in again.definitions] == [("p:1", False)] and again.deployment_id is None
    with db.transaction(factory) as s:
        old = instances.start(s, operator, "p").row.id
    v2 = process(linear(start(), user_task("review"), user_task("approve"), end()))
    second = deploy_files(factory, [("p.bpmn", v2)])
    assert [(d.id, d.created) for d in second.definitions] == [("p:2", True)]
    with db.transaction(factory) as s:
        new = instances.start(s, operator, "p").row.id
        for iid in (old, new):
            task = queries.user_tasks(s, instance_id=iid)[0]
            user_tasks.complete(s, task["id"], operator, {})
        assert queries.instance_detail(s, old)["status"] == "completed"  # the old instance kept version 1
        assert queries.instance_detail(s, new)["definitionId"] == "p:2"
        assert queries.user_tasks(s, instance_id=new)[0]["taskDefinitionKey"] == "approve"


def test_forms_are_part_of_the_snapshot(factory, operator, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "f.json").write_text('{"type": "object", "required": ["a"]}')
    xml = process(linear(start(), user_task("t", extra='camunda:formKey="f"'), end()))
    assert deploy_files(factory, [("p.bpmn", xml)], forms).definitions[0].created
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p").row.id
    (forms / "f.json").write_text('{"type": "object", "required": ["b"]}')  # edited after deployment
    assert deploy_files(factory, [("p.bpmn", xml)], forms).definitions[0].id == "p:2"
    with db.transaction(factory) as s:
        task = queries.user_tasks(s, instance_id=iid)[0]
        user_tasks.complete(s, task["id"], operator, {"a": 1})  # v1 still asks for "a"
    (forms / "f.json").write_text('{"type": "object", "required": ')
    problems = refused(factory, [("p.bpmn", xml)], forms)
    assert problems[0].file == "forms/f.json" and "not valid JSON" in problems[0].message


@pytest.mark.parametrize("element_id", ["Start", "End", "Root", "p.EndJoin", "review.BoundaryEventSplit",
                                        "review.BoundaryEventJoin"])
def test_any_element_id_works(factory, operator, element_id):
    """Ids SpiffWorkflow uses for its own task specs are renamed inside the engine, never shown."""
    body = linear(("s0", '<bpmn:startEvent id="s0"/>'), user_task(element_id), user_task("review"),
                  external("work"), end("e0"))
    deploy_files(factory, [("p.bpmn", process(body))])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p").row.id
        task = queries.user_tasks(s, instance_id=iid)[0]
        assert task["taskDefinitionKey"] == element_id
        user_tasks.complete(s, task["id"], operator, {})
    with db.transaction(factory) as s:
        history = queries.instance_detail(s, iid)["history"]
        assert ("activity_completed", element_id) in [(h["kind"], h["activityId"]) for h in history]
        assert queries.user_tasks(s, instance_id=iid)[0]["taskDefinitionKey"] == "review"


def test_collect_files_reads_procedure_folders():
    files = dict(deployment.collect_files([PROCESSES / "sample-residence"]))
    assert "sample-residence/process.bpmn" in files and "sample-residence/procedure.toml" in files
    with pytest.raises(BadInput):
        deployment.collect_files([Path("/no/such/folder")])


def test_collect_files_skips_a_folder_named_like_a_diagram(tmp_path):
    (tmp_path / "proc" / "old.bpmn").mkdir(parents=True)  # a folder: its files are collected, it is not read
    (tmp_path / "proc" / "old.bpmn" / "p.bpmn").write_bytes(process(linear(start(), end())))
    assert [name for name, _ in deployment.collect_files([tmp_path / "proc"])] == ["proc/old.bpmn/p.bpmn"]


def test_collect_files_names_a_diagram_it_cannot_read(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "p.bpmn").write_bytes(process(linear(start(), end())))
    (tmp_path / "proc" / "gone.bpmn").symlink_to(tmp_path / "nowhere.bpmn")  # a link left after a move
    with pytest.raises(BadInput, match="gone.bpmn: cannot be read"):
        deployment.collect_files([tmp_path / "proc"])


@pytest.mark.parametrize("dmn, words", [
    (b"<definitions/>", "not a DMN file"),
    (b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x"/>',
     "no decision"),
    (b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">'
     b'<decision id="fee" name="Fee"/></definitions>', "cannot be evaluated"),
])
def test_a_dmn_file_that_cannot_be_used_is_a_problem_not_a_crash(factory, dmn, words):
    problems = refused(factory, [("process.bpmn", process(linear(start(), user_task("T"), end()))), ("fee.dmn", dmn)])
    assert [p.file for p in problems] == ["fee.dmn"]
    assert words in problems[0].message
    with factory() as session:
        assert queries.definitions(session) == []


def test_a_new_version_without_the_catalogue_entry_of_the_last_is_refused(factory, operator):
    bpmn = process(linear(start(), user_task("T"), end()), process_id="proc")
    entry = b'code = "T.9"\nname = "Th\xe1\xbb\xad"\nprocess_key = "proc"\nlevel = "toan-trinh"\n' \
            b'deadline = { unit = "working_days", online = 2 }\n'
    deploy_files(factory, [("proc.bpmn", bpmn), ("procedure.toml", entry)])
    problems = refused(factory, [("proc.bpmn", bpmn.replace(b'name="Task T"', b'name="Task T2"'))])
    assert [p.file for p in problems] == ["proc.bpmn"]
    assert "procedure.toml" in problems[0].message and "version 1 of 'proc'" in problems[0].message
    with factory() as session:
        assert [d["version"] for d in queries.definitions(session, "proc")] == [1]
    again = deploy_files(factory, [("proc.bpmn", bpmn.replace(b'name="Task T"', b'name="Task T2"')),
                                   ("procedure.toml", entry)])
    assert [d.version for d in again.definitions] == [2]


def test_a_process_without_a_catalogue_entry_deploys_new_versions_alone(factory):
    bpmn = process(linear(start(), user_task("T"), end()), process_id="plain")
    deploy_files(factory, [("plain.bpmn", bpmn)])
    again = deploy_files(factory, [("plain.bpmn", bpmn.replace(b'name="Task T"', b'name="Task T2"'))])
    assert [d.version for d in again.definitions] == [2]


@pytest.mark.parametrize("tag, text", [("outputEntry", "__import__('os').system('id')"),
                                       ("inputEntry", "().__class__.__bases__"),
                                       ("inputExpression", "10 ** 10 ** 10 if True else open('x')")])
def test_an_expression_in_a_dmn_table_that_the_sandbox_refuses_is_refused_at_deploy(factory, tag, text):
    entries = {"inputExpression": "so_ban_sao", "inputEntry": "&lt;= 0", "outputEntry": "0"}
    entries[tag] = text.replace("<", "&lt;")
    dmn = ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">'
           '<decision id="fee" name="Fee"><decisionTable id="t">'
           f'<input id="i"><inputExpression id="ie"><text>{entries["inputExpression"]}</text></inputExpression></input>'
           '<output id="o" name="fee"/>'
           f'<rule id="r"><inputEntry id="en"><text>{entries["inputEntry"]}</text></inputEntry>'
           f'<outputEntry id="out"><text>{entries["outputEntry"]}</text></outputEntry></rule>'
           '</decisionTable></decision></definitions>').encode()
    problems = refused(factory, [("process.bpmn", process(linear(start(), user_task("T"), end()))), ("fee.dmn", dmn)])
    assert [(p.file, p.element_id) for p in problems] == [("fee.dmn", {"outputEntry": "out", "inputEntry": "en",
                                                                        "inputExpression": "ie"}[tag])]
    assert "is refused" in problems[0].message


@pytest.mark.parametrize("element, words", [
    ('<bpmn:intermediateThrowEvent id="el"><bpmn:signalEventDefinition id="sd" signalRef="nosuch"/>'
     '</bpmn:intermediateThrowEvent>', "the signal 'nosuch' is not defined"),
    ('<bpmn:intermediateCatchEvent id="el"><bpmn:messageEventDefinition id="md" messageRef="Message_x"/>'
     '</bpmn:intermediateCatchEvent>', "the message 'Message_x' is not defined"),
    ('<bpmn:callActivity id="el" calledElement="missing_process"/>', "calls 'missing_process'"),
])
def test_a_reference_to_something_not_deployed_names_the_element(factory, element, words):
    problems = refused(factory, [("process.bpmn", process(linear(start(), ("el", element), end())))])
    assert [(p.element_id, words in p.message) for p in problems] == [("el", True)]


def test_two_files_with_the_same_process_id_name_the_second_file_and_the_first(factory):
    first = process(linear(start(), user_task("t"), end()), process_id="same")
    second = process(linear(start(), user_task("u"), end()), process_id="same")
    (problem,) = refused(factory, [("a.bpmn", first), ("b.bpmn", second)])
    assert problem.file == "b.bpmn" and problem.element_id == "same" and problem.line
    assert "a.bpmn" in problem.message


def test_two_files_with_the_same_name_are_refused_not_one_dropped(factory):
    first = process(linear(start(), user_task("t"), end()), process_id="from_a")
    second = process(linear(start(), user_task("t"), end()), process_id="from_b")
    (problem,) = refused(factory, [("p.bpmn", first), ("p.bpmn", second)])
    assert problem.file == "p.bpmn" and "same name" in problem.message
    with db.transaction(factory) as s:
        assert queries.definitions(s, None) == []


@pytest.mark.parametrize("extra, words", [
    ("<a:x xmlns:a='urn:a'>" * 300 + "</a:x>" * 300, "nests elements more than 256 deep"),
    ("<!--" + "x" * 10_000_001 + "-->", "a text or comment over 10 MB"),
])
def test_the_parser_s_safety_limits_are_said_without_its_option_names(factory, extra, words):
    (problem,) = refused(factory, [("big.bpmn", process(linear(start(), user_task("t"), end()), extra=extra))])
    assert words in problem.message and "XML_PARSE_HUGE" not in problem.message and problem.line == 3


def test_a_dmn_file_with_a_doctype_is_refused_in_words_that_fit_it(factory):
    dmn = (b'<?xml version="1.0"?>\n<!DOCTYPE d>\n'
           b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x"/>')
    (problem,) = refused(factory, [("fee.dmn", dmn), ("p.bpmn", process(linear(start(), user_task("t"), end())))])
    assert problem.file == "fee.dmn" and problem.line == 2 and "BPMN and DMN files never need one" in problem.message
