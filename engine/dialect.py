"""The BPMN dialect: what motcua reads from files written by Camunda Modeler or bpmn.io.

SpiffWorkflow's ``CamundaParser`` reads form fields, properties and ``decisionRef``; this module adds
``camunda:type``/``camunda:topic``/``camunda:taskPriority`` on service tasks and
``camunda:candidateGroups``/``candidateUsers``/``assignee``/``formKey``/``dueDate`` on user tasks, and
prepares the XML before SpiffWorkflow sees it:

* it is parsed with a hardened parser (no entities, no network, no DTD) and a DOCTYPE is refused;
* element ids that collide with names SpiffWorkflow uses for its own task specs (``Start``, ``End``,
  ``<process>.EndJoin``, ``*.BoundaryEventSplit``...) are renamed inside the engine and the analyst's id
  is put back on the parsed spec (``bpmn_id``), so any id works;
* a timer written as a bare ISO 8601 literal (``PT5M``, as Camunda Modeler writes it) is quoted,
  since SpiffWorkflow reads timer text as an expression.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.defaults import NoneTask, ServiceTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser as CamundaUserTaskParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.camunda.specs.user_task import UserTask as CamundaUserTask
from SpiffWorkflow.util.task import TaskState

from engine import assignment, decisions, multi_instance
from engine.error_events import ErrorEvents
from engine.timer_events import TimerEvents

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")

SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  huge_tree=False, remove_comments=False)

_RESERVED_IDS = {"Start", "End", "Root"}
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin")
_ISO_LITERAL = re.compile(r"^(R\d*/)?[0-9PT:WYMDHS.+\-/Z]+$")
_ID_REFERENCES = ("sourceRef", "targetRef", "attachedToRef", "default", "bpmnElement", "processRef")


_DOCTYPE_REFUSED = ("the file has a DOCTYPE or an ENTITY declaration; BPMN and DMN files never need one and motcua "
                    "refuses them (they can read files on the server)")


_PARSER_LIMITS = ("XML_PARSE_HUGE", "too big", "huge text", "too long", "limit exceeded")  # libxml2's safety limits


class XmlRefused(ValueError):
    """The file is not acceptable XML (malformed, or with a DOCTYPE)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML with the hardened parser; refuse a DOCTYPE."""
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        line = data[: data.upper().find(b"<!DOCTYPE") if b"<!DOCTYPE" in head else data.upper().find(b"<!ENTITY")].count(b"\n") + 1
        raise XmlRefused(_DOCTYPE_REFUSED, line)
    try:
        root = etree.fromstring(data, SAFE_XML_PARSER)
    except etree.XMLSyntaxError as err:
        if any(words in err.msg for words in _PARSER_LIMITS):
            raise XmlRefused("the file is beyond what motcua reads: it nests elements more than 256 deep, or has a "
                             "text or comment over 10 MB; a diagram never does, so this is not one a modeler wrote",
                             err.lineno) from None
        raise XmlRefused(f"the file is not well-formed XML: {err.msg}", err.lineno) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # one the byte search missed: late, or not UTF-8
        raise XmlRefused(_DOCTYPE_REFUSED, _doctype_line(data, docinfo.encoding))
    return root


def _doctype_line(data: bytes, encoding: str | None) -> int | None:
    """The line of the DOCTYPE in a file in any encoding the parser read."""
    try:
        text = data.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return None
    at = text.upper().find("<!DOCTYPE")
    return text[:at].count("\n") + 1 if at >= 0 else None


def _is_reserved(element_id: str) -> bool:
    return element_id in _RESERVED_IDS or element_id.endswith(_RESERVED_SUFFIXES)


def prepare(root: etree._Element) -> dict[str, str]:
    """Rewrite a BPMN tree in place for SpiffWorkflow; return {internal id: analyst's id} for renamed ids."""
    process_ids = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    all_ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    renamed: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        element_id = el.get("id")
        if element_id and element_id not in process_ids and _is_reserved(element_id):
            n = 1
            while f"{element_id}_motcua{n}" in all_ids:
                n += 1
            new_id = f"{element_id}_motcua{n}"
            all_ids.add(new_id)
            renamed[element_id] = new_id
    if renamed:
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("id") in renamed:
                el.set("id", renamed[el.get("id")])
            for attr in _ID_REFERENCES:
                if el.get(attr) in renamed:
                    el.set(attr, renamed[el.get(attr)])
            if el.tag in (f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing") and (el.text or "").strip() in renamed:
                el.text = renamed[el.text.strip()]
    multi_instance.prepare(root)
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            text = (el.text or "").strip()
            if text and _ISO_LITERAL.match(text):
                el.text = repr(text)
    # A process's timer start event is the engine's schedule (engine/schedules.py): each occurrence starts a
    # new instance, which then begins as at a none start event (SpiffWorkflow would wait or loop inside one).
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
            for timer in start.findall(f"{{{BPMN_NS}}}timerEventDefinition"):
                start.remove(timer)
    # Data objects and data stores are drawn for the reader, as Camunda 7 treats them: variables belong to the
    # process. SpiffWorkflow would move a task's variable into the data object its association names (and fail the
    # task when no variable has the data object's id, as in every diagram Camunda Modeler draws), and it refuses
    # data stores it has no code for; so their associations and the stores go before it reads the file.
    for tag in ("dataInputAssociation", "dataOutputAssociation", "dataStore"):
        for el in list(root.iter(f"{{{BPMN_NS}}}{tag}")):
            el.getparent().remove(el)
    return {new: old for old, new in renamed.items()}


def is_iso_literal(text: str) -> bool:
    """Whether a timer or due-date text is a bare ISO 8601 literal (P3D, 2026-12-31T17:00) rather than an expression."""
    return bool(_ISO_LITERAL.match(text.strip()))


def due_date_expression(text: str | None) -> str | None:
    """Turn a ``camunda:dueDate`` value into an expression (a bare ISO literal becomes a string)."""
    if not text or not text.strip():
        return None
    text = text.strip()
    return repr(text) if _ISO_LITERAL.match(text) else text


def split_list(value: str | None) -> list[str]:
    """Split a comma-separated attribute into its trimmed, non-empty parts."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class UserTask(CamundaUserTask):
    """A user task with the Camunda assignment attributes motcua honours."""

    def __init__(self, wf_spec, name, form, candidate_groups=(), candidate_users=(), assignee=None,
                 due_date=None, priority=None, assignment_expressions=None, **kwargs):
        super().__init__(wf_spec, name, form, **kwargs)
        self.candidate_groups = list(candidate_groups)
        self.candidate_users = list(candidate_users)
        self.assignee = assignee
        self.due_date = due_date
        self.priority = priority
        self.assignment_expressions = dict(assignment_expressions or {})  # see engine.assignment

    def _update_hook(self, my_task):
        ready = super()._update_hook(my_task)
        if ready:
            assignment.work_out(my_task)
        return ready

    @property
    def form_key(self) -> str | None:
        """The form of this task (``camunda:formKey``), a file in ``forms/``."""
        return getattr(self.form, "key", None)


class ExternalTask(ServiceTask):
    """A service task done by an external worker: it waits (STARTED) until a worker completes it."""

    def __init__(self, wf_spec, name, topic=None, priority=None, input_parameters=None, **kwargs):
        super().__init__(wf_spec, name, **kwargs)
        self.topic = topic
        self.priority = priority
        self.input_parameters = dict(input_parameters or {})  # local variables the worker gets with the task


class PassThroughTask(NoneTask):
    """A plain ``bpmn:task`` or ``bpmn:manualTask``: as in Camunda, it does nothing and moves on."""

    def __init__(self, wf_spec, name, **kwargs):
        super().__init__(wf_spec, name, **kwargs)
        self.manual = False


class UserTaskParser(CamundaUserTaskParser):
    """Reads the Camunda attributes of a user task."""

    def create_task(self):
        form = self.get_form()
        lane = self.lane
        written = {name: self.attribute(name, "camunda") for name in assignment.ATTRIBUTES}
        expressions = {name: assignment.expression_of(value) for name, value in written.items()
                       if assignment.expression_of(value)}
        written.update(dict.fromkeys(expressions))
        groups = split_list(written["candidateGroups"])
        if not groups and lane and not expressions:
            groups = [lane]
        return self.spec_class(
            self.spec, self.bpmn_id, form=form,
            candidate_groups=groups,
            candidate_users=split_list(written["candidateUsers"]),
            assignee=(written["assignee"] or None), assignment_expressions=expressions,
            due_date=due_date_expression(self.attribute("dueDate", "camunda")),
            priority=self.attribute("priority", "camunda"),
            **self.bpmn_attributes)


class ExternalTaskParser(CamundaTaskParser):
    """Reads ``camunda:type="external"``, ``camunda:topic`` and ``camunda:taskPriority``."""

    def create_task(self):
        return self.spec_class(self.spec, self.bpmn_id, topic=self.attribute("topic", "camunda"),
                               priority=self.attribute("taskPriority", "camunda"),
                               input_parameters=input_parameters(self.node), **self.bpmn_attributes)


def input_parameters(node) -> dict[str, str]:
    """The task's Camunda input parameters (Modeler: Inputs), each a text value the worker receives as a local
    variable, e.g. ``notify_template = received`` on one of several ``notify`` tasks."""
    found = {}
    for param in node.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}inputOutput/{{{CAMUNDA_NS}}}inputParameter"):
        if param.get("name"):
            found[param.get("name")] = (param.text or "").strip()
    return found


class MessageEventDefinition(CamundaMessageEventDefinition):
    """Camunda's message event; a message delivered without a result variable (a correlation from outside)
    sets its variables on the instance, as Camunda's message correlation does."""

    def update_internal_data(self, my_task, event):
        if event.payload.get("result_var") is None and self.result_var is not None:
            event.payload["result_var"] = self.result_var
        my_task.internal_data[self.name] = event.payload

    def update_task_data(self, my_task):
        event_data = my_task.internal_data.get(self.name) or {}
        if event_data.get("result_var") is None:
            if isinstance(event_data.get("payload"), dict):
                my_task.data.update(event_data["payload"])
            return
        my_task.data[event_data["result_var"]] = event_data.get("payload")


class _MessageEvents:
    """Mixed into Camunda's event parsers so message events get :class:`MessageEventDefinition` (and, with
    :class:`engine.timer_events.TimerEvents`, timers whose bad values become incidents)."""

    def parse_message_event(self, message_event):
        parsed = super().parse_message_event(message_event)
        return MessageEventDefinition(parsed.name, parsed.correlation_properties, parsed.expression,
                                      parsed.result_var)


def _with_messages(tag: str):
    parser, spec = CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)]
    return type(f"Motcua{parser.__name__}", (_MessageEvents, TimerEvents, ErrorEvents, parser), {}), spec


