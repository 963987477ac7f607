"""Reading a page's answers back: row counts, whole numbers, text (webapp/portal/eform.py)."""
from __future__ import annotations

import unicodedata

from werkzeug.datastructures import MultiDict

from webapp.portal import eform

TABLE = {"type": "object", "properties": {
    "nganh_nghe": {"type": "array", "title": "Ngành, nghề",
                   "items": {"type": "object", "properties": {"ten_nganh": {"type": "string", "title": "Tên"}}}}}}


def table_field() -> eform.Field:
    (page,) = eform.pages(TABLE)
    (f,) = page.fields
    assert f.widget == "rows"
    return f


def test_a_tampered_row_count_reads_no_rows():
    f = table_field()
    for count in ("abc", "-3", "1e9", "²"):
        form = MultiDict({"nganh_nghe-dong": count, "nganh_nghe-0-ten_nganh": "Bán lẻ"})
        assert eform.read([f], form) == {"nganh_nghe": []}


def test_a_huge_row_count_is_bounded():
    f = table_field()
    form = MultiDict({"nganh_nghe-dong": "9" * 40, **{f"nganh_nghe-{i}-ten_nganh": f"ngành {i}" for i in range(60)}})
    assert len(eform.read([f], form)["nganh_nghe"]) == eform.MAX_ROWS


def whole_number_field() -> eform.Field:
    (page,) = eform.pages({"type": "object", "properties": {"so_ban_sao": {"type": "integer", "title": "Số bản sao"}}})
    return page.fields[0]


def test_a_whole_number_takes_thousands_groups_but_not_a_decimal_point():
    f = whole_number_field()
    read = {typed: eform.read([f], MultiDict({"so_ban_sao": typed}))["so_ban_sao"]
            for typed in ("2", " 1.500 ", "1 500", "1.500.000", "1.5", "1.50", "1.5000", "1,5", "1.500 000")}
    assert read == {"2": 2, " 1.500 ": 1500, "1 500": 1500, "1.500.000": 1500000, "1.5": "1.5", "1.50": "1.50",
                    "1.5000": "1.5000", "1,5": "1,5", "1.500 000": "1.500 000"}


def test_text_answers_are_read_in_nfc():
    schema = {"type": "object", "properties": {
        "ho_ten": {"type": "string", "title": "Họ tên"},
        "noi_o": {"type": "string", "title": "Nơi ở", "x-ui": {"widget": "textarea"}},
        "ten_goi_khac": {"type": "array", "title": "Tên gọi khác", "items": {"type": "string"}},
        "nganh_nghe": TABLE["properties"]["nganh_nghe"]}}
    (page,) = eform.pages(schema)
    nfd = {name: unicodedata.normalize("NFD", text) for name, text in
           {"ho_ten": "Nguyễn Thị Hằng", "noi_o": "Phường Bến Nghé", "ten_goi_khac": "Hằng\nỚt",
            "nganh_nghe-0-ten_nganh": "Bán lẻ đồ uống"}.items()}
    read = eform.read(page.fields, MultiDict({**nfd, "nganh_nghe-dong": "1"}))
    assert read == {"ho_ten": "Nguyễn Thị Hằng", "noi_o": "Phường Bến Nghé", "ten_goi_khac": ["Hằng", "Ớt"],
                    "nganh_nghe": [{"ten_nganh": "Bán lẻ đồ uống"}]}
    assert all(unicodedata.is_normalized("NFC", text) for text in (read["ho_ten"], read["noi_o"],
                                                                   *read["ten_goi_khac"],
                                                                   read["nganh_nghe"][0]["ten_nganh"]))
    assert len(read["ho_ten"]) == 15 and len(nfd["ho_ten"]) > 15


def test_nan_and_infinity_in_a_number_field_are_kept_as_typed_for_the_type_check():
    (page,) = eform.pages({"type": "object", "properties": {"phi": {"type": "number", "title": "Phí"}}})
    f = page.fields[0]
    read = {typed: eform.read([f], MultiDict({"phi": typed}))["phi"] for typed in ("12,5", "nan", "inf", "-Infinity")}
    assert read == {"12,5": 12.5, "nan": "nan", "inf": "inf", "-Infinity": "-Infinity"}
