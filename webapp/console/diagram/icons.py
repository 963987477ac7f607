"""The small drawings inside shapes: event triggers, task-type markers, gateway markers, loop and subprocess
markers. Simplified from the BPMN 2.0 notation, drawn at the size of the shape they sit in."""
from __future__ import annotations

import math

from webapp.console.diagram.text import INK, attrs, num

WHITE = "#ffffff"
Points = list[tuple[float, float]]


def _pts(points: Points, cx: float, cy: float, s: float) -> str:
    return " ".join(f"{num(cx + x * s)},{num(cy + y * s)}" for x, y in points)


def polygon(points: Points, cx: float, cy: float, s: float, fill: str, width: float = 1.5) -> str:
    """A polygon given around (0, 0), scaled by ``s`` and moved to (cx, cy)."""
    return f"<polygon{attrs(points=_pts(points, cx, cy, s), fill=fill, stroke=INK, stroke_width=num(width))}/>"


def line(x1: float, y1: float, x2: float, y2: float, width: float = 1.5, color: str = INK) -> str:
    """A straight line with round ends."""
    values = attrs(x1=num(x1), y1=num(y1), x2=num(x2), y2=num(y2), stroke=color, stroke_width=num(width),
                   stroke_linecap="round")
    return f"<line{values}/>"


def circle(cx: float, cy: float, r: float, fill: str = "none", width: float = 1.5, stroke: str = INK,
           **extra: object) -> str:
    """A circle outlined in ink (or in ``stroke``)."""
    values = attrs(cx=num(cx), cy=num(cy), r=num(r), fill=fill, stroke=stroke, stroke_width=num(width), **extra)
    return f"<circle{values}/>"


def _star(n: int, radius: float, start: float = -90.0) -> Points:
    return [(radius * math.cos(math.radians(start + i * 360 / n)), radius * math.sin(math.radians(start + i * 360 / n)))
            for i in range(n)]


_SHAPES: dict[str, Points] = {
    "error": [(-8, 9), (-3, -8), (2, 1), (8, -9), (4, 8), (-1, -1)],
    "signal": [(0, -10), (9, 7), (-9, 7)],
    "escalation": [(0, -10), (8, 9), (0, 2), (-8, 9)],
    "link": [(-9, -3), (2, -3), (2, -8), (10, 0), (2, 8), (2, 3), (-9, 3)],
    "multiple": _star(5, 10),
    "parallelMultiple": [(-3, -10), (3, -10), (3, -3), (10, -3), (10, 3), (3, 3), (3, 10), (-3, 10), (-3, 3),
                         (-10, 3), (-10, -3), (-3, -3)],
}


def _envelope(cx: float, cy: float, w: float, h: float, filled: bool, width: float = 1.2) -> str:
    x, y = cx - w / 2, cy - h / 2
    body = attrs(x=num(x), y=num(y), width=num(w), height=num(h), fill=INK if filled else WHITE, stroke=INK,
                 stroke_width=num(width))
    flap = f"M{num(x)},{num(y)} L{num(cx)},{num(cy + h * 0.1)} L{num(x + w)},{num(y)}"
    lines = attrs(d=flap, fill="none", stroke=WHITE if filled else INK, stroke_width=num(width))
    return f"<rect{body}/><path{lines}/>"


