"""engine/csv_cells.py: text that a spreadsheet would run as a formula is written as text; numbers stay numbers.
Every CSV export writes through it (engine/indicator_export.py)."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from engine import csv_cells, indicator_export

EVIL = '=HYPERLINK("http://evil.example/x","x")'


@pytest.mark.parametrize("text", [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=1"])
def test_text_that_starts_like_a_formula_is_prefixed_with_a_quote(text):
    assert csv_cells.cell(text) == "'" + text


@pytest.mark.parametrize("value", [-3, -2.5, 0, 150_000, "-3.00", "+4", "-0.5", "1e3", "Nguyễn Văn An", "A-1", ""])
def test_numbers_and_ordinary_text_are_unchanged(value):
    assert csv_cells.cell(value) == value


def test_a_line_reads_back_as_text_and_numbers():
    cells = next(csv.reader(io.StringIO(csv_cells.line([EVIL, -12, "-12.50", None, 'a "quoted", name']))))
    assert cells == ["'" + EVIL, "-12", "-12.50", "", 'a "quoted", name']


def test_an_applicants_name_in_the_dossier_export_is_not_a_formula():
    at = dt.datetime(2026, 5, 5, 2, 0, tzinfo=dt.timezone.utc)
    row = {"code": "A1", "procedure_name": "Đăng ký khai sinh", "procedure_code": "1.001193", "agency": "-H56",
           "applicant_name": EVIL, "channel": "online", "status": 4, "received_at": at, "due": at,
           "resolved_at": None, "supplement_requests": -1, "paid_online_at": None, "dissatisfied_at": None}
    text = "".join(indicator_export.dossier_rows([row]))
    (cells,) = list(csv.reader(io.StringIO(text[1:])))[1:]
    assert cells[4] == "'" + EVIL and cells[3] == "'-H56" and cells[10] == "-1"
