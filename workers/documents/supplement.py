"""Form 02: the request to supplement and complete a dossier (Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ).

Every missing item is listed at once, one table row each (Decree 61/2018 Art. 18 as the domain reference
reads it: a dossier is sent back for supplement only once). The structure — receiving unit, applicant,
requested procedure, "Yêu cầu Ông/Bà hoàn thiện hồ sơ gồm những nội dung sau", the items, the reason, whom to
ask, the guiding officer's signature — follows a deployed provincial system's rendering of Mẫu số 02 of
Circular 01/2018/TT-VPCP (Thanh Hóa); the official text of Form 02 (01/2018 or 03/2025) was not read, so the
wording is unverified. The official table's copy counts (bản chính, bản chứng thực, bản photo) are left out:
the intake form records only what is missing.

Reads ``giay_to_thieu`` (a list; required, at least one item) and ``ly_do_bo_sung``; the date is ``issued_at``
(default: now).
"""
from __future__ import annotations

from typing import Any

from workers.documents import base, pdf
from workers.errors import BpmnError

TITLE = "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
DEFAULT_REASON = "Hồ sơ chưa đầy đủ, hợp lệ theo quy định"


def check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables of the supplement request."""
    data = base.common(variables, "phiếu yêu cầu bổ sung")
    data["missing"] = base.text_list(variables, "giay_to_thieu", "Danh sách giấy tờ cần bổ sung")
    if not data["missing"]:
        raise BpmnError("DOCUMENT_DATA", "Phiếu yêu cầu bổ sung phải liệt kê ít nhất một giấy tờ, nội dung cần "
                                         "bổ sung (giay_to_thieu)")
    data["reason"] = base.text(variables.get("ly_do_bo_sung")) or DEFAULT_REASON
    data["issued_at"] = base.moment(variables, "issued_at", base.now())
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The supplement request as PDF bytes and its page count."""
    issued = data["issued_at"]
    doc = pdf.new_pdf(f"{TITLE} {data['dossier_code']}", data["receiving_agency"], issued)
    pdf.header(doc, base.desk_issuer(data), data["place"], issued)
    pdf.heading(doc, TITLE, f"Mã hồ sơ: {data['dossier_code']}")
    pdf.paragraphs(doc, [
        f"{data['receiving_agency'] or base.DESK} tiếp nhận hồ sơ của:",
        *base.applicant_lines(data),
        f"Nội dung yêu cầu giải quyết: {data['procedure_name']}",
        "Yêu cầu Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
    ])
    pdf.table(doc, (12, 158), ("C", "L"),
              [("STT", "Giấy tờ, nội dung cần bổ sung, hoàn thiện"),
               *[(str(i), item) for i, item in enumerate(data["missing"], 1)]])
    contact = data["receiving_officer"] or base.DESK
    pdf.paragraphs(doc, [
        f"Lý do: {data['reason']}",
        "Ông/Bà bổ sung hồ sơ trực tuyến qua trang tra cứu dưới đây hoặc tại Bộ phận Tiếp nhận và Trả kết quả.",
        f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ {contact} để được hướng dẫn./.",
    ])
    pdf.qr(doc, url)
    pdf.signatures(doc, [("NGƯỜI HƯỚNG DẪN", "(Ký và ghi rõ họ tên)", data["receiving_officer"])])
    return pdf.output(doc)


FORM = base.Form(kind="mau-02", variable="supplement_document", title=TITLE, suffix="mau-02",
                 check=check, render=render)
