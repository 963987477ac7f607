"""Page furniture shared by every document: the Unicode font, the national-motto header, paragraphs, tables,
the QR code of the dossier's public status page and the signature blocks.

The PDF is written with fpdf2 in a Unicode TrueType font (DejaVu Sans where installed), so every Vietnamese
diacritic is embedded and extractable. The creation date is the document's own date, never "now", so the same
variables give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import urllib.parse
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.config import load_settings

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
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


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
    """The QR code printed on a document (error correction M, upgraded when it costs no extra size)."""
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


def new_pdf(title: str, author: str, moment: dt.date | None) -> FPDF:
    """An A4 document with the body font loaded and its first page open; ``moment`` is its creation date."""
    regular, bold = find_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("Body", "", str(regular))
    pdf.add_font("Body", "B", str(bold))
    if isinstance(moment, dt.datetime):
        pdf.set_creation_date(moment)
    elif isinstance(moment, dt.date):
        pdf.set_creation_date(dt.datetime(moment.year, moment.month, moment.day, tzinfo=VN_TZ))
    pdf.set_title(title)
    pdf.set_author(author or "motcua")
    pdf.add_page()
    return pdf


def output(pdf: FPDF) -> tuple[bytes, int]:
    """The finished document's bytes and page count."""
    return bytes(pdf.output()), pdf.pages_count


def header(pdf: FPDF, issuer: list[tuple[str, bool]], place: str, moment: dt.date) -> None:
    """The issuer's lines (text, bold) on the left, the national motto on the right, each underlined by a short
    rule; the place and date under the motto."""
    width = pdf.epw
    left, right, top, x0 = width * 0.45, width * 0.55, pdf.get_y(), pdf.l_margin
    for text, bold in issuer:
        pdf.set_font("Body", "B" if bold else "", 9 if bold else 10)
        pdf.multi_cell(left, 5, text.upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
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
    pdf.cell(right, 5, (f"{place}, " if place else "") + vn_date(moment), align="C", **NEXT_LINE)
    pdf.ln(6)


def heading(pdf: FPDF, title: str, *lines: str) -> None:
    """The document's title in capitals, then centred bold lines (the dossier code, an addressee)."""
    pdf.set_font("Body", "B", 13)
    pdf.multi_cell(pdf.epw, 8, title.upper(), align="C", **NEXT_LINE)
    pdf.set_font("Body", "B", 11)
    for line in filter(None, lines):
        pdf.multi_cell(pdf.epw, 6, line, align="C", **NEXT_LINE)
    pdf.ln(3)


def paragraphs(pdf: FPDF, lines: list[str], bold: bool = False, size: float = 11) -> None:
    """Left-aligned paragraphs; empty strings are skipped, so optional lines can be written inline."""
    pdf.set_font("Body", "B" if bold else "", size)
    for line in filter(None, lines):
        pdf.multi_cell(pdf.epw, 6, line, align="L", **NEXT_LINE)


def boxed(pdf: FPDF, text: str) -> None:
    """A bold, centred paragraph in a frame (a warning the reader must not miss)."""
    pdf.set_font("Body", "B", 10)
    pdf.multi_cell(pdf.epw, 5.5, text, border=1, align="C", padding=2, **NEXT_LINE)
    pdf.ln(3)


def table(pdf: FPDF, widths: tuple[int, ...], aligns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A bordered table whose first row is the heading."""
    pdf.set_font("Body", "", 10)
    with pdf.table(col_widths=widths, text_align=aligns, line_height=5.5, first_row_as_headings=True) as grid:
        for row in rows:
            grid.row(row)
    pdf.ln(2)


def qr(pdf: FPDF, url: str) -> None:
    """The QR code of the status page, with the address written beside it."""
    png, size, width = io.BytesIO(), 30.0, pdf.epw
    qr_code(url).save(png, kind="png", scale=8, border=4)
    if pdf.get_y() + size > pdf.h - pdf.b_margin - 40:  # keep the QR code with the signatures
        pdf.add_page()
    y = pdf.get_y() + 2
    pdf.image(png, x=pdf.l_margin, y=y, w=size, h=size, alt_text=url)
    pdf.set_xy(pdf.l_margin + size + 3, y + 8)
    pdf.set_font("Body", "", 9)
    pdf.multi_cell(width - size - 3, 5, f"Tra cứu tình trạng hồ sơ:\n{url}", align="L", **NEXT_LINE)
    pdf.set_y(y + size + 2)


def signatures(pdf: FPDF, blocks: list[tuple[str, str, str]], recipients: list[str] | None = None) -> None:
    """Signature blocks (title, hint, printed name) side by side; a single block stands on the right half, with
    the list of recipients (``Nơi nhận``) on the left when given."""
    half = pdf.epw / 2
    if pdf.get_y() + 40 > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    if recipients:
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_font("Body", "B", 10)
        pdf.cell(half, 5, "Nơi nhận:", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Body", "", 9)
        for line in recipients:
            pdf.cell(half, 5, f"- {line}", new_x=XPos.LEFT, new_y=YPos.NEXT)
    first = 0 if len(blocks) > 1 else 1
    for column, (title, hint, name) in enumerate(blocks, first):
        x = pdf.l_margin + column * half
        pdf.set_xy(x, top)
        pdf.set_font("Body", "B", 10)
        pdf.multi_cell(half, 5, title, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Body", "", 9)
        pdf.cell(half, 5, hint, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_xy(x, top + 28)
        pdf.set_font("Body", "B", 10)
        pdf.multi_cell(half, 5, name, align="C")
