"""Form 01: the receipt and appointment slip (Giấy tiếp nhận hồ sơ và hẹn trả kết quả).

The layout follows Mẫu số 01 of Circular 01/2018/TT-VPCP (national motto header, receiving unit, dossier
code, applicant, documents received, received-at and result times, two signature blocks). Circular
03/2025/TT-VPCP keeps Form 01 under the same name; its exact wording was not checked against the official
text. A QR code points to the public status page ``{portal_url}/tra-cuu/{dossier_code}``.

Reads ``documents`` (texts or ``{name, form, note}``), ``received_at`` (default: now), ``appointment_at``,
``processing_time`` and ``result_delivery`` besides the common variables.
"""
from __future__ import annotations

from typing import Any

from workers.documents import base, pdf
from workers.errors import BpmnError


def check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables the slip needs."""
    data = base.common(variables, "giấy tiếp nhận")
    data.update({name: base.text(variables.get(name)) for name in ("result_delivery", "processing_time")})
    documents = variables.get("documents") or []
    if not isinstance(documents, list):
        raise BpmnError("DOCUMENT_DATA", "Danh sách giấy tờ (documents) phải là một danh sách")
    data["documents"] = [(base.text(d.get("name")), base.text(d.get("form")), base.text(d.get("note")))
                         if isinstance(d, dict) else (base.text(d), "", "") for d in documents]
    data["received_at"] = base.moment(variables, "received_at", base.now())
    data["appointment_at"] = base.moment(variables, "appointment_at", None)
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The slip as PDF bytes and its page count (``data`` as :func:`check` leaves it)."""
    received, appointment = data["received_at"], data["appointment_at"]
    doc = pdf.new_pdf(f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {data['dossier_code']}",
                      data["receiving_agency"], received)
    pdf.header(doc, base.desk_issuer(data), data["place"], received)
    pdf.heading(doc, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", f"Mã hồ sơ: {data['dossier_code']}")
    pdf.paragraphs(doc, [
        f"{data['receiving_agency'] or base.DESK} tiếp nhận hồ sơ của:",
        *base.applicant_lines(data),
        f"Nội dung yêu cầu giải quyết: {data['procedure_name']}",
        "1. Thành phần hồ sơ nộp gồm:" if data["documents"] else "1. Thành phần hồ sơ nộp gồm: (không kê khai)",
    ])
    if data["documents"]:
        pdf.table(doc, (10, 95, 40, 25), ("C", "L", "L", "L"),
                  [("STT", "Tên giấy tờ", "Hình thức", "Ghi chú"),
                   *[(str(i), *d) for i, d in enumerate(data["documents"], 1)]])
    pdf.paragraphs(doc, [  # the numbering is the form's
        "2. Số lượng hồ sơ: 01 (bộ)",
        f"3. Thời gian giải quyết hồ sơ theo quy định: {data['processing_time']}" if data["processing_time"] else "",
        f"4. Thời gian nhận hồ sơ: {pdf.vn_moment(received)}",
        f"5. Thời gian trả kết quả giải quyết hồ sơ: {pdf.vn_moment(appointment) if appointment else 'chưa xác định'}",
        f"6. Đăng ký nhận kết quả tại: {data['result_delivery']}" if data["result_delivery"] else "",
    ])
    pdf.qr(doc, url)
    pdf.signatures(doc, [("NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", data["applicant_name"]),
                         ("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", data["receiving_officer"])])
    return pdf.output(doc)


FORM = base.Form(kind="mau-01", variable="receipt_document", title="Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
                 suffix="bien-nhan", check=check, render=render)
