"""Files let go of are deleted only after the commit that lets go of them: a rollback (or a savepoint's release
alone) keeps them, a file a draft still names is kept, a path outside the uploads folder is never touched."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from engine import db
from engine.citizen_models import ApplicationDraft
from webapp.portal import uploads

PDF = b"%PDF-1.4\n%%EOF\n"


def keep(settings, content: bytes = PDF, name: str = "to-khai.pdf") -> str:
    return uploads.store(FileStorage(io.BytesIO(content), name), settings, "Tờ khai")


def draft_naming(session, path: str) -> ApplicationDraft:
    now = dt.datetime.now(dt.timezone.utc)
    row = ApplicationDraft(id=str(uuid.uuid4()), owner_id="001099012345", procedure_code="x", process_key="x",
                           data=json.dumps({"document": path}), created_at=now, updated_at=now)
    session.add(row)
    return row


def let_go(factory, settings):
    """A kept file, a committed draft naming it, and an open session in which the draft lets go of it."""
    path = keep(settings)
    with db.transaction(factory) as session:
        row = draft_naming(session, path)
    session = factory()
    session.get(ApplicationDraft, row.id).data = "{}"
    uploads.discard(session, settings, [path])
    return path, session


def test_a_file_let_go_of_is_deleted_after_the_commit_not_before(factory, settings):
    path, session = let_go(factory, settings)
    with session:
        session.flush()
        assert Path(path).is_file()  # not yet: the transaction could still roll back
        session.commit()
    assert not Path(path).exists()
    assert not (settings.var_dir / "uploads" / hashlib.sha256(PDF).hexdigest()[:2]).exists()


def test_a_rolled_back_let_go_keeps_the_file(factory, settings):
    path, session = let_go(factory, settings)
    with session:
        session.rollback()
        session.commit()  # a later commit of the same session does not delete what the rollback gave back
    assert Path(path).is_file()


def test_a_savepoint_released_is_not_the_commit(factory, settings):
    path = keep(settings)
    with factory() as session:
        with session.begin_nested():
            uploads.discard(session, settings, [path])
        assert Path(path).is_file()
        session.rollback()
    assert Path(path).is_file()


def test_a_file_a_draft_still_names_is_kept(factory, settings):
    path = keep(settings)
    with db.transaction(factory) as session:
        draft_naming(session, path)
    with factory() as session:
        uploads.discard(session, settings, [path])
        session.commit()
    assert Path(path).is_file()


def test_only_files_in_the_uploads_folder_are_deleted(factory, settings, tmp_path):
    digest = hashlib.sha256(b"x").hexdigest()
    outside = tmp_path / "elsewhere" / digest[:2] / digest / "mau-01.pdf"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(PDF)
    with factory() as session:
        assert uploads.delete_unused(session, settings, [str(outside)]) == []
    assert outside.is_file()


def test_a_field_that_declares_its_types_takes_only_those_by_content(settings):
    jpeg = b"\xff\xd8\xff\xe0 photo"
    only_pdf = ("application/pdf",)
    with pytest.raises(uploads.UploadRefused) as refused:  # a JPEG named .pdf is still a JPEG
        uploads.store(FileStorage(io.BytesIO(jpeg), "giay-chung-sinh.pdf"), settings, "Giấy chứng sinh", only_pdf)
    assert str(refused.value) == "Tệp giấy chứng sinh phải là PDF; tệp đã chọn là JPEG"
    with pytest.raises(uploads.UploadRefused, match="^Tệp ảnh phải là JPEG hoặc PNG$"):
        uploads.store(FileStorage(io.BytesIO(b"MZ\x90\x00"), "a.png"), settings, "Ảnh", ("image/jpeg", "image/png"))
    assert not (settings.var_dir / "uploads").exists()  # nothing refused is kept
    assert uploads.store(FileStorage(io.BytesIO(PDF), "a.pdf"), settings, "Tờ khai", only_pdf).endswith("a.pdf")
    assert uploads.store(FileStorage(io.BytesIO(jpeg), "a.jpg"), settings, "Ảnh").endswith("a.jpg")  # undeclared
    assert uploads.type_names(("application/pdf", "image/jpeg", "image/png")) == "PDF, JPEG hoặc PNG"
