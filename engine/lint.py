"""Deploy-time checks: every reason a diagram cannot run, said with the file, element and line.

A process analyst reads these messages, so they say what is wrong in the modeler's terms and what to
do about it. Checks that need the whole diagram (the XSD, SpiffWorkflow's own parser) run last, after
the checks that can explain the usual mistakes better.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine import (assignment, dialect, dmn_checks, lint_camunda, lint_flows, lint_nesting, loop_limits,
                    multi_instance, sandbox, specs, timer_events)
from engine.errors import ExpressionRefused, Problem
from engine.lint_forms import check_form

B = f"{{{dialect.BPMN_NS}}}"
C = f"{{{dialect.CAMUNDA_NS}}}"

FLOW_NODES = {
    "startEvent", "endEvent", "userTask", "serviceTask", "sendTask", "scriptTask", "businessRuleTask",
    "task", "manualTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "subProcess", "callActivity",
    "transaction",
}
OTHER_ALLOWED = {
    "process", "sequenceFlow", "laneSet", "lane", "flowNodeRef", "childLaneSet", "dataObject", "dataObjectReference",
    "dataStoreReference", "textAnnotation", "association", "extensionElements", "documentation", "incoming",
    "outgoing", "conditionExpression", "condition", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
    "loopCardinality", "completionCondition", "loopDataInputRef", "loopDataOutputRef", "inputDataItem",
    "outputDataItem", "loopCondition", "ioSpecification", "dataInput", "dataOutput", "inputSet", "outputSet",
    "dataInputRefs", "dataOutputRefs", "dataInputAssociation", "dataOutputAssociation", "sourceRef",
    "targetRef", "property", "script", "text", "timeDate", "timeDuration", "timeCycle", "group",
    "timerEventDefinition", "messageEventDefinition", "errorEventDefinition", "signalEventDefinition",
    "escalationEventDefinition", "terminateEventDefinition", "cancelEventDefinition",
}
REFUSED = {
    "complexGateway": "complex gateways are not run by motcua; use an inclusive gateway with conditions",
    "receiveTask": "receive tasks are not run by motcua; use an intermediate message catch event",
    "adHocSubProcess": "ad-hoc subprocesses are not run by motcua",
    "compensateEventDefinition": "compensation events are not run by motcua",
    "linkEventDefinition": "link events are not run by motcua; connect the flows directly",
    "conditionalEventDefinition": "conditional events are not run by motcua; use a gateway or a timer",
}
MAX_PRIORITY = 2**63 - 1  # external_task.priority is a 64-bit integer, as Camunda's long
FORM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DMN_DECISION_TAGS = tuple(f"{{{ns}}}decision" for ns in dialect.DMN_NAMESPACES)
_DMN_DEFINITIONS_TAGS = frozenset(f"{{{ns}}}definitions" for ns in dialect.DMN_NAMESPACES)


def local(el: etree._Element) -> str:
    """An element's tag without its namespace."""
    return etree.QName(el).localname


def check_bpmn(name: str, data: bytes, load_form: Callable[[str], bytes | None], decisions: set[str],
               extra_functions: set[str]) -> tuple[list[Problem], etree._Element | None]:
    """Every problem in one BPMN file, and its parsed tree (None if it is not XML)."""
    try:
        root = dialect.parse_xml(data)
    except dialect.XmlRefused as err:
        return [Problem(name, str(err), line=err.line)], None
    if root.tag != f"{B}definitions":
        return [Problem(name, "this is not a BPMN 2.0 file (its root element is not bpmn:definitions)",
                        line=root.sourceline)], None
    problems: list[Problem] = []
    processes = root.findall(f"{B}process")
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    if not executable:
        problems.append(Problem(name, "no executable process: in the modeler, select the process (or pool) "
                                      "and tick 'Executable'", line=root.sourceline))
    for process in executable:
        for el in process.iter():
            if not isinstance(el.tag, str):
                continue
            problems.extend(_check_element(name, el, load_form, decisions, extra_functions))
            problems.extend(_problem(name, at, message) for at, message in lint_camunda.problems(el))
        problems.extend(_problem(name, flow, message) for flow, message in lint_flows.problems(process))
        problems.extend(_problem(name, el, message) for el, message in lint_nesting.problems(process))
    problems.extend(_missing_references(name, root))
    return problems, root


_REFERENCES = {"signalEventDefinition": ("signalRef", "signal"), "messageEventDefinition": ("messageRef", "message"),
               "errorEventDefinition": ("errorRef", "error"), "escalationEventDefinition": ("escalationRef", "escalation")}


