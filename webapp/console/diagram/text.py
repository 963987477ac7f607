"""Text in the SVG: escaping, numbers, and labels wrapped to fit a width without a font at hand.

Widths are estimated from character classes (the browser's font is not known on the server): good enough
to break lines where a modeler would, never exact.
"""
from __future__ import annotations

import re

FONT = "Arial, Helvetica, sans-serif"
INK = "#22242a"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NARROW = set("iljtfrI.,:;'!|()[]{} ")
_WIDE = set("mwMWQOGD@%&")


def num(value: float) -> str:
    """A coordinate as short, stable text (two decimals at most, no exponent)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def esc(text: object) -> str:
    """Text made safe for SVG element content and double- or single-quoted attributes."""
    clean = _INVALID_XML.sub("", str(text))
    return (clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def attrs(**values: object) -> str:
    """`` name="value"`` pairs, escaped, in the order given; None values are left out; ``_`` in a name
    becomes ``-`` (``stroke_width`` → ``stroke-width``)."""
    out = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = num(value)
        out.append(f' {name.rstrip("_").replace("_", "-")}="{esc(value)}"')
    return "".join(out)


def text_width(text: str, size: float) -> float:
    """The estimated width of one line of text at a font size."""
    total = 0.0
    for ch in text:
        total += 0.3 if ch in _NARROW else 0.85 if ch in _WIDE else 0.72 if ch.isupper() else 0.56
    return total * size


def _split_word(word: str, width: float, size: float) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and text_width(current + ch, size) > width:
            parts.append(current)
            current = ""
        current += ch
    return parts + ([current] if current else [])


def wrap(text: str, width: float, size: float) -> list[str]:
    """The text broken into lines no wider than ``width`` (explicit line breaks are kept)."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            pieces = _split_word(word, width, size) if text_width(word, size) > width else [word]
            lines.extend(pieces[:-1])
            current = pieces[-1]
        lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def fit(text: str, width: float, height: float, size: float) -> list[str]:
    """The wrapped lines that fit in ``height``; the last one shown ends with an ellipsis if some are cut."""
    lines = wrap(text, max(width, size), size)
    room = max(1, int(height // (size * 1.2)))
    if len(lines) <= room:
        return lines
    kept = lines[:room]
    last = kept[-1]
    while last and text_width(last + "…", size) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + "…"
    return kept


def block(lines: list[str], x: float, top: float, size: float, anchor: str = "middle", **extra: object) -> str:
    """A ``<text>`` element with one ``<tspan>`` per line, the first line's top at ``top``."""
    if not lines:
        return ""
    step = size * 1.2
    spans = "".join(f'<tspan x="{num(x)}" y="{num(top + size + i * step - size * 0.15)}">{esc(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f"<text{attrs(font_family=FONT, font_size=num(size), text_anchor=anchor, fill=INK, **extra)}>"
            f"{spans}</text>")


def centred(text: str, cx: float, cy: float, width: float, height: float, size: float, **extra: object) -> str:
    """Text wrapped into a box and centred in it."""
    lines = fit(text, width, height, size)
    return block(lines, cx, cy - len(lines) * size * 1.2 / 2, size, **extra)
