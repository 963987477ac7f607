"""CSV cells that a spreadsheet cannot take for formulas (OWASP "CSV injection"): every CSV export writes its lines
through :func:`line`, so a citizen's name such as ``=HYPERLINK(...)`` arrives in Excel as text, not as a live formula.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # what a spreadsheet reads as a plain number


def cell(value) -> object:
    """``value`` as it is safe to write: None as empty, numbers (and text that is exactly a number, such as
    ``-1.50``) unchanged, and text that starts with ``= + - @``, a tab or a carriage return prefixed with a single
    quote, so that it stays text."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def line(values: Iterable) -> str:
    """One CSV line (comma-separated, CRLF-terminated, quoted as needed) of cells made safe by :func:`cell`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(v) for v in values])
    return buffer.getvalue()
