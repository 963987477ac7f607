"""What a document is (:class:`Form`) and the checks of the variables every document reads.

Missing or unusable data is a BPMN error ``DOCUMENT_DATA`` whose Vietnamese message tells the officer what to
fix; the task's error boundary (or the incident list) shows it.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workers.documents.pdf import VN_TZ
from workers.errors import BpmnError

REQUIRED = {"dossier_code": "mã hồ sơ", "applicant_name": "tên người nộp hồ sơ", "procedure_name": "tên thủ tục"}
OPTIONAL = ("citizen_id", "applicant_address", "applicant_phone", "applicant_email", "receiving_agency",
            "parent_agency", "handling_agency", "receiving_officer", "place", "signed_by")
DESK = "Bộ phận Tiếp nhận và Trả kết quả"
HANDLER = "Cơ quan giải quyết thủ tục hành chính"
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


@dataclass(frozen=True)
class Form:
    """One kind of document: its ``document_kind``, the variable it is returned in, its title, the end of its
    file name, and the functions that check the variables and draw the PDF (given the status page URL)."""

    kind: str
    variable: str
    title: str
    suffix: str
    check: Callable[[dict[str, Any]], dict[str, Any]]
    render: Callable[[dict[str, Any], str], tuple[bytes, int]]

    def filename(self, dossier_code: str) -> str:
        """``{dossier_code}-{suffix}.pdf``."""
        return f"{dossier_code}-{self.suffix}.pdf"


def text(value: Any) -> str:
    """A variable as NFC text (decomposed input would otherwise render as loose combining marks)."""
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def moment(variables: dict[str, Any], name: str, default: dt.date | None) -> dt.date | None:
    """A date or date-time variable in Vietnam time (``default`` when empty); a bare date stays a date."""
    value = variables.get(name)
    if value in (None, ""):
        return default
    raw = str(value).strip()
    try:  # Camunda's "2026-03-05T14:30:00.000+0700" parses too; a bare date stays a date (no "0 giờ")
        parsed = value if isinstance(value, dt.date) else (
            dt.date.fromisoformat(raw) if len(raw) == 10 else dt.datetime.fromisoformat(raw))
    except ValueError:
        raise BpmnError("DOCUMENT_DATA", f"Giá trị thời gian '{value}' của {name} không hợp lệ") from None
    if isinstance(parsed, dt.datetime):
        parsed = parsed.astimezone(VN_TZ) if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)
    return parsed


def now() -> dt.datetime:
    """The current moment in Vietnam time, to the second (the date of a document no variable dates)."""
    return dt.datetime.now(VN_TZ).replace(microsecond=0)


def common(variables: dict[str, Any], what: str) -> dict[str, Any]:
    """The applicant, the dossier and the agencies, normalised; ``what`` names the document in the message
    about missing data (``Thiếu thông tin để in {what}: …``)."""
    missing = [label for name, label in REQUIRED.items() if not text(variables.get(name))]
    if missing:
        raise BpmnError("DOCUMENT_DATA", f"Thiếu thông tin để in {what}: " + ", ".join(missing))
    data = {name: text(variables.get(name)) for name in (*REQUIRED, *OPTIONAL)}
    if not _SAFE_CODE.fullmatch(data["dossier_code"]):
        raise BpmnError("DOCUMENT_DATA", f"Mã hồ sơ '{data['dossier_code']}' chứa ký tự không hợp lệ")
    return data


def required_text(variables: dict[str, Any], names: tuple[str, ...], what: str) -> str:
    """The first non-empty of ``names`` (a reason, say); a BPMN error naming the first one otherwise."""
    for name in names:
        value = text(variables.get(name))
        if value:
            return value
    raise BpmnError("DOCUMENT_DATA", f"Thiếu {what} ({names[0]})")


def text_list(variables: dict[str, Any], name: str, what: str) -> list[str]:
    """A list variable of texts (an item may also be ``{name|ten, note|ghi_chu}``); empty items are dropped."""
    value = variables.get(name) or []
    if not isinstance(value, list):
        raise BpmnError("DOCUMENT_DATA", f"{what} ({name}) phải là một danh sách")
    items = []
    for item in value:
        if isinstance(item, dict):
            label, note = text(item.get("name") or item.get("ten")), text(item.get("note") or item.get("ghi_chu"))
            items.append(f"{label} ({note})" if label and note else label or note)
        else:
            items.append(text(item))
    return [item for item in items if item]


def applicant_lines(data: dict[str, Any]) -> list[str]:
    """Who applied: name, identification number, address, phone and e-mail (the optional ones when known)."""
    return [
        f"Ông/Bà: {data['applicant_name']}",
        f"Số định danh cá nhân: {data['citizen_id']}" if data["citizen_id"] else "",
        f"Địa chỉ: {data['applicant_address']}" if data["applicant_address"] else "",
        "   ".join(filter(None, [f"Số điện thoại: {data['applicant_phone']}" if data["applicant_phone"] else "",
                                 f"Email: {data['applicant_email']}" if data["applicant_email"] else ""])),
    ]


def desk_issuer(data: dict[str, Any]) -> list[tuple[str, bool]]:
    """The header of the desk's forms (01-03): the parent agency over the receiving and result desk."""
    return [(data["parent_agency"], False), (DESK, True)]


def agency_issuer(data: dict[str, Any]) -> list[tuple[str, bool]]:
    """The header of the settling agency's documents (04, 05, the result)."""
    return [(data["parent_agency"], False), (agency(data), True)]


def agency(data: dict[str, Any]) -> str:
    """The settling agency as the body text names it."""
    return data["handling_agency"] or data["receiving_agency"] or HANDLER