def _missing_references(name: str, root: etree._Element) -> list[Problem]:
    """Event definitions naming a signal, message, error or escalation the file does not define."""
    problems = []
    for tag, (attribute, kind) in _REFERENCES.items():
        defined = {el.get("id") for el in root.iter(f"{B}{kind}")}
        for el in root.iter(f"{B}{tag}"):
            ref = el.get(attribute)
            if ref and ref not in defined:
                event = el.getparent() if el.getparent() is not None else el  # the event the analyst sees
                problems.append(_problem(name, event, f"the {kind} '{ref}' is not defined in this file: choose one in "
                                                      f"the modeler's {kind} list (or create it)"))
    return problems


def missing_called_processes(roots: Mapping[str, etree._Element]) -> list[Problem]:
    """Call activities calling a process that none of the deployed files defines."""
    defined = {p.get("id") for root in roots.values() for p in root.iter(f"{B}process")}
    return [_problem(name, el, f"the call activity calls '{el.get('calledElement')}', which is not a process in the "
                               "files deployed with it; deploy its diagram in the same folder")
            for name, root in roots.items() for el in root.iter(f"{B}callActivity")
            if el.get("calledElement") and el.get("calledElement") not in defined]


def _problem(name: str, el: etree._Element, message: str, severity: str = "error") -> Problem:
    owner = el.getparent() if local(el) == "conditionExpression" else el  # its own id: the Modeler shows the flow's
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    return Problem(name, message, element_id=owner.get("id") if owner is not None else None,
                   line=el.sourceline, severity=severity)


def _check_element(name, el, load_form, decisions, extra_functions) -> list[Problem]:
    tag = local(el)
    problems: list[Problem] = []
    if el.tag.startswith(B):
        if tag in REFUSED:
            return [_problem(name, el, REFUSED[tag])]
        if tag not in FLOW_NODES and tag not in OTHER_ALLOWED:
            return [_problem(name, el, f"the element '{tag}' is not run by motcua")]
    if tag in ("serviceTask", "sendTask"):
        problems.extend(_check_service_task(name, el))
    elif tag == "userTask":
        problems.extend(_check_user_task(name, el, load_form, extra_functions))
    elif tag == "startEvent":
        problems.extend(_check_form_key(name, el, load_form))
        problems.extend(_check_event_subprocess_start(name, el))
    elif tag == "businessRuleTask":
        ref = el.get(f"{C}decisionRef")
        if not ref:
            problems.append(_problem(name, el, "a business rule task needs a decision: set 'Decision reference' "
                                               "(camunda:decisionRef) to the id of a DMN decision deployed with it"))
        elif ref not in decisions:
            problems.append(_problem(name, el, f"the decision '{ref}' is not among the DMN files deployed with this "
                                               "diagram; put the .dmn file in the same folder"))
    elif tag == "scriptTask":
        fmt = (el.get("scriptFormat") or "python").lower()
        script = el.find(f"{B}script")
        if fmt not in ("python", "py"):
            problems.append(_problem(name, el, f"the script format '{fmt}' is not run; write the script in Python"))
        elif script is None or not (script.text or "").strip():
            problems.append(_problem(name, el, "the script task has no script"))
        else:
            problems.extend(_check_expression(name, script, script.text, True, extra_functions))
    elif tag in ("conditionExpression", "loopCardinality", "completionCondition", "loopCondition"):
        text = (el.text or "").strip()
        if tag == "loopCardinality" and text.isdigit() and int(text) > loop_limits.MAX_INSTANCES:
            problems.append(_problem(name, el, f"loopCardinality {int(text):,} is more instances than allowed "
                                               f"({loop_limits.MAX_INSTANCES:,})"))
        elif text:
            problems.extend(_check_expression(name, el, el.text, False, extra_functions))
    elif tag == "multiInstanceLoopCharacteristics" and multi_instance.problem(el):
        problems.append(_problem(name, el, multi_instance.problem(el)))
    elif tag == "property" and el.tag.startswith(C):
        problems.extend(_check_dossier_property(name, el))
    elif tag in ("inputParameter", "outputParameter") and el.tag.startswith(C):
        problems.extend(_check_io_parameter(name, el, tag))
    elif tag in ("in", "out") and el.tag.startswith(C) and el.get("variables") != "all" and not el.get("businessKey"):
        problems.append(_problem(name, el, f"camunda:{tag} mapping of single variables is not run by motcua: a called "
                                           "process gets all of the caller's variables and gives all of its own back, "
                                           f"as with camunda:{tag} variables=\"all\"; remove the mapping and use the "
                                           "variables' own names in both processes"))
    elif tag in ("timeDate", "timeDuration", "timeCycle"):
        text = (el.text or "").strip()
        if not text:
            problems.append(_problem(name, el, "the timer has no value: give a date, a duration (PT5M) or a cycle"))
        else:
            literal = dialect.is_iso_literal(text)
            wrong = (timer_events.literal_problem(tag, text) if literal else timer_events.cron_problem(text)) or \
                timer_events.placement_problem(tag, el)
            if wrong:
                problems.append(_problem(name, el, wrong))
            elif not literal:
                problems.extend(_check_expression(name, el, text, False, extra_functions))
    return problems


