"""What the renderer draws: the shapes and edges of one BPMNDI diagram, with what each BPMN element says
about how it looks (its kind, name, event type, markers). Built by :mod:`.parse`, drawn by :mod:`.svg`."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Box:
    """A rectangle in diagram coordinates (y grows downwards)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """The horizontal centre."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """The vertical centre."""
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        """The right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """The bottom edge."""
        return self.y + self.h

    def grow(self, d: float) -> Box:
        """The box made larger by ``d`` on every side."""
        return Box(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def gap(self, other: Box) -> float:
        """The distance between the two boxes (0 when they overlap)."""
        dx = max(other.x - self.right, self.x - other.right, 0.0)
        dy = max(other.y - self.bottom, self.y - other.bottom, 0.0)
        return (dx * dx + dy * dy) ** 0.5

    @staticmethod
    def around(points: list[tuple[float, float]]) -> Box:
        """The smallest box holding every point."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


@dataclass
class Shape:
    """A node of the diagram: an activity, event, gateway, data element, pool, lane, annotation or group."""

    element_id: str
    kind: str  # the BPMN element's local name (userTask, startEvent...), or "unknown"
    name: str
    box: Box
    label: Box | None = None  # where the modeler put the label (BPMNLabel bounds), when usable
    expanded: bool = False  # subprocesses: drawn open with their content
    horizontal: bool = True  # pools and lanes
    event: str | None = None  # message, timer, error, signal, escalation, terminate, conditional, link...
    throwing: bool = False
    interrupting: bool = True
    triggered_by_event: bool = False  # event subprocesses
    loop: str | None = None  # standard, parallel, sequential
    marker_visible: bool = True  # the X of an exclusive gateway
    instantiate: bool = False  # event-based gateways that start the process
    collection: bool = False  # data objects holding a list
    compensation: bool = False  # activities for compensation
    tag: str = ""  # the element's tag when it is unknown, for the label


@dataclass
class Edge:
    """A connection: sequence flow, message flow, association or data association."""

    element_id: str
    kind: str  # sequenceFlow, messageFlow, association, dataInputAssociation, dataOutputAssociation or "unknown"
    name: str
    points: list[tuple[float, float]]
    label: Box | None = None
    default: bool = False  # the default flow of its gateway or activity (a slash near its start)
    conditional: bool = False  # a condition on a flow leaving an activity (a small diamond at its start)
    direction: str = "none"  # associations: none, one, both


@dataclass
class Diagram:
    """One BPMNDI diagram of a file, ready to draw."""

    diagram_id: str
    name: str
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def element_ids(self) -> set[str]:
        """The ids of every BPMN element drawn."""
        return {s.element_id for s in self.shapes} | {e.element_id for e in self.edges}

    def shape(self, element_id: str) -> Shape | None:
        """The first shape drawn for an element."""
        return next((s for s in self.shapes if s.element_id == element_id), None)
