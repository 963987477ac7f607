"""Applying online: start (prefilled from the registry), one page per question group with an error summary,
answers and uploads kept on every page (files of a several-files field add up, each with its remove button), check
your answers, submit, the dossier code."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for

from engine import applications, catalogue
from engine.errors import FormValidationFailed, NotFound
from engine.forms import errors_vi
from webapp.database import session as db_session
from webapp.portal import blueprint, draft_pages, eform, file_answers, uploads
from webapp.portal.citizens import citizen_required, registry_profile


def _context(draft_id: str, owner: str):
    session = db_session()
    try:
        draft = applications.get(session, draft_id, owner)
        procedure = catalogue.find(session, draft.procedure_code)
    except NotFound:
        abort(404)
    schema = catalogue.start_form(session, procedure) or abort(404)
    return session, draft, procedure, schema, eform.pages(schema)


def _prefill(schema: dict, citizen: dict) -> dict:
    profile = registry_profile(citizen["so_dinh_danh"])
    known = {"citizen_id": citizen["so_dinh_danh"], "full_name": citizen.get("name"),
             "birth_date": citizen.get("birthdate"), **(profile.to_variables() if profile else {})}
    answers = {}
    for name, prop in (schema.get("properties") or {}).items():
        if "default" in prop and (prop.get("x-ui") or {}).get("widget") != "hidden":
            answers[name] = prop["default"]
        source = ((prop.get("x-ui") or {}).get("prefill") or "").removeprefix("citizen.")
        if source and known.get(source):
            answers[name] = known[source]
    return answers


@blueprint.get("/nop-ho-so/<code>")
@citizen_required
def apply_start(code: str):
    """Start (or resume) an application for a procedure."""
    citizen = g.citizen
    session = db_session()
    try:
        procedure = catalogue.find(session, code)
    except NotFound:
        abort(404)
    schema = catalogue.start_form(session, procedure) or abort(404)
    draft = next((d for d in applications.open_drafts(session, citizen["so_dinh_danh"])
                  if d.procedure_code == procedure.code), None)
    if draft is None:
        try:
            draft = applications.start(session, citizen["so_dinh_danh"], procedure, _prefill(schema, citizen))
        except applications.TooManyDrafts:
            return draft_pages.too_many_drafts_page()
        session.commit()
    return redirect(url_for("portal.apply_page", draft_id=draft.id, number=1))


@blueprint.route("/don/<draft_id>/trang/<int:number>", methods=["GET", "POST"])
@citizen_required
def apply_page(draft_id: str, number: int):
    """One page of questions; answers and files are kept even when another answer is wrong."""
    citizen = g.citizen
    session, draft, procedure, schema, form_pages = _context(draft_id, citizen["so_dinh_danh"])
    if draft.submitted_code:  # Back after submitting: the answers now belong to the dossier
        return redirect(url_for("portal.dossier_page", code=draft.submitted_code), 303)
    if not 1 <= number <= len(form_pages):
        abort(404)
    page = form_pages[number - 1]
    answers = applications.answers(draft)
    errors: dict[str, str] = {}
    extra_rows, removed = {}, []
    if request.method == "POST":
        changes = eform.read(page.fields, request.form)
        settings = current_app.extensions["motcua"].settings
        files = file_answers.read(page.fields, answers, request.files, request.form, settings)
        errors, removed = dict(files.errors), files.removed
        answers = applications.save(draft, {**changes, **files.changes})
        uploads.discard(session, settings, files.dropped)  # deleted after the commit, if nothing else names them
        session.commit()  # nothing typed or uploaded is lost, whatever the checks below say
        if request.form.get("them_dong"):
            extra_rows[request.form["them_dong"]] = 1
        elif not request.form.get("xoa_tep"):  # a remove button only removes: the page stays, unchecked
            errors = {**errors_vi(schema, answers, only={f.name for f in page.fields}), **errors}
            if not errors:
                if number < len(form_pages) and request.form.get("kiem_tra") != "1":
                    return redirect(url_for("portal.apply_page", draft_id=draft.id, number=number + 1))
                return redirect(url_for("portal.apply_check", draft_id=draft.id))
    return render_template("portal/application_page.html", procedure=procedure, page=page, number=number,
                           total=len(form_pages), answers=answers, errors=errors, extra_rows=extra_rows,
                           draft=draft, date_parts=eform.date_parts, returning=request.args.get("kiem_tra"),
                           removed=removed), \
        400 if errors else 200


@blueprint.get("/don/<draft_id>/kiem-tra")
@citizen_required
def apply_check(draft_id: str):
    """Check your answers, with a change link for each."""
    citizen = g.citizen
    _, draft, procedure, schema, form_pages = _context(draft_id, citizen["so_dinh_danh"])
    if draft.submitted_code:
        return redirect(url_for("portal.apply_done", draft_id=draft.id))
    return render_template("portal/application_check.html", procedure=procedure, pages=form_pages, draft=draft,
                           answers=applications.answers(draft), shown=eform.shown, errors={})


@blueprint.post("/don/<draft_id>/nop")
@citizen_required
def apply_submit(draft_id: str):
    """Submit: the whole form is checked; then the procedure starts and the dossier gets its code."""
    citizen = g.citizen
    session, draft, procedure, schema, form_pages = _context(draft_id, citizen["so_dinh_danh"])
    answers = applications.answers(draft)
    errors = errors_vi(schema, {**answers, "citizen_id": citizen["so_dinh_danh"]})
    errors = {k: v for k, v in errors.items() if k.split(".")[0] not in ("dossier_code", "procedure_name", "channel")}
    if not errors:
        try:
            applications.submit(session, draft, procedure)
            session.commit()
            return redirect(url_for("portal.apply_done", draft_id=draft.id))
        except FormValidationFailed as failed:
            session.rollback()
            errors = {e.field: e.message for e in failed.errors}
    where = {f.name: i for i, p in enumerate(form_pages, start=1) for f in p.fields}
    return render_template("portal/application_check.html", procedure=procedure, pages=form_pages, draft=draft,
                           answers=answers, shown=eform.shown, errors=errors, where=where), 400


@blueprint.get("/don/<draft_id>/xong")
@citizen_required
def apply_done(draft_id: str):
    """The confirmation: the dossier code and what happens next."""
    citizen = g.citizen
    _, draft, procedure, _, _ = _context(draft_id, citizen["so_dinh_danh"])
    if not draft.submitted_code:
        return redirect(url_for("portal.apply_check", draft_id=draft.id))
    return render_template("portal/application_done.html", procedure=procedure, code=draft.submitted_code)
