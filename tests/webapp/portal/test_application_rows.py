"""A table field (rows of a household business's trades): a mistake in a cell is shown at the cell, and the
error summary names the row and links to the cell."""
from __future__ import annotations

import pytest

from engine import db, deployment
from tests.conftest import FORMS, PROCESSES
from tests.webapp.portal.test_application import post, sign_in

HOUSEHOLD_BUSINESS = "1.001612.000.00.00.H56"


@pytest.fixture
def portal(client, factory, settings):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "household-business"]), FORMS)
    return client


def test_a_mistake_in_a_row_is_shown_at_its_cell_and_the_summary_names_the_row(portal):
    sign_in(portal)
    answer = portal.get(f"/nop-ho-so/{HOUSEHOLD_BUSINESS}")
    url = answer.headers["Location"].replace("/trang/1", "/trang/2")
    refused = post(portal, url, {"ten_ho_kinh_doanh": "Hộ kinh doanh An Phát", "dia_chi_tru_so": "12 Lê Lợi",
                                 "von_kinh_doanh": "50.000.000", "so_lao_dong": "2", "nganh_nghe-dong": "2",
                                 "nganh_nghe-0-ma_nganh": "12", "nganh_nghe-0-ten_nganh": "Bán lẻ đồ uống",
                                 "nganh_nghe-1-ma_nganh": "4711", "nganh_nghe-1-ten_nganh": "ab"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'href="#nganh_nghe-0-ma_nganh">Dòng 1: Mã ngành' in html
    assert 'href="#nganh_nghe-1-ten_nganh">Dòng 2: Tên ngành, nghề phải có ít nhất 3 ký tự' in html
    for cell in ("nganh_nghe-0-ma_nganh", "nganh_nghe-1-ten_nganh"):  # each link has its cell, marked in place
        assert f'id="{cell}" name="{cell}"' in html and f'id="{cell}-error"' in html
        assert f'aria-describedby="{cell}-error"' in html
    assert 'id="nganh_nghe-0-ten_nganh-error"' not in html and 'value="ab"' in html
