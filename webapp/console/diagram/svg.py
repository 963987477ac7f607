"""Drawing a parsed diagram as one SVG document, with overlays.

Only presentation attributes are used (no ``<style>``, no ``style=``), so the SVG shows the same inline in a
page under a strict Content-Security-Policy, as an ``<img>``, or opened on its own; no script, no external
reference. Every element is a ``<g data-element-id="…" data-kind="…">``; marker ids carry a prefix so two
diagrams can share a page. The same diagram and overlays always give the same text.
"""
from __future__ import annotations

import hashlib
import re

from webapp.console.diagram import icons, overlay as overlays_
from webapp.console.diagram.model import Box, Diagram, Edge, Shape
from webapp.console.diagram.parse import DATA, EVENTS, GATEWAYS, SUBPROCESSES, TASKS
from webapp.console.diagram.text import FONT, INK, attrs, block, centred, esc, fit, num

WHITE = "#ffffff"
MARGIN = 30
LABEL_SIZE = 11
NAME_SIZE = 12
UNKNOWN_FILL, UNKNOWN_INK = "#f3f4f6", "#6b7280"


def _layer(shape: Shape) -> int:
    """Drawing order: pools, lanes, open subprocesses, (flows), other nodes, boundary events, groups."""
    if shape.kind == "participant":
        return 0
    if shape.kind == "lane":
        return 1
    if shape.kind in SUBPROCESSES and shape.expanded:
        return 2
    if shape.kind == "boundaryEvent":
        return 5
    return 6 if shape.kind == "group" else 4


def _rect(box: Box, rx: float = 0, **extra: object) -> str:
    values = attrs(x=num(box.x), y=num(box.y), width=num(box.w), height=num(box.h), rx=num(rx) if rx else None,
                   **extra)
    return f"<rect{values}/>"


def external_label(shape: Shape) -> tuple[Box, list[str]] | None:
    """Where the name of an event, gateway or data element goes (below it unless the modeler placed it)."""
    if not shape.name:
        return None
    if shape.label is not None:
        width = max(shape.label.w, 40.0)
        lines = fit(shape.name, width, max(shape.label.h, LABEL_SIZE * 1.2) + LABEL_SIZE * 2.4, LABEL_SIZE)
        return Box(shape.label.cx - width / 2, shape.label.y, width, len(lines) * LABEL_SIZE * 1.2), lines
    width = max(90.0, shape.box.w * 1.6)
    lines = fit(shape.name, width, LABEL_SIZE * 1.2 * 4, LABEL_SIZE)
    return Box(shape.box.cx - width / 2, shape.box.bottom + 5, width, len(lines) * LABEL_SIZE * 1.2), lines


