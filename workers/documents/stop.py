"""Form 05: the notice that the settlement of a dossier stops (Thông báo dừng giải quyết hồ sơ).

Mẫu số 05 of Circular 03/2025/TT-VPCP [secondary]; Form 05 of Circular 01/2018 was the process control sheet,
which the procedures do not render. The procedures issue it when the specialist proposes not to settle
(``de_xuat`` = ``tu_choi``) and the leader agrees. The structure — addressee, the dossier, "thông báo dừng
giải quyết hồ sơ … với lý do cụ thể như sau", the reason, the right to complain, the recipients and the
leader's signature — is modelled on Forms 03 and 04; the official text was not read, so the wording is
unverified.

The reason is ``ly_do_dung`` (required; the review form ``tham-dinh-ho-so`` asks for it); the signer
``signed_by`` (optional); the date ``issued_at`` (default: now).
"""
from __future__ import annotations

from typing import Any

from workers.documents import base, pdf

TITLE = "Thông báo dừng giải quyết hồ sơ"


def check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables of the stop notice."""
    data = base.common(variables, "thông báo dừng giải quyết")
    data["reason"] = base.required_text(variables, ("ly_do_dung",), "lý do dừng giải quyết hồ sơ")
    data["issued_at"] = base.moment(variables, "issued_at", base.now())
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The stop notice as PDF bytes and its page count."""
    issued, who = data["issued_at"], base.agency(data)
    doc = pdf.new_pdf(f"{TITLE} {data['dossier_code']}", who, issued)
    pdf.header(doc, base.agency_issuer(data), data["place"], issued)
    pdf.heading(doc, TITLE, f"Mã hồ sơ: {data['dossier_code']}", f"Kính gửi: Ông/Bà {data['applicant_name']}")
    pdf.paragraphs(doc, [
        f"{who} đã tiếp nhận hồ sơ của Ông/Bà, nội dung yêu cầu giải quyết: {data['procedure_name']} "
        f"(mã hồ sơ {data['dossier_code']}).",
        f"Qua xem xét, thẩm định, {who} thông báo dừng giải quyết hồ sơ nêu trên với lý do cụ thể như sau:",
    ])
    pdf.paragraphs(doc, [data["reason"]], bold=True)
    pdf.paragraphs(doc, [
        "Ông/Bà có quyền khiếu nại, phản ánh, kiến nghị theo quy định của pháp luật.",
        "Xin thông báo để Ông/Bà được biết./.",
    ])
    pdf.qr(doc, url)
    pdf.signatures(doc, [("THỦ TRƯỞNG CƠ QUAN GIẢI QUYẾT", "(Ký, ghi rõ họ tên và đóng dấu)", data["signed_by"])],
                   recipients=["Như trên;", "Bộ phận Tiếp nhận và Trả kết quả;", "Lưu: VT."])
    return pdf.output(doc)


FORM = base.Form(kind="mau-05", variable="stop_document", title=TITLE, suffix="mau-05", check=check, render=render)