class MotcuaParser(CamundaParser):
    """SpiffWorkflow's Camunda parser with motcua's task classes."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        **{full_tag(tag): _with_messages(tag) for tag in ("startEvent", "endEvent", "intermediateCatchEvent",
                                                          "intermediateThrowEvent", "boundaryEvent")},
        full_tag("userTask"): (UserTaskParser, UserTask),
        full_tag("serviceTask"): (ExternalTaskParser, ExternalTask),
        full_tag("sendTask"): (ExternalTaskParser, ExternalTask),
        full_tag("task"): (CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("task")][0], PassThroughTask),
        full_tag("manualTask"): (CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("manualTask")][0], PassThroughTask),
        full_tag("businessRuleTask"): (decisions.BusinessRuleTaskParser, decisions.BusinessRuleTask),
    }

    def get_engine(self, decision_ref, node):
        """The decision's engine with every hit policy motcua runs (:mod:`engine.decisions`)."""
        if decision_ref not in self.dmn_parsers:
            return super().get_engine(decision_ref, node)  # SpiffWorkflow's "No DMN Diagram available" error
        return decisions.engine_for(self.dmn_parsers[decision_ref])


@dataclass
class ParsedResource:
    """One prepared BPMN file: its tree and the ids renamed inside the engine."""

    name: str
    root: etree._Element
    renamed: dict[str, str]