def edge_label(edge: Edge) -> tuple[Box, list[str]] | None:
    """Where the name of a flow goes: its modeler-placed bounds, or beside the middle of its middle segment."""
    if not edge.name:
        return None
    if edge.label is not None:
        width = max(edge.label.w, 40.0)
        lines = fit(edge.name, width, max(edge.label.h, LABEL_SIZE * 1.2) + LABEL_SIZE * 2.4, LABEL_SIZE)
        return Box(edge.label.cx - width / 2, edge.label.y, width, len(lines) * LABEL_SIZE * 1.2), lines
    i = max(0, (len(edge.points) - 1) // 2)
    (x1, y1), (x2, y2) = edge.points[i], edge.points[i + 1]
    lines = fit(edge.name, 90, LABEL_SIZE * 1.2 * 3, LABEL_SIZE)
    height = len(lines) * LABEL_SIZE * 1.2
    return Box((x1 + x2) / 2 - 45 + 6, (y1 + y2) / 2 - height - 3, 90, height), lines


def _external(shape: Shape) -> str:
    placed = external_label(shape)
    if placed is None:
        return ""
    box, lines = placed
    return block(lines, box.cx, box.y, LABEL_SIZE)


def _fill(ov: overlays_.Overlay | None, default: str = WHITE) -> str:
    return overlays_.heat_colour(ov.heat) if ov is not None and ov.heat is not None else default


def _ink(ov: overlays_.Overlay | None, width: float) -> tuple[str, float]:
    marked = overlays_.stroke(ov)
    return (marked[0], max(width, marked[1])) if marked else (INK, width)


def _activity(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box, kind = shape.box, shape.kind
    base = 3.5 if kind == "callActivity" else 1.5
    colour, width = _ink(ov, base)
    dash = "6,4" if shape.triggered_by_event else None
    parts = [_rect(box, 10, fill=_fill(ov), stroke=colour, stroke_width=num(width), stroke_dasharray=dash)]
    if kind == "transaction":
        parts.append(_rect(box.grow(-3), 7, fill="none", stroke=colour, stroke_width="1.2"))
    if kind in TASKS:
        parts.append(icons.task_marker(kind, box.x, box.y))
    if shape.expanded:
        parts.append(block(fit(shape.name, box.w - 16, 3 * NAME_SIZE * 1.2, NAME_SIZE), box.x + 8, box.y + 5,
                           NAME_SIZE, anchor="start"))
    else:
        bottom = 16 if shape.loop or shape.compensation or kind in SUBPROCESSES else 4
        room = Box(box.x + 5, box.y + 4, box.w - 10, box.h - 4 - bottom)
        parts.append(centred(shape.name, room.cx, room.cy, room.w, room.h, NAME_SIZE))
    collapsed = kind in SUBPROCESSES and not shape.expanded
    parts.append(icons.bottom_markers(shape.loop, collapsed, kind == "adHocSubProcess", shape.compensation, box.cx,
                                      box.bottom))
    return "".join(parts)


def _event(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    r = min(box.w, box.h) / 2
    cx, cy = box.cx, box.cy
    dash = None if shape.interrupting else "5.5,3"
    marked = overlays_.stroke(ov)
    colour, fill = (marked[0] if marked else INK), _fill(ov)
    if shape.kind == "startEvent":
        parts = [icons.circle(cx, cy, r, fill, 3 if marked else 2, colour, stroke_dasharray=dash)]
    elif shape.kind == "endEvent":
        parts = [icons.circle(cx, cy, r - 1.5, fill, 4, colour)]
    else:
        parts = [icons.circle(cx, cy, r, fill, 2.5 if marked else 1.5, colour, stroke_dasharray=dash),
                 icons.circle(cx, cy, r - 3, "none", 1.5, colour, stroke_dasharray=dash)]
    parts.append(icons.event_icon(shape.event, cx, cy, r, shape.throwing))
    parts.append(_external(shape))
    return "".join(parts)


def _gateway(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    colour, width = _ink(ov, 1.5)
    points = f"{num(box.cx)},{num(box.y)} {num(box.right)},{num(box.cy)} {num(box.cx)},{num(box.bottom)} " \
             f"{num(box.x)},{num(box.cy)}"
    diamond = f"<polygon{attrs(points=points, fill=_fill(ov), stroke=colour, stroke_width=num(width))}/>"
    marker = icons.gateway_marker(shape.kind, box.cx, box.cy, min(box.w, box.h), shape.marker_visible,
                                  shape.instantiate)
    return diamond + marker + _external(shape)


def _data(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    colour, width = _ink(ov, 1.5)
    paint = attrs(fill=_fill(ov), stroke=colour, stroke_width=num(width))
    if shape.kind == "dataStoreReference":
        ry = min(8.0, box.h / 6)
        body = (f"M{num(box.x)},{num(box.y + ry)} A{num(box.w / 2)},{num(ry)} 0 0,0 {num(box.right)},{num(box.y + ry)} "
                f"V{num(box.bottom - ry)} A{num(box.w / 2)},{num(ry)} 0 0,1 {num(box.x)},{num(box.bottom - ry)} Z")
        rims = "".join(
            "<path" + attrs(d=f"M{num(box.x)},{num(y)} A{num(box.w / 2)},{num(ry)} 0 0,0 {num(box.right)},{num(y)}",
                            fill="none", stroke=colour, stroke_width="1.2") + "/>"
            for y in (box.y + 2 * ry, box.y + 3 * ry))
        top = attrs(cx=num(box.cx), cy=num(box.y + ry), rx=num(box.w / 2), ry=num(ry), fill=_fill(ov), stroke=colour,
                    stroke_width=num(width))
        return f"<path{attrs(d=body)}{paint}/><ellipse{top}/>{rims}{_external(shape)}"
    fold = min(12.0, box.w / 3)
    page = (f"M{num(box.x)},{num(box.y)} H{num(box.right - fold)} L{num(box.right)},{num(box.y + fold)} "
            f"V{num(box.bottom)} H{num(box.x)} Z")
    corner = f"M{num(box.right - fold)},{num(box.y)} V{num(box.y + fold)} H{num(box.right)}"
    fold_line = attrs(d=corner, fill="none", stroke=colour, stroke_width="1.2")
    parts = [f"<path{attrs(d=page)}{paint}/>", f"<path{fold_line}/>"]
    if shape.kind in ("dataInput", "dataOutput"):
        arrow = [(-5, -2), (0, -2), (0, -5), (5, 0), (0, 5), (0, 2), (-5, 2)]
        parts.append(icons.polygon(arrow, box.x + 9, box.y + 8, 1, INK if shape.kind == "dataOutput" else WHITE, 1))
    if shape.collection:
        parts.extend(icons.line(box.cx + dx, box.bottom - 12, box.cx + dx, box.bottom - 4, 2) for dx in (-4, 0, 4))
    parts.append(_external(shape))
    return "".join(parts)


def _annotation(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    colour, width = _ink(ov, 1.5)
    bracket = f"M{num(box.x + 12)},{num(box.y)} H{num(box.x)} V{num(box.bottom)} H{num(box.x + 12)}"
    lines = fit(shape.name, box.w - 10, box.h - 6, LABEL_SIZE)
    text = block(lines, box.x + 5, box.y + 4, LABEL_SIZE, anchor="start")
    return f"<path{attrs(d=bracket, fill='none', stroke=colour, stroke_width=num(width))}/>{text}"


def _group(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    colour, width = _ink(ov, 1.5)
    frame = _rect(box, 10, fill="none", stroke=colour, stroke_width=num(width), stroke_dasharray="10,4,2,4")
    if not shape.name:
        return frame
    if shape.label is not None:
        return frame + centred(shape.name, shape.label.cx, shape.label.cy, max(shape.label.w, 60), shape.label.h + 24,
                               LABEL_SIZE)
    return frame + block(fit(shape.name, box.w - 10, LABEL_SIZE * 2.4, LABEL_SIZE), box.cx, box.y + 4, LABEL_SIZE)


def _vertical_name(name: str, band: Box, size: float) -> str:
    """A pool's or lane's name written upwards, centred in its header band."""
    if not name:
        return ""
    lines = fit(name, band.h - 10, band.w - 4, size)
    text = block(lines, band.cx, band.cy - len(lines) * size * 1.2 / 2, size)
    return f'<g transform="rotate(-90 {num(band.cx)} {num(band.cy)})">{text}</g>'


def _swimlane(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    pool = shape.kind == "participant"
    colour, width = _ink(ov, 1.5 if pool else 1.0)
    frame = _rect(box, fill=_fill(ov, WHITE if pool else "none"), stroke=colour, stroke_width=num(width))
    if not shape.horizontal:
        band = Box(box.x, box.y, box.w, 30)
        divider = icons.line(box.x, box.y + 30, box.right, box.y + 30, width) if pool else ""
        return frame + divider + centred(shape.name, band.cx, band.cy, band.w - 10, band.h, NAME_SIZE)
    band = Box(box.x, box.y, 30, box.h)
    divider = icons.line(box.x + 30, box.y, box.x + 30, box.bottom, width) if pool else ""
    return frame + divider + _vertical_name(shape.name, band, NAME_SIZE)


def _unknown(shape: Shape, ov: overlays_.Overlay | None) -> str:
    box = shape.box
    colour, width = _ink(ov, 1.2)
    frame = _rect(box, 4, fill=_fill(ov, UNKNOWN_FILL), stroke=UNKNOWN_INK if colour == INK else colour,
                  stroke_width=num(width), stroke_dasharray="4,3")
    label = shape.name + (f"\n({shape.tag})" if shape.tag and shape.tag != shape.name else "")
    return frame + centred(label, box.cx, box.cy, box.w - 8, box.h - 4, LABEL_SIZE)


def _body(shape: Shape, ov: overlays_.Overlay | None) -> str:
    kind = shape.kind
    if kind in TASKS or kind in SUBPROCESSES:
        return _activity(shape, ov)
    if kind in EVENTS:
        return _event(shape, ov)
    if kind in GATEWAYS:
        return _gateway(shape, ov)
    if kind in DATA:
        return _data(shape, ov)
    if kind == "textAnnotation":
        return _annotation(shape, ov)
    if kind == "group":
        return _group(shape, ov)
    if kind in ("participant", "lane"):
        return _swimlane(shape, ov)
    return _unknown(shape, ov)


def _element(element_id: str, kind: str, name: str, ov: overlays_.Overlay | None, body: str) -> str:
    tip = name.replace("\n", " ")
    if ov is not None and ov.badge_text:
        tip = f"{tip} — {ov.badge_text}" if tip else ov.badge_text
    title = f"<title>{esc(tip)}</title>" if tip else ""
    highlight = ov.highlight if ov is not None else None
    values = attrs(data_element_id=element_id, data_kind=kind, data_highlight=highlight, class_=f"bpmn-el bpmn-{kind}")
    return f"<g{values}>{title}{body}</g>"


def _edge(edge: Edge, ov: overlays_.Overlay | None, prefix: str) -> str:
    path = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in edge.points)
    on_path = ov is not None and ov.highlight in overlays_.HIGHLIGHTS
    colour, width = (overlays_.PATH, 3.0) if on_path else (INK, 1.5)
    style: dict[str, object] = dict(fill="none", stroke=colour, stroke_width=num(width), stroke_linejoin="round")
    extra = ""
    if edge.kind == "sequenceFlow":
        style["marker_end"] = f"url(#{prefix}-arrow{'-path' if on_path else ''})"
        (x1, y1), (x2, y2) = edge.points[0], edge.points[1]
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        nx, ny = -uy, ux
        if edge.default:
            px, py = x1 + ux * 10, y1 + uy * 10
            extra = icons.line(px - ux * 3 - nx * 6, py - uy * 3 - ny * 6, px + ux * 3 + nx * 6, py + uy * 3 + ny * 6,
                                1.5, colour)
        elif edge.conditional:
            diamond = [(x1, y1), (x1 + ux * 8 + nx * 5, y1 + uy * 8 + ny * 5), (x1 + ux * 16, y1 + uy * 16),
                       (x1 + ux * 8 - nx * 5, y1 + uy * 8 - ny * 5)]
            values = attrs(points=" ".join(f"{num(x)},{num(y)}" for x, y in diamond), fill=WHITE, stroke=colour,
                           stroke_width="1.5")
            extra = f"<polygon{values}/>"
    elif edge.kind == "messageFlow":
        style.update(stroke_dasharray="10,6", marker_start=f"url(#{prefix}-circle)", marker_end=f"url(#{prefix}-open)")
    elif edge.kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
        style.update(stroke_dasharray="1,5", stroke_linecap="round")
        if edge.kind != "association" or edge.direction in ("one", "both"):
            style["marker_end"] = f"url(#{prefix}-line)"
        if edge.direction == "both":
            style["marker_start"] = f"url(#{prefix}-line)"
    else:
        style.update(stroke=UNKNOWN_INK, stroke_width="1", stroke_dasharray="4,3")
    placed = edge_label(edge)
    label = block(placed[1], placed[0].cx, placed[0].y, LABEL_SIZE) if placed else ""
    return _element(edge.element_id, edge.kind, edge.name, ov, f"<path{attrs(d=path, **style)}/>{extra}{label}")


def _defs(prefix: str) -> str:
    def marker(name: str, body: str, ref_x: float, size: float = 20, orient: str = "auto") -> str:
        return (f'<marker id="{prefix}-{name}" viewBox="0 0 20 20" refX="{num(ref_x)}" refY="10" '
                f'markerWidth="{num(size)}" markerHeight="{num(size)}" markerUnits="userSpaceOnUse" '
                f'orient="{orient}">{body}</marker>')
    arrow = '<path d="M1,5 L11,10 L1,15 Z" fill="{0}" stroke="{0}" stroke-width="1" stroke-linejoin="round"/>'
    return ("<defs>" + marker("arrow", arrow.format(INK), 11) + marker("arrow-path", arrow.format(overlays_.PATH), 11)
            + marker("open", f'<path d="M1,5 L11,10 L1,15 Z" fill="{WHITE}" stroke="{INK}" stroke-width="1"/>', 11)
            + marker("circle", f'<circle cx="6" cy="10" r="3.5" fill="{WHITE}" stroke="{INK}" stroke-width="1"/>', 6)
            + marker("line", f'<path d="M1,5 L11,10 L1,15" fill="none" stroke="{INK}" stroke-width="1.5"/>', 11,
                     orient="auto-start-reverse")
            + "</defs>")


def _extent(diagram: Diagram) -> Box:
    boxes = [s.box for s in diagram.shapes]
    for shape in diagram.shapes:
        placed = external_label(shape) if shape.kind in EVENTS | GATEWAYS | DATA else None
        if placed:
            boxes.append(placed[0])
    for edge in diagram.edges:
        boxes.append(Box.around(edge.points))
        placed = edge_label(edge)
        if placed:
            boxes.append(placed[0])
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    x1, y1 = max(b.right for b in boxes), max(b.bottom for b in boxes)
    return Box(x0 - MARGIN, y0 - MARGIN, x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN)


def _prefix(diagram: Diagram, given: str | None) -> str:
    if given:
        return re.sub(r"[^A-Za-z0-9_-]", "-", given) or "bpmn"
    seed = "\x1f".join([diagram.diagram_id, *(s.element_id for s in diagram.shapes)])
    return "bpmn-" + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:10]


def draw(diagram: Diagram, overlays: dict | None = None, *, title: str | None = None,
         id_prefix: str | None = None) -> str:
    """The diagram as an SVG document (text), with ``overlays`` by element id (see :mod:`.overlay`)."""
    ov = overlays_.normalise(overlays)
    prefix = _prefix(diagram, id_prefix)
    label = title or f"Sơ đồ quy trình: {diagram.name}"
    view = _extent(diagram)
    ordered = sorted(enumerate(diagram.shapes),
                     key=lambda p: (_layer(p[1]), -(p[1].box.w * p[1].box.h) if _layer(p[1]) == 2 else 0, p[0]))
    nodes = [_element(s.element_id, s.kind, s.name, ov.get(s.element_id), _body(s, ov.get(s.element_id)))
             for _, s in ordered]
    under = sum(1 for _, s in ordered if _layer(s) < 3)
    edges = [_edge(e, ov.get(e.element_id), prefix) for e in diagram.edges]
    badges = []
    for shape in diagram.shapes:
        if shape.element_id in ov:
            rounded = 10 if shape.kind in TASKS | SUBPROCESSES else 0
            badges.append(overlays_.draw(shape.element_id, shape.box, ov[shape.element_id], rounded))
    head = attrs(xmlns="http://www.w3.org/2000/svg",
                 viewBox=f"{num(view.x)} {num(view.y)} {num(view.w)} {num(view.h)}", width=num(view.w),
                 height=num(view.h), role="img", aria_label=label, class_="bpmn-diagram",
                 data_diagram_id=diagram.diagram_id, font_family=FONT)
    background = _rect(view, fill=WHITE)
    return (f"<svg{head}><title id=\"{prefix}-title\">{esc(label)}</title>{_defs(prefix)}{background}"
            f"{''.join(nodes[:under])}<g class=\"bpmn-flows\">{''.join(edges)}</g>{''.join(nodes[under:])}"
            f"<g class=\"bpmn-overlays\">{''.join(badges)}</g></svg>")
