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
    assert catalogue.fold("Đăng ký  KHAI SINH") == "dang ky khai sinh"
    assert catalogue.fold("Chứng thực bản sao điện tử") == "chung thuc ban sao dien tu"
    assert catalogue.fold(None) == ""


def test_the_catalogue_lists_the_five_procedures_and_not_the_built_in_ones(entries):
    assert sorted(p.process_key for p in entries) == sorted([
        "dang_ky_khai_sinh", "cap_phieu_lltp", "dang_ky_ho_kinh_doanh", "cap_gpxd_nha_o", "chung_thuc_ban_sao_dien_tu"])


@pytest.mark.parametrize("query", ["khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "Dang Ky Khai  Sinh"])
def test_search_ignores_accents_case_and_spaces(entries, query):
    assert names(catalogue.search(entries, query))[0] == "Đăng ký khai sinh"


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
