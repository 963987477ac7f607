"""Following dossiers: "Hồ sơ của tôi", one dossier's story for its owner, and the public look-up by dossier
code plus the owner's identification number (both must match; rate limited; the same answer for any miss)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask import abort, current_app, g, redirect, render_template, request, send_file, url_for

from engine import citizen_dossiers, rate_limits
from engine.errors import NotFound
from webapp.database import session as db_session
from webapp.portal import blueprint, uploads
from webapp.portal.citizens import citizen_required

LOOKUP_WINDOW = dt.timedelta(minutes=10)
CODE = re.compile(r"^[A-Za-z0-9.\-]{5,60}$")


@blueprint.get("/ho-so-cua-toi")
@citizen_required
def my_dossiers():
    """The signed-in citizen's dossiers, newest first, with their status in words and due date."""
    citizen = g.citizen
    from engine import applications, catalogue
    session = db_session()
    names = {p.code: p.name for p in catalogue.procedures(session)}
    drafts = [{"id": d.id, "procedure": names.get(d.procedure_code, d.procedure_code), "updated_at": d.updated_at,
               "created_at": d.created_at}
              for d in applications.open_drafts(session, citizen["so_dinh_danh"])]
    return render_template("portal/my_dossiers.html", drafts=drafts,
                           dossiers=citizen_dossiers.owned(session, citizen["so_dinh_danh"]))


@blueprint.get("/ho-so/<code>")
@citizen_required
def dossier_page(code: str):
    """One of the citizen's own dossiers; another citizen's code is a 404, as is a code that does not exist."""
    citizen = g.citizen
    try:
        story = citizen_dossiers.story(db_session(), code, citizen["so_dinh_danh"])
    except NotFound:
        abort(404)
    return render_template("portal/dossier.html", d=story)


@blueprint.get("/tra-cuu/<code>")
def lookup_code(code: str):
    """Where the receipt's QR code leads: the look-up form with the code filled in."""
    return render_template("portal/lookup.html", errors={}, values={"ma_ho_so": code[:60]})


def _own_file(code: str, key, folders: list[Path], download_name: str):
    """A file the citizen's own dossier names under ``key`` (the receipt, the result; or a function of the story),
    if it lies in one of ``folders``."""
    try:
        story = citizen_dossiers.story(db_session(), code, g.citizen["so_dinh_danh"])
    except NotFound:
        abort(404)
    path = key(story) if callable(key) else story.get(key)
    if not path or not Path(path).is_file() or not any(Path(path).resolve().is_relative_to(f.resolve())
                                                        for f in folders):
        abort(404)
    return send_file(Path(path).resolve(), as_attachment=True, download_name=download_name + Path(path).suffix)


@blueprint.get("/ho-so/<code>/giay-tiep-nhan.pdf")
@citizen_required
def receipt(code: str):
    """The receipt and appointment slip (Form 01) of the citizen's own dossier."""
    settings = current_app.extensions["motcua"].settings
    return _own_file(code, "receipt", [settings.var_dir / "documents"], f"{code}-giay-tiep-nhan")


@blueprint.get("/ho-so/<code>/ket-qua")
@citizen_required
def result(code: str):
    """The delivered result (an electronic document) of the citizen's own dossier."""
    settings = current_app.extensions["motcua"].settings
    return _own_file(code, "result", [uploads.folder(settings), settings.var_dir / "documents"], f"{code}-ket-qua")


@blueprint.get("/ho-so/<code>/van-ban/<kind>.pdf")
@citizen_required
def notice(code: str, kind: str):
    """A notice the procedure issued to the citizen on their own dossier (Forms 02-05)."""
    settings = current_app.extensions["motcua"].settings
    return _own_file(code, lambda story: next((d["path"] for d in story["documents"] if d["kind"] == kind), None),
                     [settings.var_dir / "documents"], f"{code}-{kind}")


