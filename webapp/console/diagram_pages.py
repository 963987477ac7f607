"""Diagrams in the console, drawn on the server from the file's BPMNDI: a version with its waiting tokens and
open incidents per element, or with the heatmap of where dossiers wait longest (median and p90 from history);
one instance with the path it took and where it waits."""
from __future__ import annotations

from flask import abort, request

from engine import console_queries, diagram_data, queries
from engine.errors import NotFound
from webapp.console import ANALYST, blueprint, page, role_required
from webapp.console import diagram
from webapp.database import session as db_session

MEASURES = {"median": "trung vị", "p90": "phân vị 90"}


@blueprint.get("/quy-trinh/<definition_id>")
@role_required(ANALYST)
def definition_page(definition_id: str):
    """A version's diagram: tokens and incidents per element, or (``?xem=nhiet&do=p90``) the heatmap."""
    db = db_session()
    try:
        name, xml = console_queries.definition_file(db, definition_id)
    except NotFound:
        abort(404)
    definition = next(d for d in queries.definitions(db) if d["id"] == definition_id)
    heat = request.args.get("xem") == "nhiet"
    measure = request.args.get("do") if request.args.get("do") in MEASURES else "median"
    durations = diagram_data.durations(db, definition_id=definition_id) if heat else {}
    if heat:
        seconds = {k: (v.p90_seconds if measure == "p90" else v.median_seconds) for k, v in durations.items()}
        overlays = diagram.heat_overlays(seconds, label=MEASURES[measure])
    else:
        overlays = diagram_data.definition_counts(db, definition_id)
    svg = diagram.render(xml, overlays, title=f"{definition['name'] or definition['key']} — phiên bản "
                                              f"{definition['version']}")
    rows = sorted(durations.items(), key=lambda kv: -kv[1].p90_seconds)
    return page("console/definition.html", d=definition, svg=svg, heat=heat, measure=measure, measures=MEASURES,
                durations=rows, text=diagram.duration_text, counts=overlays if not heat else {})


def instance_diagram(instance_id: str, definition_id: str) -> str | None:
    """The instance's diagram with its path and where it waits (None when the file has no diagram)."""
    db = db_session()
    try:
        _, xml = console_queries.definition_file(db, definition_id)
        return diagram.render(xml, diagram_data.instance_path(db, instance_id).overlays(),
                              title="Đường đi của hồ sơ")
    except diagram.DiagramError:
        return None
