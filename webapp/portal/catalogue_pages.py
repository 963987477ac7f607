"""The catalogue pages: search and filter procedures, read one procedure."""
from __future__ import annotations

from flask import abort, render_template, request

from engine import catalogue
from engine.errors import NotFound
from webapp.database import session as db_session
from webapp.portal import blueprint

MAX_QUERY = 200


@blueprint.get("/")
def home():
    """The portal's front page is the catalogue."""
    return catalogue_page()


@blueprint.get("/thu-tuc")
def catalogue_page():
    """Search the procedures (accents optional) and filter them by agency, field and level."""
    query = request.args.get("q", "")[:MAX_QUERY]
    agency, field_name, level = (request.args.get(k) or None for k in ("co_quan", "linh_vuc", "muc_do"))
    entries = catalogue.procedures(db_session())
    found = catalogue.search(entries, query, agency, field_name, level)
    return render_template("portal/catalogue.html", query=query, found=found, total=len(entries),
                           facets=catalogue.facets(entries), agency=agency, field_name=field_name, level=level)


@blueprint.get("/thu-tuc/<code>")
def procedure_page(code: str):
    """One procedure: who may apply, documents, steps, deadline, fee, result, legal basis, level."""
    try:
        procedure = catalogue.find(db_session(), code)
    except NotFound:
        abort(404)
    return render_template("portal/procedure.html", p=procedure, e=procedure.entry)