def restore_ids(specs, renamed: dict[str, str]) -> None:
    """Put the analyst's element ids back on parsed specs whose ids were renamed by :func:`prepare`."""
    if not renamed:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) in renamed:
                task_spec.bpmn_id = renamed[task_spec.bpmn_id]


class SharedSpecStartTask(BpmnStartTask):
    """A process's start whose event subprocesses start without rewiring the spec.

    SpiffWorkflow's ``trigger_wf`` connects the start to the event subprocess the first time a message starts
    it. The spec is shared by every instance of the definition (it is parsed once), so from then on every new
    instance would predict that subprocess as a plain branch that never ends, and never complete. Here the
    subprocess is connected to the end once, when the definition is parsed (:func:`isolate_event_subprocesses`),
    and a trigger only adds the subprocess task to the one instance it happens in."""

    interrupting: frozenset[str] = frozenset()  # event subprocesses whose start event interrupts the process

    def trigger_wf(self, my_task, spec_name):
        if spec_name in self.interrupting:  # SpiffWorkflow 3.2 does not read isInterrupting: cancel the rest here
            for other in list(my_task.children):
                other.cancel()
        child = my_task._add_child(self._wf_spec.task_specs[spec_name], TaskState.FUTURE)
        child.triggered = True
        child.task_spec._update(child)
        return child.id


def isolate_event_subprocesses(specs, interrupting: frozenset[str] = frozenset()) -> None:
    """Prepare parsed process specs so that starting an event subprocess changes only its own instance, and an
    interrupting one (the ids in ``interrupting``) cancels everything else of its process."""
    for spec in specs:
        start = getattr(spec, "start", None)
        if not isinstance(start, BpmnStartTask):
            continue
        for name in start.trigger_specs:
            subprocess_task = spec.task_specs[name]
            if spec.end not in subprocess_task.outputs:
                subprocess_task.connect(spec.end)
            if start.name not in subprocess_task._inputs:  # an input (SpiffWorkflow requires one), not an output
                subprocess_task._connect_notify(start)
        start.__class__ = SharedSpecStartTask
        start.interrupting = frozenset(name for name in start.trigger_specs if name in interrupting)


def interrupting_event_subprocesses(root: etree._Element) -> frozenset[str]:
    """The ids of event subprocesses whose start event interrupts (``isInterrupting`` is true by default)."""
    found = set()
    for sub_process in root.iter(f"{{{BPMN_NS}}}subProcess"):
        if sub_process.get("triggeredByEvent") != "true":
            continue
        starts = sub_process.findall(f"{{{BPMN_NS}}}startEvent")
        if any(start.get("isInterrupting", "true").lower() != "false" for start in starts):
            found.add(sub_process.get("id"))
    return frozenset(found)
