"""Parsing deployed files into SpiffWorkflow specs, once per definition, and keeping them.

A stored definition never changes, so its parsed spec is cached for the life of the process, keyed by
the definition's content hash: every request, job and timer reuses it (parsing per request would halve
throughput). Sharing one spec between workflows is safe (see the SpiffWorkflow reference, §7) once
event subprocesses no longer rewire it when they start (:func:`dialect.isolate_event_subprocesses`).
"""
from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import dialect, multi_instance
from engine.db import database_name
from engine.errors import NotFound
from engine.models import DeploymentResource, ProcessDefinition
from engine.sandbox import SandboxEngine

_VALIDATOR: BpmnValidator | None = None
_VALIDATOR_LOCK = threading.Lock()


def validator() -> BpmnValidator:
    """The BPMN 2.0 XSD validator, built once (it takes a few milliseconds)."""
    global _VALIDATOR
    with _VALIDATOR_LOCK:
        if _VALIDATOR is None:
            _VALIDATOR = BpmnValidator()
        return _VALIDATOR


@dataclass
class ParsedDefinition:
    """A definition ready to run: its specs, its form snapshot and the element names for display."""

    key: str
    spec: object
    subprocess_specs: dict
    forms: dict[str, dict] = field(default_factory=dict)
    start_form_key: str | None = None
    initiator_variable: str | None = None  # camunda:initiator: the variable holding who started the instance
    procedure: dict | None = None  # the catalogue entry (procedure.toml) deployed with it, if any
    clock_pauses: frozenset[str] = frozenset()  # elements during which the dossier's clock stops
    deliveries: frozenset[str] = frozenset()  # elements whose completion delivers the result to the citizen
    extensions: frozenset[str] = frozenset()  # elements whose completion sets the new appointment (Form 04)
    statuses: dict[str, int] = field(default_factory=dict)  # element → dossier status set when it is reached
    trigger_messages: dict[str, str] = field(default_factory=dict)  # message → event subprocess start event

    def element_name(self, element_id: str) -> str | None:
        """The name an analyst gave an element, for histories and messages."""
        for spec in (self.spec, *self.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) == element_id:
                    return task_spec.bpmn_name
        return None


def build_parser(bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes], validate: bool = False) -> tuple:
    """Parse BPMN and DMN files into a parser; return it with the ids renamed inside the engine.

    Raises :class:`dialect.XmlRefused` for bad XML and SpiffWorkflow's ``ValidationException`` for a
    diagram it cannot run.
    """
    parser = dialect.MotcuaParser(validator=validator() if validate else None)
    renamed: dict[str, str] = {}
    for name, data in dmn.items():
        parser.add_dmn_xml(dialect.parse_xml(data), filename=name)
    for name, data in bpmn.items():
        root = dialect.parse_xml(data)
        renamed.update(dialect.prepare(root))
        parser.add_bpmn_xml(root, filename=name)
    return parser, renamed


def parse_definition(key: str, bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes],
                     forms: Mapping[str, bytes], procedures: Mapping[str, bytes] | None = None) -> ParsedDefinition:
    """Parse one process of a deployment (with the call activities it uses)."""
    parser, renamed = build_parser(bpmn, dmn)
    spec = parser.get_spec(key)
    subprocess_specs = parser.get_subprocess_specs(key)
    dialect.restore_ids([spec, *subprocess_specs.values()], renamed)
    multi_instance.adopt([spec, *subprocess_specs.values()])
    interrupting = frozenset().union(*(dialect.interrupting_event_subprocesses(dialect.parse_xml(data))
                                       for data in bpmn.values()))
    dialect.isolate_event_subprocesses([spec, *subprocess_specs.values()], interrupting)
    return ParsedDefinition(key=key, spec=spec, subprocess_specs=subprocess_specs,
                            forms={name: json.loads(data) for name, data in forms.items()},
                            start_form_key=_start_attribute(key, bpmn, "formKey"),
                            initiator_variable=_start_attribute(key, bpmn, "initiator"), procedure=_procedure(key, procedures or {}),
                            clock_pauses=_marked(key, bpmn, "pause"), deliveries=_marked(key, bpmn, "delivered"),
                            extensions=_marked(key, bpmn, "extend"),
                            statuses={element: int(value) for element, value in
                                      extension_properties(key, bpmn, "dossier_status").items()},
                            trigger_messages=_trigger_messages(spec, subprocess_specs))


def _trigger_messages(spec, subprocess_specs) -> dict[str, str]:
    """The messages that start an event subprocess of the process, with their start events' ids: an instance
    listens for them as long as it runs."""
    found = {}
    for name in getattr(spec.start, "trigger_specs", []):
        for event in getattr(subprocess_specs.get(name), "bpmn_start_events", []):
            definition = getattr(event, "event_definition", None)
            if isinstance(definition, dialect.MessageEventDefinition):
                found[definition.name] = event.bpmn_id
    return found


