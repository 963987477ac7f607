"""Documents citizens upload: checked by content (PDF, JPEG, PNG — not by the name they carry), limited in
size, stored outside the web root under their SHA-256, with the original name kept for people to read."""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from werkzeug.datastructures import FileStorage

from engine.config import Settings

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = ((b"%PDF-", ".pdf"), (b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))


class UploadRefused(ValueError):
    """A file that is not accepted, with the reason in Vietnamese."""


def folder(settings: Settings) -> Path:
    """Where uploads are kept (``MOTCUA_UPLOADS_DIR``, else ``var/uploads``): the esign worker reads there."""
    return settings.uploads_dir or settings.var_dir / "uploads"


def _safe_name(name: str, extension: str) -> str:
    stem = unicodedata.normalize("NFC", Path(name or "tai-lieu").stem)
    stem = re.sub(r"[^\w\- ]+", "", stem, flags=re.UNICODE).strip()[:80] or "tai-lieu"
    return stem + extension


def store(upload: FileStorage, settings: Settings, title: str) -> str:
    """Keep an uploaded file; return its path. :class:`UploadRefused` for an empty, too large or foreign file."""
    data = upload.stream.read(MAX_BYTES + 1)
    if not data:
        raise UploadRefused(f"Tệp {title.lower()} trống; chọn lại tệp")
    if len(data) > MAX_BYTES:
        raise UploadRefused(f"Tệp {title.lower()} lớn hơn 10 MB")
    extension = next((ext for magic, ext in SIGNATURES if data.startswith(magic)), None)
    if extension is None:
        raise UploadRefused(f"Tệp {title.lower()} phải là PDF, JPEG hoặc PNG")
    digest = hashlib.sha256(data).hexdigest()
    target = folder(settings) / digest[:2] / digest / _safe_name(upload.filename or "", extension)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return str(target.resolve())
