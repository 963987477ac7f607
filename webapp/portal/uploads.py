"""Documents citizens upload: checked by content (PDF, JPEG, PNG, or fewer where the form's field declares the kinds
it accepts — not by the name they carry), limited in size, stored outside the web root under their SHA-256, with the
original name kept for people to read; and deleted once nothing refers to them any more (a file removed from a
draft, the files of a supplement the page refused) — after the commit that lets go of them, never before, and never
while a draft or a dossier names them."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from engine import forms, upload_refs
from engine.config import Settings

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
# content's first bytes → the file's kind (its MIME type, as a form's accept names it), extension, name for people
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf", "PDF"), (b"\xff\xd8\xff", "image/jpeg", ".jpg", "JPEG"),
              (b"\x89PNG\r\n\x1a\n", "image/png", ".png", "PNG"))
NAMES = {mime: name for _, mime, _, name in SIGNATURES}
EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}  # as named


class UploadRefused(ValueError):
    """A file that is not accepted, with the reason in Vietnamese."""


def folder(settings: Settings) -> Path:
    """Where uploads are kept (``MOTCUA_UPLOADS_DIR``, else ``var/uploads``): the esign worker reads there."""
    return settings.uploads_dir or settings.var_dir / "uploads"


def _safe_name(name: str, extension: str) -> str:
    stem = unicodedata.normalize("NFC", Path(name or "tai-lieu").stem)
    stem = re.sub(r"[^\w\- ]+", "", stem, flags=re.UNICODE).strip()[:80] or "tai-lieu"
    return stem + extension


def type_names(mimes: Iterable[str]) -> str:
    """The kinds of file in words for people: ``PDF, JPEG hoặc PNG`` (none named: all of them)."""
    names = [NAMES.get(m, m) for m in mimes] or [NAMES[m] for m in forms.FILE_TYPES]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " hoặc " + names[-1]


def accept_attribute(mimes: Iterable[str]) -> str:
    """A file input's ``accept`` for these kinds (extensions first: some phones only match those)."""
    mimes = list(mimes)
    return ",".join([extension for m in mimes for extension in EXTENSIONS.get(m, ())] + mimes)


def store(upload: FileStorage, settings: Settings, title: str, accept: Iterable[str] = forms.FILE_TYPES) -> str:
    """Keep an uploaded file whose content is one of the ``accept`` kinds (MIME types, as
    :func:`engine.forms.accepted_types` reads a field's); return its path. :class:`UploadRefused` for an empty, too
    large or foreign file, or one of another kind than the field takes, whatever its name says."""
    data = upload.stream.read(MAX_BYTES + 1)
    if not data:
        raise UploadRefused(f"Tệp {title.lower()} trống; chọn lại tệp")
    if len(data) > MAX_BYTES:
        raise UploadRefused(f"Tệp {title.lower()} lớn hơn 10 MB")
    wanted = set(accept)
    accept = [mime for mime in forms.FILE_TYPES if mime in wanted]
    mime, extension = next(((m, ext) for magic, m, ext, _ in SIGNATURES if data.startswith(magic)), (None, None))
    if mime not in accept:
        found = f"; tệp đã chọn là {NAMES[mime]}" if mime else ""
        raise UploadRefused(f"Tệp {title.lower()} phải là {type_names(accept)}{found}")
    digest = hashlib.sha256(data).hexdigest()
    target = folder(settings) / digest[:2] / digest / _safe_name(upload.filename or "", extension)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return str(target.resolve())


# Files a transaction let go of, by uploads folder: deleted after its commit (engine.upload_refs says whether
# anything still names them), forgotten on a rollback (the reference is back, the file must stay).
_DISCARDED = "motcua.discarded_uploads"


def discard(session: Session, settings: Settings, paths: list[str]) -> None:
    """Files the session's transaction stops referring to (a file removed from a draft, a replaced one): once the
    transaction has committed, each is deleted unless something in the database still names it."""
    if paths:
        session.info.setdefault(_DISCARDED, {}).setdefault(folder(settings), set()).update(p for p in paths if p)


def delete_unused(session: Session, settings: Settings, paths: list[str]) -> list[str]:
    """Delete the stored files among ``paths`` that nothing in the database names, checked with ``session`` (whose
    transaction must not have named them itself: files a request stored but did not record, such as those of a
    supplement the page refused); return the deleted ones. Never raises: a file that cannot be checked or deleted
    stays."""
    return _delete({folder(settings): set(p for p in paths if p)}, session)


def _delete(pending: dict[Path, set[str]], session: Session) -> list[str]:
    deleted = []
    try:
        candidates = {}
        for root, paths in pending.items():
            root = root.resolve()
            for path in paths:
                resolved = Path(path).resolve()
                if resolved.is_relative_to(root) and upload_refs.digest_of(str(resolved)) and resolved.is_file():
                    candidates[path] = dt.datetime.fromtimestamp(resolved.stat().st_mtime, dt.timezone.utc)
        named = upload_refs.referenced(session, candidates, candidates) if candidates else set()
        for path in candidates.keys() - named:
            Path(path).unlink(missing_ok=True)
            _prune(Path(path).parent)
            deleted.append(path)
    except Exception:  # noqa: BLE001 — the command's outcome stands; a file left behind is only disk space
        log.exception("could not delete unused uploads")
    return deleted


def _prune(digest_folder: Path) -> None:
    """Remove the file's digest folder (and its two-letter parent) once empty."""
    for empty in (digest_folder, digest_folder.parent):
        try:
            empty.rmdir()
        except OSError:
            return


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.get_nested_transaction() is None:  # a savepoint's release is not the commit
        pending = session.info.pop(_DISCARDED, None)
        if pending:  # the session cannot run SQL in after_commit: a short one of its own reads the committed rows
            with Session(bind=session.get_bind()) as check:
                _delete(pending, check)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, *_) -> None:
    session.info.pop(_DISCARDED, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # closed without a commit (a commit has emptied it already)
        session.info.pop(_DISCARDED, None)
