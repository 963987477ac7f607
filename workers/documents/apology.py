"""Form 04: the apology and new appointment (Phiếu xin lỗi và hẹn lại ngày trả kết quả).

Mẫu số 04 of Circular 01/2018/TT-VPCP bears this name; Circular 03/2025/TT-VPCP reportedly renames it "Văn
bản xin lỗi và đề nghị gia hạn thời gian giải quyết" [secondary]. The structure — addressee, the dossier
received and its appointment, the delay, its reason, the apology, the new date, the recipients and the
leader's signature — follows deployed systems' renderings; the official wording of either circular was not
read, so it is unverified.

Reads the leader's form ``apology-letter``: ``late_reason`` and ``new_due_date`` (required), and
``apology_signed_by`` (else ``signed_by``); ``received_at`` and ``appointment_at`` when known; the date is
``issued_at`` (default: now).
"""
from __future__ import annotations

from typing import Any

from workers.documents import base, pdf
from workers.errors import BpmnError

TITLE = "Phiếu xin lỗi và hẹn lại ngày trả kết quả"


def check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables of the apology."""
    data = base.common(variables, "phiếu xin lỗi")
    data["reason"] = base.required_text(variables, ("late_reason",), "lý do chậm trả kết quả")
    data["new_due"] = base.moment(variables, "new_due_date", None)
    if data["new_due"] is None:
        raise BpmnError("DOCUMENT_DATA", "Thiếu ngày hẹn trả kết quả mới (new_due_date)")
    data["signer"] = base.text(variables.get("apology_signed_by")) or data["signed_by"]
    data["received_at"] = base.moment(variables, "received_at", None)
    data["appointment_at"] = base.moment(variables, "appointment_at", None)
    data["issued_at"] = base.moment(variables, "issued_at", base.now())
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The apology as PDF bytes and its page count."""
    issued, who = data["issued_at"], base.agency(data)
    received, appointment = data["received_at"], data["appointment_at"]
    doc = pdf.new_pdf(f"{TITLE} {data['dossier_code']}", who, issued)
    pdf.header(doc, base.agency_issuer(data), data["place"], issued)
    pdf.heading(doc, TITLE, f"Mã hồ sơ: {data['dossier_code']}", f"Kính gửi: Ông/Bà {data['applicant_name']}")
    pdf.paragraphs(doc, [
        f"{who} đã tiếp nhận hồ sơ của Ông/Bà" + (f" vào {pdf.vn_moment(received)}" if received else "")
        + f", nội dung yêu cầu giải quyết: {data['procedure_name']} (mã hồ sơ {data['dossier_code']}).",
        f"Thời gian hẹn trả kết quả ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả: {pdf.vn_moment(appointment)}."
        if appointment else "",
        f"Tuy nhiên, đến nay {who} chưa trả được kết quả giải quyết hồ sơ của Ông/Bà đúng thời hạn đã hẹn.",
        f"Lý do: {data['reason']}",
        f"{who} xin lỗi Ông/Bà vì sự chậm trễ này và hẹn lại thời gian trả kết quả.",
    ])
    pdf.paragraphs(doc, [f"Thời gian hẹn trả kết quả mới: {pdf.vn_moment(data['new_due'])}"], bold=True)
    pdf.paragraphs(doc, ["Rất mong nhận được sự thông cảm của Ông/Bà. Trân trọng./."])
    pdf.qr(doc, url)
    pdf.signatures(doc, [("THỦ TRƯỞNG CƠ QUAN GIẢI QUYẾT", "(Ký, ghi rõ họ tên và đóng dấu)", data["signer"])],
                   recipients=["Như trên;", "Bộ phận Tiếp nhận và Trả kết quả;", "Lưu: VT."])
    return pdf.output(doc)


FORM = base.Form(kind="mau-04", variable="apology_document", title=TITLE, suffix="mau-04",
                 check=check, render=render)
