"""What the console lays over a diagram: count badges (active tokens in blue, open incidents in red), the
path one instance took and where it waits, and a heat colour per element.

An overlay is given per element id as a dict (or :class:`Overlay`)::

    {"active": 3, "incidents": 1, "highlight": "path" | "waiting" | None, "heat": 0.0..1.0,
     "badge_text": "p90: 2 ngày"}

Every key is optional; wrong values are ignored rather than refused, so a console page never breaks on
odd data. Sequence flows take ``highlight: "path"`` too.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from webapp.console.diagram.model import Box
from webapp.console.diagram.text import FONT, attrs, esc, num, text_width

ACTIVE = "#1d4ed8"  # blue: tokens waiting at the element
INCIDENT = "#b91c1c"  # red: open incidents
PATH = "#15803d"  # green: the path an instance took
WAITING = "#c2410c"  # orange: where the instance waits now
NOTE = "#374151"  # grey: free badge text
HIGHLIGHTS = ("path", "waiting")
_HEAT_STOPS = ((0.0, (255, 255, 255)), (0.35, (254, 240, 138)), (0.7, (251, 146, 60)), (1.0, (239, 68, 68)))


@dataclass(frozen=True)
class Overlay:
    """What to show on one element."""

    active: int = 0
    incidents: int = 0
    highlight: str | None = None
    heat: float | None = None
    badge_text: str | None = None


def _count(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0


def _heat(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return min(1.0, max(0.0, number)) if math.isfinite(number) else None


def normalise(overlays: Mapping[str, Mapping | Overlay] | None) -> dict[str, Overlay]:
    """Overlays by element id, with every value checked (counts ≥ 0, heat in 0..1, known highlights)."""
    out: dict[str, Overlay] = {}
    for element_id, raw in (overlays or {}).items():
        if isinstance(raw, Overlay):
            out[str(element_id)] = raw
            continue
        if not isinstance(raw, Mapping):
            continue
        highlight = raw.get("highlight")
        badge = raw.get("badge_text")
        out[str(element_id)] = Overlay(active=_count(raw.get("active")), incidents=_count(raw.get("incidents")),
                                       highlight=highlight if highlight in HIGHLIGHTS else None,
                                       heat=_heat(raw.get("heat")),
                                       badge_text=str(badge)[:60] if badge not in (None, "") else None)
    return out


def heat_colour(value: float) -> str:
    """A fill colour for a heat from 0 (white) through yellow and orange to 1 (red)."""
    for (low, a), (high, b) in zip(_HEAT_STOPS, _HEAT_STOPS[1:]):
        if value <= high:
            t = (value - low) / (high - low)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))
    return "#ef4444"


def stroke(overlay: Overlay | None) -> tuple[str, float] | None:
    """The outline colour and width of a highlighted element, or None."""
    if overlay is None or overlay.highlight is None:
        return None
    return (WAITING, 3.5) if overlay.highlight == "waiting" else (PATH, 3.0)


def _pill_width(text: str) -> float:
    return text_width(text, 11) * 1.15 + 12  # bold text runs about 15% wider than the estimate


def _pill(right: float, cy: float, text: str, fill: str, kind: str, title: str) -> tuple[str, float]:
    """A rounded badge whose right end is at ``right``; returns it and its left end."""
    size = 11
    width = max(18.0, _pill_width(text))
    left = right - width
    body = attrs(x=num(left), y=num(cy - 9), width=num(width), height="18", rx="9", fill=fill)
    label = attrs(x=num(left + width / 2), y=num(cy + 4), font_family=FONT, font_size=str(size), font_weight="bold",
                  text_anchor="middle", fill="#ffffff")
    return (f'<g data-overlay="{kind}"><title>{esc(title)}</title><rect{body}/><text{label}>{esc(text)}</text></g>',
            left)


def draw(element_id: str, box: Box, overlay: Overlay, rounded: float) -> str:
    """The badges and the waiting outline of one element, drawn above everything else."""
    parts = []
    if overlay.highlight == "waiting":
        ring = box.grow(5)
        values = attrs(x=num(ring.x), y=num(ring.y), width=num(ring.w), height=num(ring.h), rx=num(rounded + 5),
                       fill="none", stroke=WAITING, stroke_width="2", stroke_dasharray="6,3")
        parts.append(f'<rect data-overlay="waiting"{values}/>')
    right = box.right + 8
    if overlay.active:
        pill, right = _pill(right, box.y, str(overlay.active), ACTIVE, "active",
                            f"{overlay.active} hồ sơ đang ở bước này")
        parts.append(pill)
        right -= 3
    if overlay.incidents:
        pill, right = _pill(right, box.y, str(overlay.incidents), INCIDENT, "incidents",
                            f"{overlay.incidents} sự cố chưa xử lý")
        parts.append(pill)
    if overlay.badge_text:
        pill, _ = _pill(box.x - 8 + max(18.0, _pill_width(overlay.badge_text)), box.bottom, overlay.badge_text,
                        NOTE, "badge", overlay.badge_text)
        parts.append(pill)
    if not parts:
        return ""
    return f'<g data-overlay-for="{esc(element_id)}">{"".join(parts)}</g>'


def duration_text(seconds: float) -> str:
    """A duration as an officer reads it: '< 1 phút', '45 phút', '3 giờ 10 phút', '2 ngày 4 giờ'."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "< 1 phút"
    if minutes < 60:
        return f"{minutes} phút"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    days, hours = divmod(hours, 24)
    return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"


def heat_overlays(seconds: Mapping[str, float], label: str = "p90") -> dict[str, dict]:
    """Heat overlays from a time per element (e.g. the p90 wait): the slowest element is red, and each shows
    its time as a badge (``label``: what the time is, e.g. 'p90' or 'trung vị')."""
    values = {k: float(v) for k, v in seconds.items() if v is not None and math.isfinite(float(v)) and v >= 0}
    top = max(values.values(), default=0.0)
    return {k: {"heat": (v / top) if top > 0 else 0.0, "badge_text": f"{label}: {duration_text(v)}"}
            for k, v in values.items()}