def event_icon(kind: str | None, cx: float, cy: float, r: float, filled: bool) -> str:
    """The trigger of an event (message, timer...) drawn inside its circle; black when it throws."""
    s = r / 18
    fill = INK if filled else WHITE
    if kind == "message":
        return _envelope(cx, cy, 18 * s, 12 * s, filled)
    if kind == "timer":
        ticks = "".join(line(cx + 9 * s * math.cos(a), cy + 9 * s * math.sin(a), cx + 11 * s * math.cos(a),
                              cy + 11 * s * math.sin(a), 1) for a in (i * math.pi / 6 for i in range(12)))
        return (circle(cx, cy, 11 * s, WHITE, 2 * s) + ticks + line(cx, cy, cx, cy - 8 * s, 1.5)
                + line(cx, cy, cx + 6 * s, cy + 2 * s, 1.5))
    if kind == "terminate":
        return circle(cx, cy, 10 * s, INK, 1)
    if kind == "conditional":
        lines = "".join(line(cx - 4 * s, cy + dy * s, cx + 4 * s, cy + dy * s, 1) for dy in (-5, -1, 3, 7))
        box = attrs(x=num(cx - 7 * s), y=num(cy - 9 * s), width=num(14 * s), height=num(18 * s), fill=WHITE,
                    stroke=INK, stroke_width="1.2")
        return f"<rect{box}/>{lines}"
    if kind == "compensate":
        return (polygon([(-10, 0), (-1, -7), (-1, 7)], cx, cy, s, fill)
                + polygon([(-1, 0), (8, -7), (8, 7)], cx, cy, s, fill))
    if kind == "cancel":
        return line(cx - 7 * s, cy - 7 * s, cx + 7 * s, cy + 7 * s, 4 * s) + line(cx + 7 * s, cy - 7 * s,
                                                                                   cx - 7 * s, cy + 7 * s, 4 * s)
    if kind in _SHAPES:
        return polygon(_SHAPES[kind], cx, cy, s, fill, 1.2)
    return ""  # a none event, or a trigger we do not know: the circle says enough


def task_marker(kind: str, x: float, y: float) -> str:
    """The small icon in the top-left corner of a task that says what kind of task it is."""
    if kind == "userTask":
        shoulders = f"M{num(x + 6)},{num(y + 25)} C{num(x + 6)},{num(y + 17)} {num(x + 22)},{num(y + 17)} " \
                    f"{num(x + 22)},{num(y + 25)} Z"
        return (f"<path{attrs(d=shoulders, fill=WHITE, stroke=INK, stroke_width='1.2')}/>"
                + circle(x + 14, y + 12, 4.5, WHITE, 1.2))
    if kind == "serviceTask":
        cx, cy = x + 14, y + 14
        teeth = "".join(line(cx + 5.5 * math.cos(a), cy + 5.5 * math.sin(a), cx + 8.5 * math.cos(a),
                              cy + 8.5 * math.sin(a), 2.6) for a in (i * math.pi / 4 for i in range(8)))
        return teeth + circle(cx, cy, 6, WHITE, 1.2) + circle(cx, cy, 2.5, WHITE, 1.2)
    if kind == "scriptTask":
        scroll = (f"M{num(x + 9)},{num(y + 6)} h11 c-4,4 4,8 0,14 h-11 c4,-6 -4,-10 0,-14 Z")
        lines = "".join(line(x + 11 + dx, y + dy, x + 17 + dx, y + dy, 1) for dx, dy in ((0, 10), (0.5, 13), (1, 16)))
        return f"<path{attrs(d=scroll, fill=WHITE, stroke=INK, stroke_width='1.2')}/>{lines}"
    if kind == "businessRuleTask":
        table = attrs(x=num(x + 6), y=num(y + 8), width="17", height="12", fill=WHITE, stroke=INK, stroke_width="1.2")
        header = attrs(x=num(x + 6), y=num(y + 8), width="17", height="4", fill=INK)
        return (f"<rect{table}/><rect{header}/>" + line(x + 11, y + 12, x + 11, y + 20, 1)
                + line(x + 6, y + 16, x + 23, y + 16, 1))
    if kind in ("sendTask", "receiveTask"):
        return _envelope(x + 15, y + 14, 18, 12, kind == "sendTask")
    if kind == "manualTask":
        hand = (f"M{num(x + 6)},{num(y + 22)} v-7 l5,-4 h12 M{num(x + 12)},{num(y + 14)} h10 "
                f"M{num(x + 12)},{num(y + 18)} h9 M{num(x + 9)},{num(y + 22)} h11")
        return f"<path{attrs(d=hand, fill='none', stroke=INK, stroke_width='1.3', stroke_linecap='round')}/>"
    return ""


