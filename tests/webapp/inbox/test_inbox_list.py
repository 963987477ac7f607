"""The inbox list page: filters and orders from the query string, the count, keyset pages with links either way,
and saved filters (save the current one, open it, delete it; nobody else sees or deletes them; CSRF as everywhere)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import update

from engine import accounts, db, deployment, inbox
from engine.models import UserTask
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import BIRTH, VN, at_intake
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in

COMMUNE = "000.00.00.H56"


@pytest.fixture
def desk(app, factory):
    """Four births at the commune's intake, received an hour apart; the first one overdue (in 2026, the rest are
    due later); two officers of the desk. Returns the codes in the order received."""
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency=COMMUNE)
        accounts.add(session, "can-bo-2", "mat-khau-2", groups=["mot-cua"], agency=COMMUNE)
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
    codes = [at_intake(factory, "dang_ky_khai_sinh", BIRTH, COMMUNE, monday + dt.timedelta(hours=h)) for h in range(4)]
    with db.transaction(factory) as session:
        session.execute(update(UserTask).where(UserTask.business_key == codes[0])
                        .values(due_at=dt.datetime(2026, 1, 5, 8, 0, tzinfo=VN)))
        session.execute(update(UserTask).where(UserTask.business_key != codes[0])
                        .values(due_at=dt.datetime(2030, 1, 7, 8, 0, tzinfo=VN)))
    return codes


def signed_in(app, name="can-bo-1", password="mat-khau-1"):
    client = app.test_client()
    assert sign_in(client, name, password).status_code == 302
    return client


def shown(html: str) -> list[str]:
    """The dossier codes listed, in order."""
    return re.findall(r'href="/can-bo/viec/[^"]+">([^<]+)</a>', html)


def test_filters_and_orders_come_from_the_query_string(app, desk):
    client = signed_in(app)
    everything = client.get("/can-bo/").get_data(as_text=True)
    assert shown(everything) == [desk[0]] + desk[1:] and "4 việc" in everything
    late = client.get("/can-bo/?han=overdue").get_data(as_text=True)
    assert shown(late) == [desk[0]] and "1 việc" in late and 'value="overdue" selected' in late
    assert shown(client.get("/can-bo/?han=on_time").get_data(as_text=True)) == desk[1:]
    assert shown(client.get(f"/can-bo/?ma_ho_so={desk[2][-4:]}").get_data(as_text=True)) == [desk[2]]
    assert shown(client.get("/can-bo/?trang_thai=5").get_data(as_text=True)) == []
    assert shown(client.get("/can-bo/?sap_xep=received&thu_tu=desc").get_data(as_text=True)) == desk[::-1]
    assert shown(client.get("/can-bo/?nguoi_xu_ly=can-bo-2").get_data(as_text=True)) == []
    assert '<option value="can-bo-2"' in everything  # a colleague to filter by
    # nonsense values are dropped, not errors
    assert shown(client.get("/can-bo/?han=som&trang_thai=99&sap_xep=x").get_data(as_text=True)) == shown(everything)


def test_pages_go_forward_and_back(app, desk, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE", 3)
    client = signed_in(app)
    first = client.get("/can-bo/?sap_xep=received").get_data(as_text=True)
    assert shown(first) == desk[:3] and "Trang trước" not in first
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert shown(second) == desk[3:] and "trang 2" in second and 'rel="next"' not in second
    back = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert shown(client.get(back).get_data(as_text=True)) == desk[:3]
    mangled = client.get("/can-bo/?sau=rubbish&trang=7")  # the first page, numbered 1
    html = mangled.get_data(as_text=True)
    assert mangled.status_code == 200 and shown(html) == desk[:3] and "trang 1" in html


def test_an_officer_saves_opens_and_deletes_a_filter_that_nobody_else_sees(app, desk):
    mine, theirs = signed_in(app), signed_in(app, "can-bo-2", "mat-khau-2")
    saved = mine.post("/can-bo/bo-loc", data={"csrf_token": csrf(mine, "/can-bo/"), "ten_bo_loc": "Quá hạn",
                                              "loc": "han=overdue&sau=cursor&bogus=1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/can-bo/?han=overdue")
    page = mine.get("/can-bo/").get_data(as_text=True)
    assert "Đã lưu bộ lọc «Quá hạn»" in page
    link = re.search(r'<a class="link" href="([^"]+)">Quá hạn</a>', page).group(1)
    assert link == "/can-bo/?han=overdue" and shown(mine.get(link).get_data(as_text=True)) == [desk[0]]
    filter_id = re.search(r'action="/can-bo/bo-loc/(\d+)/xoa"', page).group(1)
    assert "Quá hạn</a>" not in theirs.get("/can-bo/").get_data(as_text=True)
    refused = theirs.post(f"/can-bo/bo-loc/{filter_id}/xoa", data={"csrf_token": csrf(theirs, "/can-bo/")})
    assert refused.status_code == 404
    assert mine.post(f"/can-bo/bo-loc/{filter_id}/xoa", data={}).status_code == 400  # no CSRF token
    assert "Quá hạn</a>" in mine.get("/can-bo/").get_data(as_text=True)
    gone = mine.post(f"/can-bo/bo-loc/{filter_id}/xoa", data={"csrf_token": csrf(mine, "/can-bo/")})
    assert gone.status_code == 302 and "Quá hạn</a>" not in mine.get("/can-bo/").get_data(as_text=True)


def test_a_filter_without_a_name_is_not_saved(app, desk):
    client = signed_in(app)
    refused = client.post("/can-bo/bo-loc", data={"csrf_token": csrf(client, "/can-bo/"), "ten_bo_loc": " ",
                                                  "loc": "han=overdue"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nhập tên cho bộ lọc" in html and shown(html) == [desk[0]]
    assert "bo-loc-da-luu" not in client.get("/can-bo/").get_data(as_text=True)


def test_signing_in_is_required(app, desk):
    client = app.test_client()
    assert "/can-bo/dang-nhap" in client.get("/can-bo/?han=overdue").headers["Location"]
    assert client.post("/can-bo/bo-loc", data={"ten_bo_loc": "x"}).status_code in (302, 400)
