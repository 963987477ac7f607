"""Topic ``document``: render the receipt and appointment slip (Giấy tiếp nhận hồ sơ và hẹn trả kết quả).

The layout follows Mẫu số 01 of Circular 01/2018/TT-VPCP (national motto header, receiving unit, dossier
code, applicant, documents received, received-at and result times, two signature blocks). Circular
03/2025/TT-VPCP keeps Form 01 under the same name; its exact wording was not checked against the official
text. A QR code points to the public status page ``{portal_url}/tra-cuu/{dossier_code}``.

The PDF is written with fpdf2 in a Unicode TrueType font (DejaVu Sans where installed), so every
Vietnamese diacritic is embedded and extractable. The same variables give the same file (and SHA-256).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.config import load_settings
from workers.errors import BpmnError

TOPIC = "document"
REQUIRED = {"dossier_code": "mã hồ sơ", "applicant_name": "tên người nộp hồ sơ", "procedure_name": "tên thủ tục"}
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving
FONT_CANDIDATES = [  # (regular, bold) pairs with Vietnamese glyphs, first found wins
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),  # Fedora
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),  # Arch
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/Library/Fonts/Arial Unicode.ttf", "/Library/Fonts/Arial Unicode.ttf"),  # macOS
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
]
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


class FontNotFound(RuntimeError):
    """No Unicode TrueType font with Vietnamese glyphs is installed (a deployment fault, not the dossier's)."""


def find_font(candidates: list[tuple[str, str]] | None = None) -> tuple[Path, Path]:
    """The first installed (regular, bold) font pair; bold falls back to regular when only that exists."""
    candidates = FONT_CANDIDATES if candidates is None else candidates
    for regular, bold in candidates:
        if Path(regular).is_file():
            return Path(regular), Path(bold) if Path(bold).is_file() else Path(regular)
    searched = ", ".join(regular for regular, _ in candidates)
    raise FontNotFound(f"No Unicode TrueType font for Vietnamese text found (searched: {searched}); "
                       "install DejaVu Sans, e.g. `apt-get install fonts-dejavu-core`")


def status_url(dossier_code: str, portal_url: str | None = None) -> str:
    """The public status page of a dossier, as the QR code encodes it."""
    base = portal_url or load_settings().public_url
    return f"{base.rstrip('/')}/tra-cuu/{urllib.parse.quote(dossier_code, safe='')}"


def qr_code(url: str) -> segno.QRCode:
    """The QR code printed on the slip (error correction M, upgraded when it costs no extra size)."""
    return segno.make_qr(url, error="m")


def vn_date(moment: dt.date) -> str:
    """``ngày 05 tháng 3 năm 2026``: day padded to two digits, month only for January and February."""
    month = f"{moment.month:02d}" if moment.month < 3 else str(moment.month)
    return f"ngày {moment.day:02d} tháng {month} năm {moment.year}"


def vn_moment(moment: dt.date) -> str:
    """``14 giờ 30 phút, ngày 05 tháng 3 năm 2026`` (a plain date gives only the date)."""
    if isinstance(moment, dt.datetime):
        return f"{moment.hour} giờ {moment.minute:02d} phút, {vn_date(moment)}"
    return vn_date(moment)


def handle(variables: dict[str, Any], out_dir: str | Path | None = None) -> dict[str, Any]:
    """Render the slip into ``out_dir`` (default ``$MOTCUA_VAR_DIR/documents``) and return
    ``receipt_document`` = path, sha256, pages, filename. Missing or unusable data is a BPMN error
    ``DOCUMENT_DATA`` whose message tells the officer what to fix."""
    data = _check(variables)
    pdf_bytes, pages = render(data, status_url(data["dossier_code"], variables.get("portal_url")))
    folder = Path(out_dir) if out_dir is not None else load_settings().var_dir / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{data['dossier_code']}-bien-nhan.pdf"
    path = folder / filename
    handle_, partial = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle_, "wb") as file:
            file.write(pdf_bytes)
        os.replace(partial, path)  # a reader never sees half a file; a retry overwrites cleanly
    finally:
        Path(partial).unlink(missing_ok=True)
    return {"receipt_document": {"path": str(path.resolve()), "sha256": hashlib.sha256(pdf_bytes).hexdigest(),
                                 "pages": pages, "filename": filename}}


