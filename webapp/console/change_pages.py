"""Changing running instances from the console: move a token of one instance (form, preview in words, confirm),
and migrate the running instances of a version to a newer version of the same procedure (choose the version,
preview the element mapping and which instances can move, confirm, see the report of what moved and what did
not). Every change is an operator's act with a reason, kept in the history and the audit log by the engine."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from engine import modification, queries, version_migration
from engine.errors import BadInput, Conflict, NotFound
from webapp import reasons
from webapp.console import ANALYST, blueprint, console_actor, page, role_required
from webapp.database import session as db_session


@blueprint.app_template_global()
def move_choices(instance_id: str) -> dict:
    """The choices of the move form on an instance page: where its tokens are, and every element of its
    definition (empty when it cannot be read)."""
    try:
        return modification.choices(db_session(), instance_id)
    except (BadInput, Conflict):
        return {"from": [], "to": []}


def _move_form() -> tuple[dict[str, str], dict[str, str]]:
    values = {k: (request.form.get(k) or "").strip() for k in ("tu", "den", "ly_do")}
    errors: dict[str, str] = {}
    if not values["tu"]:
        errors["tu"] = "Chọn bước đang có token cần di chuyển"
    if not values["den"]:
        errors["den"] = "Chọn bước đích"
    values["ly_do"] = reasons.check(errors, "ly_do", values["ly_do"], "di chuyển token") or ""
    return values, errors


def _instance(instance_id: str) -> dict:
    try:
        return queries.instance(db_session(), instance_id)
    except NotFound:
        abort(404)


@blueprint.get("/ho-so/<instance_id>/di-chuyen")
@role_required(ANALYST)
def move_form(instance_id: str):
    """The move form on a page of its own."""
    return page("console/move.html", d=_instance(instance_id), values={}, errors={}, plan=None)


@blueprint.post("/ho-so/<instance_id>/di-chuyen/xem-truoc")
@role_required(ANALYST)
def move_preview(instance_id: str):
    """What the move would do, in words, with the button that does it."""
    d = _instance(instance_id)
    values, errors = _move_form()
    plan = None
    if not errors:
        try:
            plan = modification.preview_move(db_session(), instance_id, values["tu"], values["den"])
        except (BadInput, Conflict) as err:
            errors["den"] = err.message
    return page("console/move.html", 400 if errors else 200, d=d, values=values, errors=errors, plan=plan)


@blueprint.post("/ho-so/<instance_id>/di-chuyen")
@role_required(ANALYST)
def move_token(instance_id: str):
    """Move the token as previewed; back to the instance page."""
    d = _instance(instance_id)
    values, errors = _move_form()
    db = db_session()
    if not errors:
        try:
            plan = modification.move(db, instance_id, values["tu"], values["den"], console_actor(), values["ly_do"])
        except (BadInput, Conflict) as err:
            db.rollback()
            errors["den"] = err.message
    if errors:
        return page("console/move.html", 400, d=d, values=values, errors=errors, plan=None)
    db.commit()
    flash(f"Đã di chuyển token từ {plan.source.label} đến {plan.target.label}.")
    return redirect(url_for("console.instance_page", instance_id=instance_id))


def _versions(definition_id: str) -> tuple[dict, list[dict]]:
    """The definition and the newer versions of its key (newest first); 404 for an unknown definition."""
    every = queries.definitions(db_session())
    source = next((d for d in every if d["id"] == definition_id), None)
    if source is None:
        abort(404)
    newer = [d for d in every if d["key"] == source["key"] and d["version"] > source["version"]]
    return source, newer


@blueprint.get("/quy-trinh/<definition_id>/chuyen-phien-ban")
@role_required(ANALYST)
def migration_preview(definition_id: str):
    """Choose the version to migrate to; with one chosen (``den``), the mapping and the instances that can and
    cannot move."""
    source, newer = _versions(definition_id)
    target_id = request.args.get("den") or (newer[0]["id"] if newer else "")
    errors, preview = {}, None
    if not newer:
        errors["den"] = "Chưa có phiên bản nào mới hơn: triển khai phiên bản mới trước"
    elif target_id not in {d["id"] for d in newer}:
        errors["den"] = "Chọn một phiên bản mới hơn của cùng quy trình"
    else:
        preview = version_migration.preview(db_session(), definition_id, target_id)
    return page("console/migration.html", 400 if errors else 200, source=source, newer=newer, target_id=target_id,
                preview=preview, errors=errors, values={})


@blueprint.post("/quy-trinh/<definition_id>/chuyen-phien-ban")
@role_required(ANALYST)
def migrate(definition_id: str):
    """Migrate the chosen instances (those ticked on the preview) and show the report."""
    source, newer = _versions(definition_id)
    target_id = request.form.get("den") or ""
    chosen = request.form.getlist("phien_chay")
    errors: dict[str, str] = {}
    if target_id not in {d["id"] for d in newer}:
        abort(404)
    if not chosen:
        errors["phien_chay"] = "Chọn ít nhất một phiên chạy để chuyển"
    reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "chuyển phiên bản") or ""
    db = db_session()
    if errors:
        return page("console/migration.html", 400, source=source, newer=newer, target_id=target_id,
                    preview=version_migration.preview(db, definition_id, target_id), errors=errors,
                    values={"ly_do": reason, "phien_chay": chosen})
    report = version_migration.migrate(db, definition_id, target_id, console_actor(), chosen, reason)
    db.commit()
    return page("console/migration_report.html", source=source, target_id=target_id, report=report,
                codes=_codes(report["migrated"] + [r["id"] for r in report["not_migrated"]]), errors={})


def _codes(instance_ids: list[str]) -> dict[str, str]:
    """The dossier code (business key) of each instance, for the report."""
    codes = {}
    for instance_id in instance_ids:
        try:
            codes[instance_id] = queries.instance(db_session(), instance_id)["businessKey"] or instance_id[:8]
        except NotFound:
            codes[instance_id] = instance_id
    return codes
