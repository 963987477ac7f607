"""Charts of the Decision 766 dashboard drawn on the server as SVG (no JavaScript): each is an image
(``role="img"``) named by its ``<title>`` and described in words by its ``<desc>``, and the page shows the same
figures in a table; colours are presentation attributes (the pages' CSP allows no inline style)."""
from __future__ import annotations

from markupsafe import Markup, escape

BLUE, GREY, DARK, GRID = "#1d70b8", "#dee0e2", "#0b0c0c", "#b1b4b6"
FONT = 'font-family="Arial, sans-serif" font-size="13"'


def number(value: float | None, digits: int = 1) -> str:
    """``12,7`` (a Vietnamese decimal comma, no trailing ``,0``); ``—`` for nothing."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text[:-(digits + 1)] if digits and text.endswith("," + "0" * digits) else text


def percent(ratio: float | None, digits: int = 1) -> str:
    """``63,6%``; ``—`` for nothing."""
    return "—" if ratio is None else number(ratio * 100, digits) + "%"


def _frame(ident: str, width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-labelledby="{ident}-tieu-de {ident}-mo-ta" class="chart">'
        f'<title id="{ident}-tieu-de">{escape(title)}</title><desc id="{ident}-mo-ta">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def points_bars(rows: list[tuple[str, str, float, float]], ident: str = "bieu-do-diem",
                title: str = "Điểm từng chỉ số so với điểm tối đa",
                empty: str = "Không có chỉ số nào có điểm trong kỳ này", label_w: int = 60) -> Markup:
    """A bar per indicator (or per agency): the points earned (blue) over the maximum (grey); ``rows`` are (code,
    name, points, maximum), ``label_w`` the room for the codes on the left."""
    bar_w, row_h, top = 460, 30, 8
    width, height = label_w + bar_w + 110, top + row_h * max(len(rows), 1) + 8
    widest = max((m for _, _, _, m in rows), default=1) or 1
    body = []
    for k, (code, _name, earned, maximum) in enumerate(rows):
        y = top + k * row_h
        full, got = bar_w * maximum / widest, bar_w * min(earned, maximum) / widest
        body.append(f'<text x="0" y="{y + 18}" {FONT} fill="{DARK}">{escape(code)}</text>'
                    f'<rect x="{label_w}" y="{y + 4}" width="{full:.1f}" height="18" fill="{GREY}"/>'
                    f'<rect x="{label_w}" y="{y + 4}" width="{got:.1f}" height="18" fill="{BLUE}"/>'
                    f'<text x="{label_w + full + 8:.1f}" y="{y + 18}" {FONT} fill="{DARK}">'
                    f'{number(earned)}/{number(maximum)}</text>')
    words = "; ".join(f"{code} {name}: {number(earned)} trên {number(maximum)} điểm" for code, name, earned, maximum
                      in rows) or empty
    return _frame(ident, width, height, title, words + ".", body)


def trend_line(months: list[tuple[str, float | None]], ident: str = "bieu-do-xu-huong") -> Markup:
    """The on-time rate month by month: a line over 0-100%, broken where a month has no dossier; ``months`` are
    (label, ratio or None), oldest first."""
    left, right, top, bottom, width, height = 48, 32, 12, 40, 680, 240
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(months) - 1, 1)
    body = []
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" '
                    f'stroke-width="1"/><text x="{left - 6}" y="{y + 4:.1f}" {FONT} text-anchor="end" '
                    f'fill="{DARK}">{tick}%</text>')
    segment: list[str] = []
    segments, dots = [segment], []
    for k, (label, ratio) in enumerate(months):
        x = left + k * step
        body.append(f'<text x="{x:.1f}" y="{height - bottom + 20}" {FONT} text-anchor="middle" fill="{DARK}">'
                    f'{escape(label)}</text>')
        if ratio is None:
            segment = []
            segments.append(segment)
            continue
        y = top + plot_h * (1 - ratio)
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BLUE}"/>')
    body += [f'<polyline points="{" ".join(s)}" fill="none" stroke="{BLUE}" stroke-width="2"/>'
             for s in segments if len(s) > 1] + dots
    words = "; ".join(f"{label}: {percent(ratio) if ratio is not None else 'không có hồ sơ'}"
                      for label, ratio in months)
    return _frame(ident, width, height, "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng", words + ".", body)
