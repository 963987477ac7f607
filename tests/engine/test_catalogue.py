"""The catalogue: newest versions of deployed procedures, found the way citizens type, without accents."""
from __future__ import annotations

import pytest

from engine import catalogue, db, deployment
from engine.errors import NotFound
from tests.conftest import FORMS, PROCESSES


@pytest.fixture
def entries(factory):
    with db.transaction(factory) as session:
        for folder in sorted(p for p in PROCESSES.iterdir() if p.is_dir()):
            deployment.deploy(session, deployment.collect_files([folder]), FORMS)
    with db.transaction(factory) as session:
        return catalogue.procedures(session)


def names(found):
    return [p.name for p in found]


def test_fold_removes_accents_and_case_the_way_people_type():
    assert catalogue.fold("Đăng ký  KHAI SINH") == "dang ki khai sinh"  # ký and kí are one word (see below)
    assert catalogue.fold("Chứng thực bản sao điện tử") == "chung thuc ban sao dien tu"
    assert catalogue.fold(None) == ""


@pytest.mark.parametrize("one, other", [
    ("kí", "ký"), ("lí lịch", "lý lịch"), ("kĩ thuật", "kỹ thuật"), ("Mĩ", "Mỹ"), ("hi sinh", "hy sinh"),
    ("công ti", "công ty"), ("qui định", "quy định"), ("quí", "quý"), ("tỉ lệ", "tỷ lệ"), ("sĩ", "sỹ"),
    ("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("Uỷ ban", "Ủy ban"), ("loè", "lòe"),
    ("hoà", "ho\u0061\u0300"),  # decomposed, as some keyboards send it
])
def test_fold_makes_spelling_variants_and_tone_placements_the_same(one, other):
    assert catalogue.fold(one) == catalogue.fold(other)


@pytest.mark.parametrize("one, other", [
    ("tay", "tai"), ("thuy", "thui"), ("tuy", "tui"), ("hay", "hai"), ("kia", "kya"), ("khi", "khy")])
def test_fold_keeps_words_that_only_differ_elsewhere_apart(one, other):
    assert catalogue.fold(one) != catalogue.fold(other)  # i/y are variants only as the whole vowel after h, k, l…


def test_the_catalogue_lists_the_five_procedures_and_not_the_built_in_ones(entries):
    assert sorted(p.process_key for p in entries) == sorted([
        "dang_ky_khai_sinh", "cap_phieu_lltp", "dang_ky_ho_kinh_doanh", "cap_gpxd_nha_o", "chung_thuc_ban_sao_dien_tu"])


@pytest.mark.parametrize("query", ["khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "Dang Ky Khai  Sinh"])
def test_search_ignores_accents_case_and_spaces(entries, query):
    assert names(catalogue.search(entries, query))[0] == "Đăng ký khai sinh"


@pytest.mark.parametrize("query, name", [
    ("đăng kí khai sinh", "Đăng ký khai sinh"), ("dang ki khai sinh", "Đăng ký khai sinh"),
    ("phiếu lí lịch tư pháp", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"),
    ("ly lich tu phap", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"),
])
def test_search_finds_names_typed_with_another_spelling(entries, query, name):
    assert names(catalogue.search(entries, query))[0] == name


def test_a_word_typed_in_part_still_finds_the_longer_word(entries):
    assert names(catalogue.search(entries, "ho ki"))[0] == "Đăng ký thành lập hộ kinh doanh"  # "ki…" of "kinh"


def test_every_word_must_match_and_name_matches_rank_first(entries):
    assert names(catalogue.search(entries, "ho kinh doanh")) == ["Đăng ký thành lập hộ kinh doanh"]
    assert catalogue.search(entries, "khai sinh ho kinh doanh") == []
    found = names(catalogue.search(entries, "dang ky"))
    assert found[:2] == ["Đăng ký khai sinh", "Đăng ký thành lập hộ kinh doanh"]


def test_search_by_code_and_filters(entries):
    birth = next(p for p in entries if p.process_key == "dang_ky_khai_sinh")
    assert catalogue.search(entries, birth.code) == [birth]
    assert names(catalogue.search(entries, level="mot-phan")) == ["Chứng thực bản sao điện tử từ bản chính"]
    assert names(catalogue.search(entries, field_name="ho tich")) == ["Đăng ký khai sinh"]
    assert catalogue.search(entries, "khai sinh", level="mot-phan") == []
    facets = catalogue.facets(entries)
    assert ("toan-trinh", "Toàn trình") in facets["levels"] and ("Hộ tịch", "Hộ tịch") in facets["fields"]


def test_find_by_code(factory, entries):
    with db.transaction(factory) as session:
        assert catalogue.find(session, entries[0].code).process_key == entries[0].process_key
        with pytest.raises(NotFound):
            catalogue.find(session, "no-such-code")
