"""Process diagrams drawn on the server: BPMN XML with its BPMNDI in, SVG out, no JavaScript.

For a console page::

    from webapp.console import diagram
    svg = diagram.render(xml_bytes, overlays)            # str, an <svg> document; raises diagram.DiagramError

or, to draw the same file several times (counts, then one instance's path)::

    model = diagram.parse(xml_bytes)                     # diagram.parse(xml, diagram="BPMNDiagram_2") for another
    svg = diagram.draw(model, overlays, title="…")

``overlays`` maps element ids (nodes and sequence flows) to ``{"active": n, "incidents": n,
"highlight": "path" | "waiting" | None, "heat": 0..1, "badge_text": "…"}`` (see :mod:`.overlay`); the engine's
:mod:`engine.diagram_data` returns dicts of that shape, and :func:`heat_overlays` turns times per element
into heat overlays. The SVG is safe to inline (all text escaped, no script, no ``style``) and deterministic.
"""
from __future__ import annotations

from webapp.console.diagram.model import Diagram
from webapp.console.diagram.overlay import Overlay, duration_text, heat_overlays
from webapp.console.diagram.parse import DiagramError, diagrams, parse
from webapp.console.diagram.svg import draw

__all__ = ["Diagram", "DiagramError", "Overlay", "diagrams", "draw", "duration_text", "heat_overlays", "parse",
           "render"]


def render(xml: bytes | str, overlays: dict | None = None, *, diagram: str | None = None, title: str | None = None,
           id_prefix: str | None = None) -> str:
    """The SVG of a BPMN file's diagram (the first one, or the one with id ``diagram``) with ``overlays``.
    Raises :class:`DiagramError` (a ``BadInput``, HTTP 400) when the file is not BPMN or has no diagram."""
    return draw(parse(xml, diagram), overlays, title=title, id_prefix=id_prefix)
