"""Topic ``document``: render one of the dossier's documents as a PDF, chosen by the task's ``document_kind``.

The procedures set ``document_kind`` as a Camunda input parameter of each ``document`` task:

- ``mau-01``: Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Form 01) in ``receipt_document``, ``{code}-bien-nhan.pdf``;
- ``mau-02``: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Form 02) in ``supplement_document``, ``{code}-mau-02.pdf``;
- ``mau-03``: Phiếu từ chối tiếp nhận giải quyết hồ sơ (Form 03) in ``refusal_document``, ``{code}-mau-03.pdf``;
- ``mau-04``: Phiếu xin lỗi và hẹn lại ngày trả kết quả (Form 04) in ``apology_document``, ``{code}-mau-04.pdf``;
- ``mau-05``: Thông báo dừng giải quyết hồ sơ (Form 05) in ``stop_document``, ``{code}-mau-05.pdf``;
- ``ket-qua``: Kết quả giải quyết thủ tục hành chính (a system-generated record, not an official form) in
  ``result_document``, ``{code}-ket-qua.pdf``.

Without ``document_kind`` the task renders Form 01, as this worker did before the other forms existed. Each
document variable is ``{path, sha256, pages, filename, kind, title}``; the list ``dossier_documents`` gains
``{kind, title, filename, sha256, path}`` for it (replacing the entry with the same file name), so that every
page can list all the documents of a dossier. The forms are in :mod:`workers.documents`.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from engine.config import load_settings
from workers.documents import apology, receipt, refusal, result, stop, supplement
from workers.documents.base import Form
from workers.documents.pdf import (FONT_CANDIDATES, VN_TZ, FontNotFound, find_font, qr_code, status_url, vn_date,
                                   vn_moment)
from workers.errors import BpmnError

# the font, date and QR helpers lived here before the forms were split out; they stay importable from here
__all__ = ["TOPIC", "FORMS", "handle", "form_for", "write", "listed",
           "FONT_CANDIDATES", "VN_TZ", "FontNotFound", "find_font", "qr_code", "status_url", "vn_date", "vn_moment"]

TOPIC = "document"
DEFAULT_KIND = "mau-01"
FORMS: dict[str, Form] = {form.kind: form for form in (receipt.FORM, supplement.FORM, refusal.FORM, apology.FORM,
                                                        stop.FORM, result.FORM)}
LIST_VARIABLE = "dossier_documents"


def form_for(kind: Any) -> Form:
    """The form a ``document_kind`` names (Form 01 when it is empty); a BPMN error for an unknown kind."""
    name = str(kind).strip().lower() if kind is not None else ""
    form = FORMS.get(name or DEFAULT_KIND)
    if form is None:
        raise BpmnError("DOCUMENT_DATA", f"Không có mẫu văn bản '{kind}' (document_kind); các mẫu được hỗ trợ: "
                                         + ", ".join(FORMS))
    return form


def handle(variables: dict[str, Any], out_dir: str | Path | None = None) -> dict[str, Any]:
    """Render the document ``document_kind`` names into ``out_dir`` (default ``$MOTCUA_VAR_DIR/documents``) and
    return its variable and the updated ``dossier_documents``. Missing or unusable data is a BPMN error
    ``DOCUMENT_DATA`` whose message tells the officer what to fix."""
    form = form_for(variables.get("document_kind"))
    data = form.check(variables)
    pdf_bytes, pages = form.render(data, status_url(data["dossier_code"], variables.get("portal_url")))
    folder = Path(out_dir) if out_dir is not None else load_settings().var_dir / "documents"
    filename = form.filename(data["dossier_code"])
    path = write(folder, filename, pdf_bytes)
    sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    described = {"path": str(path), "sha256": sha256, "pages": pages, "filename": filename, "kind": form.kind,
                 "title": form.title}
    entry = {"kind": form.kind, "title": form.title, "filename": filename, "sha256": sha256, "path": str(path)}
    return {form.variable: described, LIST_VARIABLE: listed(variables.get(LIST_VARIABLE), entry)}


def write(folder: Path, filename: str, content: bytes) -> Path:
    """Write ``content`` to ``folder/filename`` atomically; the file's absolute path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    handle_, partial = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle_, "wb") as file:
            file.write(content)
        os.replace(partial, path)  # a reader never sees half a file; a retry overwrites cleanly
    finally:
        Path(partial).unlink(missing_ok=True)
    return path.resolve()


def listed(current: Any, entry: dict[str, Any]) -> list[Any]:
    """``current`` (the dossier's documents so far) with ``entry`` in place of the one with its file name, or
    appended; a value that is not a list starts a new one."""
    documents = list(current) if isinstance(current, list) else []
    for i, known in enumerate(documents):
        if isinstance(known, dict) and known.get("filename") == entry["filename"]:
            documents[i] = entry
            return documents
    return [*documents, entry]
