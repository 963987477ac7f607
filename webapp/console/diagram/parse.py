"""Reading a BPMN file's diagram (BPMNDI) into the shapes and edges to draw.

The file is parsed with the engine's hardened parser (no entities, no DTD, no network). Modelers disagree
in the details — Bizagi writes empty label bounds, Yaoqiang label bounds relative to the shape, Activiti
a shape whose element is missing — so every oddity degrades to something drawable: a label without usable
bounds is placed by the renderer, an element the renderer does not know (or cannot find) becomes a labelled
box, and a shape or edge without coordinates is left out. Only a file that is not BPMN, or has no diagram
at all, is refused, with :class:`DiagramError`.
"""
from __future__ import annotations

import math

from lxml import etree

from engine import dialect
from engine.errors import BadInput
from webapp.console.diagram.model import Box, Diagram, Edge, Shape

GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
TASKS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
         "manualTask", "callActivity"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
DATA = {"dataObjectReference", "dataObject", "dataStoreReference", "dataInput", "dataOutput"}
OTHERS = {"participant", "lane", "textAnnotation", "group"}
SHAPE_KINDS = GATEWAYS | EVENTS | TASKS | SUBPROCESSES | DATA | OTHERS
EDGE_KINDS = {"sequenceFlow", "messageFlow", "association", "dataInputAssociation", "dataOutputAssociation"}
LABEL_REACH = 150.0  # label bounds farther than this from their element are a modeler's bug: place it ourselves
LIMIT = 1e7  # coordinates beyond this are nonsense and would make an unusable viewBox


class DiagramError(BadInput):
    """The file cannot be drawn."""

    code = "diagram_invalid"


def _space(tag: str) -> str | None:
    """Which vocabulary a tag belongs to: model, bpmndi, dc, di, or None for vendor extensions."""
    if not tag.startswith("{"):
        return None
    ns = tag[1:tag.index("}")]
    if ns.startswith("http://www.omg.org/spec/BPMN/"):
        return "model" if ns.endswith("/MODEL") else "bpmndi" if ns.endswith("/DI") else None
    if ns.startswith("http://www.omg.org/spec/DD/"):
        return "dc" if ns.endswith("/DC") else "di" if ns.endswith("/DI") else None
    return None


def local(el: etree._Element) -> str:
    """An element's tag without its namespace."""
    return etree.QName(el).localname


def _is(el: etree._Element, space: str, name: str) -> bool:
    return isinstance(el.tag, str) and _space(el.tag) == space and local(el) == name


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and abs(number) < LIMIT else None


def _bounds(el: etree._Element) -> Box | None:
    """The first Bounds child of a DI element, if it has a size."""
    for child in el:
        if isinstance(child.tag, str) and local(child) == "Bounds":
            x, y, w, h = (_number(child.get(k)) for k in ("x", "y", "width", "height"))
            if None in (x, y, w, h) or w <= 0 or h <= 0:
                return None
            return Box(x, y, w, h)
    return None


def _label(el: etree._Element, near: Box) -> Box | None:
    """The BPMNLabel bounds of a DI element, if they have a size and sit near the element."""
    for child in el:
        if isinstance(child.tag, str) and local(child) == "BPMNLabel":
            box = _bounds(child)
            return box if box is not None and near.gap(box) <= LABEL_REACH else None
    return None