@blueprint.route("/tra-cuu", methods=["GET", "POST"])
def lookup():
    """Anyone may look a dossier up with its code and the owner's identification number."""
    if request.method == "GET":
        return render_template("portal/lookup.html", errors={}, values={})
    values = {"ma_ho_so": request.form.get("ma_ho_so", "").strip(), "so_dinh_danh": request.form.get("so_dinh_danh", "").strip()}
    session = db_session()
    limit = current_app.extensions["motcua"].settings.lookup_limit
    if not rate_limits.allow(session, f"lookup:{request.remote_addr}", limit, LOOKUP_WINDOW,
                             dt.datetime.now(dt.timezone.utc)):
        session.commit()
        abort(429)
    session.commit()  # the attempt counts whatever the answer
    errors = {}
    if not CODE.match(values["ma_ho_so"]):
        errors["ma_ho_so"] = "Nhập mã hồ sơ như in trên Giấy tiếp nhận, ví dụ 000.00.00.H56-261201-0001"
    if not (len(values["so_dinh_danh"]) == 12 and values["so_dinh_danh"].isdigit()):
        errors["so_dinh_danh"] = "Nhập số định danh cá nhân của người nộp hồ sơ, gồm 12 chữ số"
    if errors:
        return render_template("portal/lookup.html", errors=errors, values=values), 400
    try:
        story = citizen_dossiers.story(session, values["ma_ho_so"], values["so_dinh_danh"])
    except NotFound:
        return render_template("portal/lookup.html", values=values, not_found=True,
                               errors={"ma_ho_so": "Không tìm thấy hồ sơ khớp với mã hồ sơ và số định danh đã nhập"}), 404
    return render_template("portal/dossier.html", d=story, public=True)


@blueprint.route("/ho-so/<code>/bo-sung", methods=["GET", "POST"])
@citizen_required
def supplement(code: str):
    """Answer a supplement request: one file for each missing item (and, if asked, the signed document again)."""
    citizen = g.citizen
    session = db_session()
    try:
        story = citizen_dossiers.story(session, code, citizen["so_dinh_danh"])
        task = citizen_dossiers.citizen_task(session, code, citizen["so_dinh_danh"])
    except NotFound:
        abort(404)
    if task is None:
        return redirect(url_for("portal.dossier_page", code=code))
    errors: dict[str, str] = {}
    chosen: dict[str, str] = {}
    note = request.form.get("ghi_chu_bo_sung", "").strip()
    replace_signed = request.form.get("thay_giay_to_ky_so") == "1"
    if request.method == "POST":
        settings = current_app.extensions["motcua"].settings
        files = []
        for i, item in enumerate(story["missing"] or ["Giấy tờ bổ sung"]):
            upload = request.files.get(f"tep-{i}")
            if not upload or not upload.filename:
                errors[f"tep-{i}"] = f"Tải lên tệp cho mục: {item}"
                continue
            try:
                files.append({"ten": item, "tep": uploads.store(upload, settings, item)})
                # the browser forgets chosen files when the page comes back with errors: name them to choose again
                chosen[f"tep-{i}"] = upload.filename
            except uploads.UploadRefused as refused:
                errors[f"tep-{i}"] = str(refused)
        stored = [f["tep"] for f in files]
        if errors:  # the citizen chooses the files again: those stored now are nobody's, unless another names them
            uploads.delete_unused(session, settings, stored)
        else:
            variables = {"giay_to_bo_sung": files, **({"ghi_chu_bo_sung": note[:2000]} if note else {})}
            if replace_signed:
                variables["document"] = files[0]["tep"]  # the re-signed document the signature check reads
            try:
                citizen_dossiers.answer(session, code, citizen["so_dinh_danh"], variables)
                session.commit()
            except Exception:
                session.rollback()
                uploads.delete_unused(session, settings, stored)
                raise
            return redirect(url_for("portal.dossier_page", code=code))
    return render_template("portal/supplement.html", d=story, errors=errors, note=note, replace_signed=replace_signed,
                           chosen=chosen), 400 if errors else 200


@blueprint.route("/ho-so/<code>/danh-gia", methods=["GET", "POST"])
@citizen_required
def rate(code: str):
    """Rate the service once the result has been delivered (once per dossier)."""
    from engine import ratings
    from engine.errors import Conflict
    citizen = g.citizen
    session = db_session()
    try:
        story = citizen_dossiers.story(session, code, citizen["so_dinh_danh"])
    except NotFound:
        abort(404)
    if story["status"] != 10 or story["rated"]:
        return redirect(url_for("portal.dossier_page", code=code))
    answers, errors = dict(request.form), {}
    if request.method == "POST":
        errors = ratings.errors_in(answers)
        if not errors:
            try:
                ratings.rate(session, code, citizen["so_dinh_danh"], answers, dt.datetime.now(dt.timezone.utc))
                session.commit()
            except Conflict:
                session.rollback()
            return redirect(url_for("portal.dossier_page", code=code, da_danh_gia=1))
    return render_template("portal/rating.html", d=story, questions=ratings.QUESTIONS, answers=answers,
                           errors=errors), 400 if errors else 200