def _text(value: Any) -> str:
    """A variable as NFC text (decomposed input would otherwise render as loose combining marks)."""
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def _moment(variables: dict[str, Any], name: str, default: dt.datetime | None) -> dt.date | None:
    value = variables.get(name)
    if value in (None, ""):
        return default
    text = str(value).strip()
    try:  # Camunda's "2026-03-05T14:30:00.000+0700" parses too; a bare date stays a date (no "0 giờ")
        moment = value if isinstance(value, dt.date) else (
            dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text))
    except ValueError:
        raise BpmnError("DOCUMENT_DATA", f"Giá trị thời gian '{value}' của {name} không hợp lệ") from None
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(VN_TZ) if moment.tzinfo else moment.replace(tzinfo=VN_TZ)
    return moment


def _check(variables: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the variables the slip needs."""
    missing = [label for name, label in REQUIRED.items() if not _text(variables.get(name))]
    if missing:
        raise BpmnError("DOCUMENT_DATA", "Thiếu thông tin để in giấy tiếp nhận: " + ", ".join(missing))
    data = {name: _text(variables.get(name)) for name in (
        *REQUIRED, "citizen_id", "applicant_address", "applicant_phone", "applicant_email", "receiving_agency",
        "parent_agency", "receiving_officer", "result_delivery", "place", "processing_time")}
    if not _SAFE_CODE.fullmatch(data["dossier_code"]):
        raise BpmnError("DOCUMENT_DATA", f"Mã hồ sơ '{data['dossier_code']}' chứa ký tự không hợp lệ")
    documents = variables.get("documents") or []
    if not isinstance(documents, list):
        raise BpmnError("DOCUMENT_DATA", "Danh sách giấy tờ (documents) phải là một danh sách")
    data["documents"] = [(_text(d.get("name")), _text(d.get("form")), _text(d.get("note")))
                         if isinstance(d, dict) else (_text(d), "", "") for d in documents]
    data["received_at"] = _moment(variables, "received_at", dt.datetime.now(VN_TZ).replace(microsecond=0))
    data["appointment_at"] = _moment(variables, "appointment_at", None)
    return data


def render(data: dict[str, Any], url: str) -> tuple[bytes, int]:
    """The slip as PDF bytes and its page count (``data`` as :func:`_check` leaves it)."""
    regular, bold = find_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("Body", "", str(regular))
    pdf.add_font("Body", "B", str(bold))
    received = data["received_at"]
    if isinstance(received, dt.datetime):
        pdf.set_creation_date(received)  # not "now": the same dossier gives the same bytes
    pdf.set_title(f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {data['dossier_code']}")
    pdf.set_author(data["receiving_agency"] or "motcua")
    pdf.add_page()
    width = pdf.epw
    _header(pdf, data, width)
    pdf.set_font("Body", "B", 13)
    pdf.cell(width, 8, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Body", "B", 11)
    pdf.cell(width, 6, f"Mã hồ sơ: {data['dossier_code']}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    lines = [
        f"{data['receiving_agency'] or 'Bộ phận Tiếp nhận và Trả kết quả'} tiếp nhận hồ sơ của:",
        f"Ông/Bà: {data['applicant_name']}",
        f"Số định danh cá nhân: {data['citizen_id']}" if data["citizen_id"] else "",
        f"Địa chỉ: {data['applicant_address']}" if data["applicant_address"] else "",
        "   ".join(filter(None, [f"Số điện thoại: {data['applicant_phone']}" if data["applicant_phone"] else "",
                                 f"Email: {data['applicant_email']}" if data["applicant_email"] else ""])),
        f"Nội dung yêu cầu giải quyết: {data['procedure_name']}",
        "1. Thành phần hồ sơ nộp gồm:" if data["documents"] else "1. Thành phần hồ sơ nộp gồm: (không kê khai)",
    ]
    _paragraphs(pdf, width, lines)
    if data["documents"]:
        _documents(pdf, data["documents"])
    appointment = data["appointment_at"]
    _paragraphs(pdf, width, [  # the numbering is the form's
        "2. Số lượng hồ sơ: 01 (bộ)",
        f"3. Thời gian giải quyết hồ sơ theo quy định: {data['processing_time']}" if data["processing_time"] else "",
        f"4. Thời gian nhận hồ sơ: {vn_moment(received)}",
        f"5. Thời gian trả kết quả giải quyết hồ sơ: {vn_moment(appointment) if appointment else 'chưa xác định'}",
        f"6. Đăng ký nhận kết quả tại: {data['result_delivery']}" if data["result_delivery"] else "",
    ])
    _qr(pdf, url, width)
    _signatures(pdf, data, width)
    return bytes(pdf.output()), pdf.pages_count


def _paragraphs(pdf: FPDF, width: float, lines: list[str]) -> None:
    pdf.set_font("Body", "", 11)
    for line in filter(None, lines):
        pdf.multi_cell(width, 6, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, data: dict[str, Any], width: float) -> None:
    """Issuing unit on the left, the national motto on the right, each underlined by a short rule."""
    left, right, top, x0 = width * 0.45, width * 0.55, pdf.get_y(), pdf.l_margin
    pdf.set_font("Body", "", 10)
    pdf.multi_cell(left, 5, (data["parent_agency"] or "").upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Body", "B", 9)
    pdf.multi_cell(left, 5, "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.line(x0 + left * 0.3, pdf.get_y() + 1, x0 + left * 0.7, pdf.get_y() + 1)
    bottom = pdf.get_y()
    pdf.set_xy(x0 + left, top)
    pdf.set_font("Body", "B", 10)
    pdf.cell(right, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Body", "B", 11)
    pdf.cell(right, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.line(x0 + left + right * 0.25, pdf.get_y() + 1, x0 + left + right * 0.75, pdf.get_y() + 1)
    pdf.set_font("Body", "", 10)
    pdf.set_xy(x0 + left, max(bottom, pdf.get_y()) + 3)
    place = f"{data['place']}, " if data["place"] else ""
    pdf.cell(right, 5, place + vn_date(data["received_at"]), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _documents(pdf: FPDF, documents: list[tuple[str, str, str]]) -> None:
    """The documents received, one table row each."""
    pdf.set_font("Body", "", 10)
    with pdf.table(col_widths=(10, 95, 40, 25), text_align=("C", "L", "L", "L"), line_height=5.5,
                   first_row_as_headings=True) as table:
        for row in [("STT", "Tên giấy tờ", "Hình thức", "Ghi chú"),
                    *[(str(i), *doc) for i, doc in enumerate(documents, 1)]]:
            table.row(row)
    pdf.ln(2)


def _qr(pdf: FPDF, url: str, width: float) -> None:
    """The QR code of the status page, with the address written beside it."""
    png, size = io.BytesIO(), 30.0
    qr_code(url).save(png, kind="png", scale=8, border=4)
    if pdf.get_y() + size > pdf.h - pdf.b_margin - 40:  # keep the QR code with the signatures
        pdf.add_page()
    y = pdf.get_y() + 2
    pdf.image(png, x=pdf.l_margin, y=y, w=size, h=size, alt_text=url)
    pdf.set_xy(pdf.l_margin + size + 3, y + 8)
    pdf.set_font("Body", "", 9)
    pdf.multi_cell(width - size - 3, 5, f"Tra cứu tình trạng hồ sơ:\n{url}", align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(y + size + 2)


def _signatures(pdf: FPDF, data: dict[str, Any], width: float) -> None:
    """Applicant and receiving officer sign; their names are printed under the space."""
    half, top = width / 2, pdf.get_y()
    for column, (title, name) in enumerate([("NGƯỜI NỘP HỒ SƠ", data["applicant_name"]),
                                            ("NGƯỜI TIẾP NHẬN HỒ SƠ", data["receiving_officer"])]):
        x = pdf.l_margin + column * half
        pdf.set_xy(x, top)
        pdf.set_font("Body", "B", 10)
        pdf.cell(half, 5, title, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Body", "", 9)
        pdf.cell(half, 5, "(Ký và ghi rõ họ tên)", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_xy(x, top + 28)
        pdf.set_font("Body", "B", 10)
        pdf.cell(half, 5, name, align="C")