def gateway_marker(kind: str, cx: float, cy: float, size: float, marker_visible: bool = True,
                   instantiate: bool = False) -> str:
    """The mark inside a gateway's diamond: X, +, O, an asterisk or the event-based pentagon."""
    s = size / 50
    if kind == "exclusiveGateway":
        if not marker_visible:
            return ""
        return (line(cx - 8 * s, cy - 8 * s, cx + 8 * s, cy + 8 * s, 4 * s)
                + line(cx + 8 * s, cy - 8 * s, cx - 8 * s, cy + 8 * s, 4 * s))
    if kind == "parallelGateway":
        return line(cx, cy - 11 * s, cx, cy + 11 * s, 4 * s) + line(cx - 11 * s, cy, cx + 11 * s, cy, 4 * s)
    if kind == "inclusiveGateway":
        return circle(cx, cy, 10 * s, "none", 2.5 * s)
    if kind == "complexGateway":
        return "".join(line(cx - dx * s, cy - dy * s, cx + dx * s, cy + dy * s, 3 * s)
                       for dx, dy in ((0, 11), (11, 0), (8, 8), (8, -8)))
    if kind == "eventBasedGateway":
        inner = "" if instantiate else circle(cx, cy, 9 * s, "none", 1)
        return circle(cx, cy, 12 * s, "none", 1) + inner + polygon(_star(5, 6.5), cx, cy, s, "none", 1.2)
    return ""


def _loop(kind: str, cx: float, cy: float) -> str:
    if kind == "standard":
        arc = f"M{num(cx - 4)},{num(cy + 4)} A5.5,5.5 0 1,1 {num(cx + 4)},{num(cy + 4)}"
        head = f"M{num(cx + 4)},{num(cy + 4)} l-1,-4 M{num(cx + 4)},{num(cy + 4)} l-4,0.5"
        values = attrs(d=f"{arc} {head}", fill="none", stroke=INK, stroke_width="1.5", stroke_linecap="round")
        return f"<path{values}/>"
    if kind == "parallel":
        return "".join(line(cx + dx, cy - 6, cx + dx, cy + 6, 2) for dx in (-4, 0, 4))
    if kind == "sequential":
        return "".join(line(cx - 6, cy + dy, cx + 6, cy + dy, 2) for dy in (-4, 0, 4))
    return ""


def _collapsed(cx: float, cy: float) -> str:
    box = attrs(x=num(cx - 7), y=num(cy - 7), width="14", height="14", fill=WHITE, stroke=INK, stroke_width="1.2")
    return f"<rect{box}/>" + line(cx - 4, cy, cx + 4, cy, 1.5) + line(cx, cy - 4, cx, cy + 4, 1.5)


def _tilde(cx: float, cy: float) -> str:
    values = attrs(d=f"M{num(cx - 7)},{num(cy + 2)} c3,-6 6,4 9,-1 s3,-3 5,-1", fill="none", stroke=INK,
                   stroke_width="1.5")
    return f"<path{values}/>"


def _compensate(cx: float, cy: float) -> str:
    return polygon([(-7, 0), (0, -5), (0, 5)], cx, cy, 1, "none", 1.2) + polygon([(0, 0), (7, -5), (7, 5)], cx, cy,
                                                                                   1, "none", 1.2)


def bottom_markers(loop: str | None, collapsed: bool, ad_hoc: bool, compensation: bool, cx: float,
                   bottom: float) -> str:
    """The row of markers at the bottom centre of an activity: loop, collapsed (+), ad hoc (~), compensation."""
    drawers = []
    if loop:
        drawers.append(lambda x, y: _loop(loop, x, y))
    if compensation:
        drawers.append(_compensate)
    if collapsed:
        drawers.append(_collapsed)
    if ad_hoc:
        drawers.append(_tilde)
    step = 18
    start = cx - step * (len(drawers) - 1) / 2
    return "".join(draw(start + i * step, bottom - 11) for i, draw in enumerate(drawers))