_EVENT_SUBPROCESS_REFUSED = {"errorEventDefinition": "an error", "escalationEventDefinition": "an escalation"}


def _check_event_subprocess_start(name: str, el: etree._Element) -> list[Problem]:
    """An event subprocess started by an error or an escalation: SpiffWorkflow starts it but neither interrupts the
    task that threw nor says the event was caught, so the task would run on beside it with a false incident."""
    parent = el.getparent()
    if parent is None or local(parent) != "subProcess" or parent.get("triggeredByEvent") != "true":
        return []
    return [_problem(name, el, f"an event subprocess started by {_EVENT_SUBPROCESS_REFUSED[local(d)]} is not run by "
                               "motcua: catch it with a boundary event on the task or subprocess that throws it")
            for d in el if isinstance(d.tag, str) and local(d) in _EVENT_SUBPROCESS_REFUSED]


DOSSIER_CLOCK_VALUES = ("pause", "delivered", "extend")


def _check_dossier_property(name: str, el: etree._Element) -> list[Problem]:
    """The extension properties motcua reads: ``dossier_clock`` and ``dossier_status`` must have a value it knows."""
    prop, value = el.get("name"), (el.get("value") or "").strip()
    if prop == "dossier_clock" and value not in DOSSIER_CLOCK_VALUES:
        return [_problem(name, el, f"the property dossier_clock = '{value}' is not known: use 'pause' (a supplement "
                                   "request: the clock stops while it is active), 'delivered' (the result is handed over) or 'extend' (the "
                                   "apology letter's new_due_date becomes the new appointment)")]
    if prop == "dossier_status" and not (value.isdigit() and 1 <= int(value) <= 10):
        return [_problem(name, el, f"the property dossier_status = '{value}' is not a dossier status: use a number "
                                   "from 1 (Mới đăng ký) to 10 (Đã trả kết quả)")]
    return []


def _check_io_parameter(name: str, el: etree._Element, tag: str) -> list[Problem]:
    """Input parameters are text values given to a worker with its task; nothing else of Camunda's mapping runs."""
    if tag == "outputParameter":
        return [_problem(name, el, "output parameters are not run by motcua: the variables a worker or form returns "
                                   "become process variables as they are")]
    if len(el) or "${" in (el.text or "") or "#{" in (el.text or ""):
        return [_problem(name, el, f"the input parameter '{el.get('name')}' must be plain text: motcua passes it to "
                                   "the worker as it is (no scripts, lists, maps or ${…} expressions)")]
    return []


def _check_service_task(name: str, el: etree._Element) -> list[Problem]:
    for attr in ("class", "delegateExpression", "expression"):
        if el.get(f"{C}{attr}"):
            return [_problem(name, el, f"camunda:{attr} is a Java implementation, which motcua does not run; set "
                                       "Implementation to 'External' and give a topic")]
    if el.get(f"{C}type") != "external" or not (el.get(f"{C}topic") or "").strip():
        return [_problem(name, el, "a service task needs Implementation 'External' and a topic (camunda:type="
                                   "\"external\" camunda:topic=\"...\"), so that a worker can do it")]
    priority = el.get(f"{C}taskPriority")
    if priority and not (priority.strip().lstrip("-").isdigit() and abs(int(priority)) <= MAX_PRIORITY):
        return [_problem(name, el, f"the task priority '{priority}' must be a whole number between "
                                   f"-{MAX_PRIORITY:,} and {MAX_PRIORITY:,}")]
    return []


def _check_form_key(name, el, load_form) -> list[Problem]:
    problems: list[Problem] = []
    key = el.get(f"{C}formKey")
    if key:
        if not FORM_KEY.match(key):
            problems.append(_problem(name, el, f"the form key '{key}' is not a motcua form: use the name of a file "
                                               "in forms/ without '.json' (embedded and Camunda Forms are not used)"))
        elif (form := load_form(key)) is None:
            problems.append(_problem(name, el, f"the form '{key}' does not exist: add forms/{key}.json"))
        else:
            problems.extend(check_form(f"forms/{key}.json", form))
    return problems


