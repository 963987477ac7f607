"""A page's file questions read back from a submitted page.

A field of one file takes a newly chosen file in place of the old one. A field of several files works as GOV.UK's
"add another file": files already uploaded stay, newly chosen ones are added to them (the same file twice is listed
once), each has its own remove button (``xoa_tep`` = ``<field>:<file key>``), and the schema's ``maxItems`` holds —
a choice that would go past it is refused whole, in Vietnamese, and nothing of it is stored. Every file must be of a
kind the field accepts (``x-ui.accept``), by its content. Files let go of (removed
or replaced) are returned so that the caller can hand them to :func:`webapp.portal.uploads.discard`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.config import Settings
from webapp.portal import uploads
from webapp.portal.eform import Field
from webapp.portal.formatting import file_name


@dataclass
class Outcome:
    """What the page's files change: answers, errors by field, the names of removed files, the paths let go of."""

    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def file_key(path: str) -> str:
    """A short, stable key for one uploaded file (a remove button's value), which says nothing of the server's paths."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:16]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _too_many(f: Field, limit: int, have: int, chosen: int) -> str:
    if have >= limit:
        return (f"{f.title}: đã có đủ {limit} tệp, là số tệp tối đa. Xóa bớt tệp đã tải lên trước khi tải lên tệp "
                f"khác; {chosen} tệp vừa chọn chưa được lưu")
    return (f"{f.title}: chỉ được tải lên tối đa {limit} tệp. Ông/Bà đã có {have} tệp, chỉ có thể thêm {limit - have} "
            f"tệp nữa; {chosen} tệp vừa chọn chưa được lưu, vui lòng chọn lại")


def _several(f: Field, existing: list[str], chosen: list, settings: Settings, out: Outcome) -> None:
    limit = f.schema.get("maxItems")
    if isinstance(limit, int) and len(existing) + len(chosen) > limit:
        out.errors[f.name] = _too_many(f, limit, len(existing), len(chosen))
        return
    kept, refused = list(existing), []
    for upload in chosen:
        try:
            path = uploads.store(upload, settings, f.title, f.accept)
        except uploads.UploadRefused as reason:
            refused.append(f"{reason} ({file_name(upload.filename)})")
            continue
        if path not in kept:
            kept.append(path)
    if refused:  # the others are kept; the citizen is told which were not
        out.errors[f.name] = "; ".join(refused)
    if kept != existing:
        out.changes[f.name] = kept


def _one(f: Field, existing: list[str], chosen: list, settings: Settings, out: Outcome) -> None:
    try:
        path = uploads.store(chosen[0], settings, f.title, f.accept)
    except uploads.UploadRefused as reason:
        out.errors[f.name] = str(reason)
        return
    out.changes[f.name] = path
    out.dropped.extend(p for p in existing if p != path)


def read(fields: list[Field], answers: dict[str, Any], files: MultiDict, form: MultiDict,
         settings: Settings) -> Outcome:
    """The file answers of one submitted page, given the answers kept so far."""
    out = Outcome()
    remove_field, _, remove_key = form.get("xoa_tep", "").partition(":")
    for f in fields:
        if f.widget not in ("file", "files"):
            continue
        existing = _as_list(answers.get(f.name))
        chosen = [u for u in files.getlist(f.name) if u and u.filename]
        if chosen:
            (_several if f.widget == "files" else _one)(f, existing, chosen, settings, out)
        if f.name == remove_field and f.widget == "files":
            current = out.changes.get(f.name, existing)
            gone = [p for p in current if file_key(p) == remove_key]
            if gone:
                out.changes[f.name] = [p for p in current if p not in gone]
                out.removed.extend(file_name(p) for p in gone)
                out.dropped.extend(gone)
    return out
