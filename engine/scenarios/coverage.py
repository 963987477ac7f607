"""Which elements and sequence flows of a diagram the scenarios reached.

The flow nodes and sequence flows come from the BPMN file. What a run reached comes from its workflow's
task tree: every element whose task completed (or is active at the end) was reached, and a sequence flow
was taken when the task of its target descends from the task of its source (SpiffWorkflow's own
bookkeeping tasks between them skipped). A converging gateway that fired took every incoming flow whose
source completed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from SpiffWorkflow.bpmn.specs.defaults import EventBasedGateway, IntermediateCatchEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from lxml import etree

from engine import dialect
from engine.lint import FLOW_NODES
from engine.task_elements import element_id

B = f"{{{dialect.BPMN_NS}}}"
# a waiting catch event has not happened yet (a boundary event waits as long as its task runs)
REACHED_STATES = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED


@dataclass
class DiagramElements:
    """The flow nodes and sequence flows of one process, with their names for the report."""

    process_key: str
    nodes: dict[str, str] = field(default_factory=dict)  # id → "name (type)"
    flows: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (source, target)
    flow_names: dict[str, str] = field(default_factory=dict)
    converging: set[str] = field(default_factory=set)  # gateways with more than one incoming flow
    listeners: set[str] = field(default_factory=set)  # start events of event subprocesses (they listen, not wait)

    def flows_between(self, source: str, target: str) -> list[str]:
        """The ids of the sequence flows from ``source`` to ``target``."""
        return [fid for fid, (s, t) in self.flows.items() if s == source and t == target]


def diagram_elements(bpmn: bytes, process_key: str) -> DiagramElements:
    """The flow nodes (subprocess contents included) and sequence flows of a process in a BPMN file."""
    root = dialect.parse_xml(bpmn)
    found = DiagramElements(process_key)
    for process in root.iter(f"{B}process"):
        if process.get("id") != process_key:
            continue
        for el in process.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(B):
                continue
            tag = etree.QName(el).localname
            if tag in FLOW_NODES and el.get("id"):
                found.nodes[el.get("id")] = f"'{el.get('name') or el.get('id')}' ({tag})"
                if tag.endswith("Gateway") and len(el.findall(f"{B}incoming")) > 1:
                    found.converging.add(el.get("id"))
                if tag == "startEvent" and el.getparent().get("triggeredByEvent") == "true":
                    found.listeners.add(el.get("id"))
            elif tag == "sequenceFlow" and el.get("id"):
                found.flows[el.get("id")] = (el.get("sourceRef"), el.get("targetRef"))
                source = el.getparent().find(f"*[@id='{el.get('sourceRef')}']")
                label = el.get("name") or ""
                src_name = source.get("name") if source is not None else None
                found.flow_names[el.get("id")] = f"from {src_name or el.get('sourceRef')}" + (
                    f" ({label})" if label else "")
    return found


def _source_element(task) -> str | None:
    parent = task.parent
    while parent is not None:
        element = element_id(parent)
        if element is not None:
            return element
        parent = parent.parent
    return None


def reached_in(workflow, elements: DiagramElements) -> tuple[set[str], set[str]]:
    """The nodes and sequence flows of ``elements`` that a workflow reached."""
    tasks = list(workflow.get_tasks())
    for sub in list(getattr(workflow, "subprocesses", {}).values()):
        tasks.extend(sub.get_tasks())
    nodes: set[str] = set()
    flows: set[str] = set()
    completed = {element_id(t) for t in tasks if t.state == TaskState.COMPLETED} - {None}
    for task in tasks:
        element = element_id(task)
        if element is None or element not in elements.nodes or not task.state & REACHED_STATES:
            continue
        nodes.add(element)
        source = _source_element(task)
        if source is not None:
            flows.update(elements.flows_between(source, element))
        if element in elements.converging and task.state == TaskState.COMPLETED:
            flows.update(fid for fid, (s, t) in elements.flows.items() if t == element and s in completed)
    return nodes, flows


def timer_catches(workflow) -> list[str]:
    """The intermediate timer catch events a workflow waits at (not boundary timers, which wait beside their task,
    nor the branches of an event-based gateway, which wait with it)."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if (isinstance(definition, TimerEventDefinition) and isinstance(spec, IntermediateCatchEvent)
                and not isinstance(task.parent.task_spec, EventBasedGateway) and element_id(task)):
            found.append(element_id(task))
    return found


@dataclass
class CoverageReport:
    """What no scenario reached."""

    elements: DiagramElements
    nodes: set[str] = field(default_factory=set)
    flows: set[str] = field(default_factory=set)

    def add(self, nodes: Iterable[str], flows: Iterable[str]) -> None:
        """Count what one scenario reached."""
        self.nodes.update(nodes)
        self.flows.update(flows)

    @property
    def missed_nodes(self) -> list[str]:
        """Flow nodes no scenario reached."""
        return sorted(set(self.elements.nodes) - self.nodes)

    @property
    def missed_flows(self) -> list[str]:
        """Sequence flows no scenario took."""
        return sorted(set(self.elements.flows) - self.flows)

    @property
    def complete(self) -> bool:
        """Every node and every flow was reached."""
        return not self.missed_nodes and not self.missed_flows

    def as_dict(self) -> dict:
        """The report as JSON."""
        return {"nodes": len(self.elements.nodes), "nodesReached": len(self.nodes & set(self.elements.nodes)),
                "flows": len(self.elements.flows), "flowsReached": len(self.flows & set(self.elements.flows)),
                "missedNodes": self.missed_nodes, "missedFlows": self.missed_flows}

    def lines(self) -> list[str]:
        """The report in words."""
        d = self.as_dict()
        out = [f"coverage: {d['nodesReached']}/{d['nodes']} elements, {d['flowsReached']}/{d['flows']} sequence flows"]
        out += [f"  not reached: element {n} {self.elements.nodes[n]}" for n in self.missed_nodes]
        out += [f"  not taken: sequence flow {f} {self.elements.flow_names.get(f, '')}".rstrip()
                for f in self.missed_flows]
        return out