def _check_user_task(name, el, load_form, extra_functions) -> list[Problem]:
    problems = _check_form_key(name, el, load_form)
    due = el.get(f"{C}dueDate")
    if due:
        problems.extend(_check_expression(name, el, dialect.due_date_expression(due), False, extra_functions))
    for attribute in assignment.ATTRIBUTES:
        value = el.get(f"{C}{attribute}") or ""
        expression = assignment.expression_of(value)
        if expression:
            problems.extend(_check_expression(name, el, expression, False, extra_functions))
        elif "${" in value or "#{" in value:
            problems.append(_problem(name, el, f"'{value}' in {attribute} would be taken as a name, not worked out: "
                                               "write names (comma-separated for groups and users), or an expression "
                                               "as the whole value, such as ${reviewer}"))
    has_lane = any((ref.text or "").strip() == el.get("id") for ref in el.getroottree().iter(f"{B}flowNodeRef"))
    if not (el.get(f"{C}candidateGroups") or el.get(f"{C}candidateUsers") or el.get(f"{C}assignee") or has_lane):
        problems.append(_problem(name, el, "nobody can see this user task: give it candidate groups, an assignee "
                                           "or put it in a lane", severity="warning"))
    return problems


def _check_expression(name, el, text, script, extra_functions) -> list[Problem]:
    try:
        sandbox.check(text, script=script, extra_functions=extra_functions)
    except ExpressionRefused as err:
        line = el.sourceline + (err.line - 1 if script and err.line else 0)
        problem = _problem(name, el, f"the expression '{_short(text)}' is refused: {err.message}")
        problem.line = line
        return [problem]
    return []


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def decisions_in(name: str, data: bytes, extra_functions: set[str] = frozenset()) -> tuple[set[str], list[Problem]]:
    """The decision ids a DMN file defines, or the reason it cannot be read or run (an expression in it that the
    sandbox refuses)."""
    try:
        root = dialect.parse_xml(data)
    except dialect.XmlRefused as err:
        return set(), [Problem(name, str(err), line=err.line)]
    if root.tag not in _DMN_DEFINITIONS_TAGS:
        return set(), [Problem(name, "this is not a DMN file (its root element is not dmn:definitions in a DMN 1.1, "
                                     "1.2 or 1.3 namespace); export the decision table from Camunda Modeler",
                               line=root.sourceline)]
    decisions = list(root.iter(*_DMN_DECISION_TAGS))
    if not decisions:
        return set(), [Problem(name, "the DMN file has no decision", line=root.sourceline)]
    for decision in decisions:
        if not decision.get("id"):
            return set(), [Problem(name, "a decision has no id", line=decision.sourceline)]
        if len(decision.findall(f"{{{etree.QName(decision).namespace}}}decisionTable")) != 1:
            return set(), [Problem(name, f"the decision '{decision.get('id')}' cannot be evaluated: motcua runs "
                                         "decisions made of one decision table", line=decision.sourceline)]
    return ({el.get("id") for el in decisions},
            dmn_checks.shape_problems(name, root) + _dmn_expression_problems(name, root, extra_functions))


def _dmn_expression_problems(name: str, root: etree._Element, extra_functions: set[str]) -> list[Problem]:
    """The input expressions, output entries and input entries written as expressions that the sandbox refuses
    (an input entry such as ``< 18`` is a test on the input, not an expression, and is not checked here)."""
    problems: list[Problem] = []
    ns = etree.QName(root).namespace
    for tag in ("inputExpression", "outputEntry", "inputEntry"):
        for text_el in root.iter(f"{{{ns}}}{tag}"):
            text_node = text_el.find(f"{{{ns}}}text")
            text = (text_node.text or "").strip() if text_node is not None else ""
            if not text or text == "-" or (tag == "inputEntry" and not _parses(text)):
                continue
            problems.extend(_check_expression(name, text_el, text, False, extra_functions))
    return problems


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def check_with_spiff(bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes], keys: list[str],
                     roots: Mapping[str, etree._Element]) -> list[Problem]:
    """Let SpiffWorkflow parse and validate the whole deployment; translate what it says."""
    try:
        parser, _ = specs.build_parser(bpmn, dmn, validate=True)
        for key in keys:
            parser.get_spec(key)
            parser.get_subprocess_specs(key)
    except ValidationException as err:
        file_name = err.file_name or next(iter(bpmn), "?")
        element_id = getattr(err, "id", None)
        line = err.line_number or specs.xml_line(roots.get(file_name), element_id)
        message = str(err.args[0] if err.args else err).split("\n")[0]
        return [Problem(file_name, f"the diagram cannot run: {message}", element_id=element_id or None,
                        line=line or None)]
    except dialect.XmlRefused as err:
        return [Problem(next(iter(bpmn), "?"), str(err), line=err.line)]
    return []
