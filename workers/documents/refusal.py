"""Form 03: the refusal to accept a dossier for settlement (Phiếu từ chối tiếp nhận giải quyết hồ sơ).

The structure — receiving unit, applicant, requested procedure, "Qua xem xét, … thông báo không tiếp nhận,
giải quyết hồ sơ này với lý do cụ thể như sau", the reason, "Xin thông báo cho Ông/Bà được biết và thực
hiện", the applicant's and the receiving officer's signatures — follows a deployed provincial system's
rendering of Mẫu số 03 of Circular 01/2018/TT-VPCP (Thanh Hóa); Circular 03/2025/TT-VPCP keeps the name. The
official wording was not read, so it is unverified.

The reason is ``ly_do_tu_choi`` (the intake form), else ``registry_error`` (the population look-up refused
the identification number before any officer saw the dossier); the date is ``issued_at`` (default: now).
"""
from __future__ import annotations

from typing import Any

from workers.documents import base, pdf

TITLE = "Phiếu từ chối tiếp nhận giải quyết hồ sơ"


def check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables of the refusal."""
    data = base.common(variables, "phiếu từ chối tiếp nhận")
    data["reason"] = base.required_text(variables, ("ly_do_tu_choi", "registry_error"), "lý do từ chối tiếp nhận")
    data["issued_at"] = base.moment(variables, "issued_at", base.now())
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The refusal as PDF bytes and its page count."""
    issued, desk = data["issued_at"], data["receiving_agency"] or base.DESK
    doc = pdf.new_pdf(f"{TITLE} {data['dossier_code']}", data["receiving_agency"], issued)
    pdf.header(doc, base.desk_issuer(data), data["place"], issued)
    pdf.heading(doc, TITLE, f"Mã hồ sơ: {data['dossier_code']}")
    pdf.paragraphs(doc, [
        f"{desk} tiếp nhận hồ sơ của:",
        *base.applicant_lines(data),
        f"Nội dung yêu cầu giải quyết: {data['procedure_name']}",
        f"Qua xem xét, {desk} thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:",
    ])
    pdf.paragraphs(doc, [data["reason"]], bold=True)
    pdf.paragraphs(doc, [
        "Xin thông báo cho Ông/Bà được biết và thực hiện.",
        "Ông/Bà có quyền khiếu nại, phản ánh, kiến nghị theo quy định của pháp luật./.",
    ])
    pdf.qr(doc, url)
    pdf.signatures(doc, [("NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", data["applicant_name"]),
                         ("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", data["receiving_officer"])])
    return pdf.output(doc)


FORM = base.Form(kind="mau-03", variable="refusal_document", title=TITLE, suffix="mau-03",
                 check=check, render=render)