def _procedure(key: str, procedures: Mapping[str, bytes]) -> dict | None:
    """The catalogue entry whose ``process_key`` is this process."""
    for data in procedures.values():
        entry = tomllib.loads(data.decode("utf-8"))
        if entry.get("process_key") == key:
            return entry
    return None


def extension_properties(key: str, bpmn: Mapping[str, bytes], name: str) -> dict[str, str]:
    """The elements of process ``key`` that carry the extension property ``name`` (Camunda Modeler:
    Extensions → Properties), with its value."""
    b, c = "{http://www.omg.org/spec/BPMN/20100524/MODEL}", "{http://camunda.org/schema/1.0/bpmn}"
    found: dict[str, str] = {}
    for data in bpmn.values():
        for process in dialect.parse_xml(data).iter(f"{b}process"):
            if process.get("id") != key:
                continue
            for prop in process.iter(f"{c}property"):
                if prop.get("name") == name:
                    element = prop.getparent().getparent().getparent()  # property < properties < extensionElements
                    if element is not None and element.get("id"):
                        found[element.get("id")] = (prop.get("value") or "").strip()
    return found


def _marked(key: str, bpmn: Mapping[str, bytes], value: str) -> frozenset[str]:
    """Elements with the extension property ``dossier_clock = <value>``: ``pause`` (a supplement request:
    while one is active the dossier's clock stops) or ``delivered`` (handing over the result)."""
    return frozenset(e for e, v in extension_properties(key, bpmn, "dossier_clock").items() if v == value)


def _start_attribute(key: str, bpmn: Mapping[str, bytes], attribute: str) -> str | None:
    """A Camunda attribute of the process's none start event: ``formKey`` (the citizen's application form) or
    ``initiator`` (the variable that gets the starting user's name), if it has one."""
    b, c = "{http://www.omg.org/spec/BPMN/20100524/MODEL}", "{http://camunda.org/schema/1.0/bpmn}"
    for data in bpmn.values():
        for process in dialect.parse_xml(data).iter(f"{b}process"):
            if process.get("id") != key:
                continue
            for event in process.findall(f"{b}startEvent"):
                if event.get(f"{c}{attribute}") and not any(child.tag.endswith("EventDefinition") for child in event):
                    return event.get(f"{c}{attribute}").strip() or None
    return None


class SpecCache:
    """Parsed definitions by content hash, shared by every session of this process."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ParsedDefinition] = {}
        self._definitions: dict[tuple[str, str], ProcessDefinition] = {}  # by database and id
        self._lock = threading.Lock()

    def get(self, session: Session, definition: ProcessDefinition) -> ParsedDefinition:
        """The parsed definition, parsed from its stored files on first use."""
        cache_key = (definition.sha256, definition.key)
        parsed = self._items.get(cache_key)
        if parsed is None:
            parsed = self._parse(session, definition)
            with self._lock:
                parsed = self._items.setdefault(cache_key, parsed)
        return parsed

    def _parse(self, session: Session, definition: ProcessDefinition) -> ParsedDefinition:
        resources = session.scalars(select(DeploymentResource)
                                    .where(DeploymentResource.deployment_id == definition.deployment_id)).all()
        bpmn = {r.name: r.content for r in resources if r.kind == "bpmn"}
        dmn = {r.name: r.content for r in resources if r.kind == "dmn"}
        forms = {r.name.removeprefix("forms/").removesuffix(".json"): r.content for r in resources if r.kind == "form"}
        if definition.resource_name not in bpmn:
            raise NotFound(f"the files of definition {definition.id} are missing")
        procedures = {r.name: r.content for r in resources if r.kind == "procedure"}
        return parse_definition(definition.key, bpmn, dmn, forms, procedures)

    def definition(self, session: Session, definition_id: str, sha256: str | None = None) -> ProcessDefinition:
        """A stored definition by id; definitions never change, so each is read once per process and database
        (two databases may hold different diagrams under one id). With the ``sha256`` the database has for it,
        a cached one of another content is read again."""
        cache_key = (database_name(session), definition_id)
        definition = self._definitions.get(cache_key)
        if definition is None or (sha256 is not None and definition.sha256 != sha256):
            definition = session.get(ProcessDefinition, definition_id)
            if definition is None:
                raise NotFound(f"no process definition {definition_id}")
            session.expunge(definition)
            with self._lock:
                self._definitions[cache_key] = definition
        return definition

    def clear(self) -> None:
        """Forget every parsed definition (tests use it)."""
        with self._lock:
            self._items.clear()
            self._definitions.clear()


SPECS = SpecCache()
SCRIPT_ENGINE = SandboxEngine()


def xml_line(root: etree._Element | None, element_id: str | None) -> int | None:
    """The line of the element with this id, for messages."""
    if root is None or not element_id:
        return None
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") == element_id:
            return el.sourceline
    return None