def _text(value: str | None) -> str:
    """A name with its line breaks kept and other runs of white space made one space."""
    lines = (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip()


class _Model:
    """The BPMN elements of a file, by id."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.by_id: dict[str, etree._Element] = {}
        self.foreign: dict[str, etree._Element] = {}  # vendor elements with an id: drawn as labelled boxes
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.get("id"):
                continue
            space = _space(el.tag)
            if space == "model":
                self.by_id.setdefault(el.get("id"), el)
            elif space is None:
                self.foreign.setdefault(el.get("id"), el)

    def name(self, el: etree._Element) -> str:
        """What the modeler shows for an element."""
        kind = local(el)
        if kind == "textAnnotation":
            return _text("".join("".join(c.itertext()) for c in el if isinstance(c.tag, str) and local(c) == "text"))
        if kind == "group":
            value = self.by_id.get(el.get("categoryValueRef") or "")
            return _text(value.get("value") if value is not None else el.get("name"))
        if kind == "participant" and not el.get("name"):
            process = self.by_id.get(el.get("processRef") or "")
            return _text(process.get("name") if process is not None else "")
        if kind == "dataObjectReference" and not el.get("name"):
            data = self.by_id.get(el.get("dataObjectRef") or "")
            return _text(data.get("name") if data is not None else "")
        return _text(el.get("name"))

    def event(self, el: etree._Element) -> str | None:
        """The kind of an event's trigger, or ``multiple``/``parallelMultiple`` when it has several."""
        kinds = []
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = local(child)
            if name.endswith("EventDefinition"):
                kinds.append(name[: -len("EventDefinition")])
            elif name == "eventDefinitionRef" and child.text:
                target = self.by_id.get(child.text.strip())
                if target is not None and local(target).endswith("EventDefinition"):
                    kinds.append(local(target)[: -len("EventDefinition")])
        if len(kinds) > 1:
            return "parallelMultiple" if el.get("parallelMultiple") == "true" else "multiple"
        return kinds[0] if kinds else None

    def loop(self, el: etree._Element) -> str | None:
        """Which loop marker an activity carries."""
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if local(child) == "standardLoopCharacteristics":
                return "standard"
            if local(child) == "multiInstanceLoopCharacteristics":
                return "sequential" if child.get("isSequential") == "true" else "parallel"
        return None


def _shape(model: _Model, di: etree._Element, box: Box, drawn: set[str]) -> Shape:
    ref = di.get("bpmnElement") or ""
    el = model.by_id.get(ref)
    kind = local(el) if el is not None else "unknown"
    if kind not in SHAPE_KINDS:
        el = el if el is not None else model.foreign.get(ref)
        tag = local(el) if el is not None else ""
        name = (_text(el.get("name")) if el is not None else "") or ref
        return Shape(element_id=ref, kind="unknown", name=name, box=box, label=_label(di, box), tag=tag)
    shape = Shape(element_id=ref, kind=kind, name=model.name(el), box=box, label=_label(di, box))
    shape.horizontal = di.get("isHorizontal") != "false"
    if kind in EVENTS:
        shape.event = model.event(el)
        shape.throwing = kind in ("endEvent", "intermediateThrowEvent")
        shape.interrupting = (el.get("isInterrupting") != "false" if kind == "startEvent"
                              else el.get("cancelActivity") != "false")
    if kind in TASKS | SUBPROCESSES:
        shape.loop = model.loop(el)
        shape.compensation = el.get("isForCompensation") == "true"
    if kind in SUBPROCESSES:
        shape.triggered_by_event = el.get("triggeredByEvent") == "true"
        flag = di.get("isExpanded")
        if flag is not None:
            shape.expanded = flag == "true"
        else:  # not said: open if something inside it is drawn in this diagram
            shape.expanded = any(isinstance(c.tag, str) and c.get("id") in drawn for c in el.iterdescendants())
    if kind == "exclusiveGateway":
        shape.marker_visible = di.get("isMarkerVisible") != "false"
    if kind == "eventBasedGateway":
        shape.instantiate = el.get("instantiate") == "true"
    if kind in ("dataObjectReference", "dataObject", "dataInput", "dataOutput"):
        data = model.by_id.get(el.get("dataObjectRef") or "") if kind == "dataObjectReference" else el
        shape.collection = data is not None and data.get("isCollection") == "true"
    return shape


def _edge(model: _Model, di: etree._Element) -> Edge | None:
    points = []
    for child in di:
        if isinstance(child.tag, str) and local(child) == "waypoint":
            x, y = _number(child.get("x")), _number(child.get("y"))
            if x is not None and y is not None:
                points.append((x, y))
    if len(points) < 2:
        return None
    ref = di.get("bpmnElement") or ""
    el = model.by_id.get(ref)
    kind = local(el) if el is not None else "unknown"
    if kind not in EDGE_KINDS:
        kind = "unknown"
    edge = Edge(element_id=ref, kind=kind, name=model.name(el) if el is not None else "", points=points)
    edge.label = _label(di, Box.around(points))
    if kind == "sequenceFlow":
        source = model.by_id.get(el.get("sourceRef") or "")
        source_kind = local(source) if source is not None else ""
        edge.default = source is not None and source.get("default") == ref
        has_condition = any(isinstance(c.tag, str) and local(c) == "conditionExpression" for c in el)
        edge.conditional = has_condition and not edge.default and source_kind in TASKS | SUBPROCESSES
    elif kind == "association":
        edge.direction = (el.get("associationDirection") or "None").lower()
    return edge


def _planes(root: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    found = []
    for diagram in root.iter():
        if _is(diagram, "bpmndi", "BPMNDiagram"):
            plane = next((c for c in diagram if _is(c, "bpmndi", "BPMNPlane")), None)
            if plane is not None:
                found.append((diagram, plane))
    return found


def _load(xml: bytes | str) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if isinstance(xml, str) and data.lstrip().startswith(b"<?xml"):
        data = data.split(b"?>", 1)[1]  # the declaration may name another encoding than the text now has
    try:
        root = dialect.parse_xml(data)
    except dialect.XmlRefused as err:
        raise DiagramError(f"Tệp không đọc được (dòng {err.line}): {err}") from None
    if not _is(root, "model", "definitions"):
        raise DiagramError("Tệp không phải là quy trình BPMN 2.0 (phần tử gốc không phải bpmn:definitions).")
    return root


def diagrams(xml: bytes | str) -> list[tuple[str, str]]:
    """The (id, name) of every diagram in a file, in file order (a file may have one per subprocess)."""
    root = _load(xml)
    return [(d.get("id") or "", d.get("name") or "") for d, _ in _planes(root)]


def _title(model: _Model, diagram: etree._Element, plane: etree._Element) -> str:
    shown = model.by_id.get(plane.get("bpmnElement") or "")
    candidates = [diagram.get("name")]
    if shown is not None:
        candidates.append(model.name(shown))
        if local(shown) == "collaboration":
            candidates += [model.name(p) for p in shown if isinstance(p.tag, str) and local(p) == "participant"]
    candidates += [p.get("name") for p in model.root if _is(p, "model", "process")]
    candidates.append(model.root.get("name"))
    return next((_text(c) for c in candidates if c and _text(c)), "BPMN")


def parse(xml: bytes | str, diagram: str | None = None) -> Diagram:
    """The shapes and edges of one diagram of a BPMN file: the one with id ``diagram``, or else the first
    that draws anything. Raises :class:`DiagramError` when the file is not BPMN or has nothing to draw."""
    root = _load(xml)
    planes = _planes(root)
    if not planes:
        raise DiagramError("Tệp không có sơ đồ (BPMNDI): mở tệp bằng trình vẽ quy trình (Camunda Modeler) "
                           "rồi lưu lại để có phần vẽ của sơ đồ.")
    if diagram is not None:
        planes = [(d, p) for d, p in planes if d.get("id") == diagram]
        if not planes:
            raise DiagramError(f"Tệp không có sơ đồ mã '{diagram}'.")
    model = _Model(root)
    for element, plane in planes:
        result = _draw_plane(model, element, plane)
        if result.shapes or result.edges:
            return result
    raise DiagramError("Sơ đồ của tệp trống: không có hình nào có toạ độ để vẽ.")


def _draw_plane(model: _Model, element: etree._Element, plane: etree._Element) -> Diagram:
    di_shapes = [el for el in plane.iter() if _is(el, "bpmndi", "BPMNShape")]
    di_edges = [el for el in plane.iter() if _is(el, "bpmndi", "BPMNEdge")]
    drawn = {el.get("bpmnElement") for el in di_shapes}
    result = Diagram(diagram_id=element.get("id") or "", name=_title(model, element, plane))
    for di in di_shapes:
        box = _bounds(di)
        if box is not None:
            result.shapes.append(_shape(model, di, box, drawn))
    for di in di_edges:
        edge = _edge(model, di)
        if edge is not None:
            result.edges.append(edge)
    return result
