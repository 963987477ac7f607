"""Checking data against a form: the x-motcua-not-after keyword on dates and the file types a file field accepts
(engine/forms.py)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from engine import forms, lint
from engine.errors import FormValidationFailed

BIRTH = {"type": "object", "properties": {
    "ngay_sinh": {"type": "string", "format": "date", "title": "Ngày, tháng, năm sinh", forms.NOT_AFTER: "today"},
    "ngay_cap": {"type": "string", "format": "date", "title": "Ngày cấp", forms.NOT_AFTER: "2026-01-31"}}}
NEXT_YEAR = (dt.date.today() + dt.timedelta(days=400)).isoformat()


def test_a_date_after_today_is_refused_in_vietnamese_and_a_past_one_passes():
    assert forms.errors_vi(BIRTH, {"ngay_sinh": NEXT_YEAR}) == {
        "ngay_sinh": "Ngày, tháng, năm sinh không được sau ngày hôm nay"}
    assert forms.errors_vi(BIRTH, {"ngay_sinh": "2020-02-29", "ngay_cap": "2026-01-31"}) == {}
    with pytest.raises(FormValidationFailed) as failed:
        forms.validate_form(BIRTH, {"ngay_sinh": NEXT_YEAR})
    assert [e.field for e in failed.value.errors] == ["ngay_sinh"]


def test_a_fixed_bound_and_a_date_that_is_not_one():
    assert forms.errors_vi(BIRTH, {"ngay_cap": "2026-02-01"}) == {"ngay_cap": "Ngày cấp không được sau 31/01/2026"}
    assert forms.errors_vi(BIRTH, {"ngay_sinh": "2099-02-30"}) == {
        "ngay_sinh": "Ngày, tháng, năm sinh phải là một ngày có thật"}  # the format check speaks, not this one


def test_deploy_refuses_a_bound_that_is_not_today_or_a_date():
    good = b'{"type": "object", "properties": {"d": {"type": "string", "x-motcua-not-after": "today"}}}'
    bad = b'{"type": "object", "properties": {"d": {"type": "string", "x-motcua-not-after": "hom nay"}}}'
    assert lint.check_form("forms/a.json", good) == []
    (problem,) = lint.check_form("forms/b.json", bad)
    assert "x-motcua-not-after" in problem.message and "'hom nay'" in problem.message


def test_a_file_fields_accepted_types_are_read_from_its_x_ui():
    assert forms.accepted_types({"x-ui": {"widget": "file", "accept": "application/pdf"}}) == ("application/pdf",)
    assert forms.accepted_types({"x-ui": {"accept": "image/jpeg, image/png"}}) == ("image/jpeg", "image/png")
    assert forms.accepted_types({"x-ui": {"accept": [".pdf", ".JPG", "image/*"]}}) == \
        ("application/pdf", "image/jpeg", "image/png")
    assert forms.accepted_types({"type": "array", "items": {"x-ui": {"accept": "image/png"}}}) == ("image/png",)
    assert forms.accepted_types({"x-ui": {"widget": "file"}}) == forms.FILE_TYPES  # undeclared: every kind we keep


def test_deploy_refuses_an_accepted_type_that_is_never_taken():
    def form(accept) -> bytes:
        return json.dumps({"type": "object", "properties": {"f": {"type": "string", "x-ui": {"accept": accept}}}}).encode()
    assert lint.check_form("forms/a.json", form(".pdf,image/png")) == []
    assert lint.check_form("forms/a.json", form(["image/*"])) == []
    problems = lint.check_form("forms/b.json", form("application/pdf, application/msword"))
    assert [p.message.split("'")[1] for p in problems] == ["application/msword"]
    assert "PDF, JPEG or PNG" in problems[0].message and "application/pdf" in problems[0].message
