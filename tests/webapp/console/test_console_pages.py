"""The console's definition and instance pages: deploy by upload with the checks' findings in plain words, the
deployed file byte for byte, instance search, an incident retried with corrected variables, suspend / resume /
terminate with a reason (the reasons' way to the audit log: test_console_audit.py)."""
from __future__ import annotations

import io
import re

import pytest

from engine import accounts, db, instances, queries
from tests.bpmn_builder import end, linear, process, script, start
from tests.conftest import deploy_files
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in

DIVIDE = process(linear(start(), script("chia", "ket_qua = 10 / so_chia"), end()), process_id="chia_so")


@pytest.fixture
def analyst(app, factory):
    with db.transaction(factory) as session:
        accounts.add(session, "phan-tich-1", "mat-khau-dai", groups=["analyst"])
    client = app.test_client()
    sign_in(client, "phan-tich-1", "mat-khau-dai")
    return client


def upload(client, *files, reason="Bản sửa theo quy định mới"):
    return client.post("/dieu-hanh/quy-trinh", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, "/dieu-hanh/quy-trinh"), "tep": [(io.BytesIO(data), name) for name, data in files],
        "ly_do": reason})


def test_deploying_by_upload_shows_every_problem_then_deploys_the_fixed_file(analyst):
    broken = DIVIDE.replace(b"</bpmn:process>", b"<bpmn:task id='t' name='x'>")  # not well-formed
    refused = upload(analyst, ("chia.bpmn", broken))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "chia.bpmn" in html and "dòng" in html
    assert "Không triển khai được" in html and ">Bản sửa theo quy định mới</textarea>" in html  # the reason stays
    done = analyst.get(upload(analyst, ("chia.bpmn", DIVIDE)).headers["Location"]).get_data(as_text=True)
    assert "Đã triển khai chia_so phiên bản 1" in done
    again = analyst.get(upload(analyst, ("chia.bpmn", DIVIDE)).headers["Location"]).get_data(as_text=True)
    assert "Không đổi" in again and "chia_so" in again
    with analyst.get("/dieu-hanh/quy-trinh/chia_so:1/tep") as download:
        assert download.status_code == 200 and download.data == DIVIDE
    assert analyst.get("/dieu-hanh/quy-trinh/khong-co:1/tep").status_code == 404
    assert upload(analyst, ("ghi-chu.txt", b"x")).status_code == 400


def test_an_incident_is_found_retried_with_corrected_variables_and_the_instance_ends(analyst, factory, operator):
    deploy_files(factory, [("chia.bpmn", DIVIDE)])
    with db.transaction(factory) as session:
        iid = instances.start(session, operator, "chia_so", {"so_chia": 0}, "CHIA-0001").row.id
    found = analyst.get("/dieu-hanh/ho-so?ma=chia-00&bien=so_chia&gia_tri=0").get_data(as_text=True)
    assert f"/dieu-hanh/ho-so/{iid}" in found
    assert f"/dieu-hanh/ho-so/{iid}" not in analyst.get("/dieu-hanh/ho-so?bien=so_chia&gia_tri=5").get_data(as_text=True)
    assert analyst.get("/dieu-hanh/ho-so?tu_ngay=31/02/2026").status_code == 400
    page = analyst.get(f"/dieu-hanh/ho-so/{iid}").get_data(as_text=True)
    assert "division by zero" in page
    incident_id = re.search(r'/dieu-hanh/su-co/([^/]+)/thu-lai', page).group(1)
    token = csrf(analyst, f"/dieu-hanh/ho-so/{iid}")
    bad = analyst.post(f"/dieu-hanh/su-co/{incident_id}/thu-lai", data={"csrf_token": token, "bien_sua": "[1]",
                                                                        "ly_do": "Sửa số chia nhập nhầm"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "phải là một đối tượng JSON" in html and f'href="#bien_sua_{incident_id}"' in html
    assert ">[1]</textarea>" in html and ">Sửa số chia nhập nhầm</textarea>" in html  # what was typed stays
    unsafe = analyst.post(f"/dieu-hanh/su-co/{incident_id}/thu-lai", data={
        "csrf_token": token, "bien_sua": '{"__class__": 1}', "ly_do": "Sửa số chia nhập nhầm"})
    html = unsafe.get_data(as_text=True)
    assert unsafe.status_code == 400 and "Không thực hiện được" in html  # refused by the engine this time
    assert '>{&#34;__class__&#34;: 1}</textarea>' in html and ">Sửa số chia nhập nhầm</textarea>" in html
    analyst.post(f"/dieu-hanh/su-co/{incident_id}/thu-lai", data={"csrf_token": token, "bien_sua": '{"so_chia": 5}',
                                                                  "ly_do": "Sửa số chia nhập nhầm"})
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert detail["status"] == "completed" and detail["variables"]["ket_qua"] == 2.0


def test_suspend_needs_a_reason_then_resume_and_terminate(analyst, app, factory, operator, sample):
    with db.transaction(factory) as session:
        iid = instances.start(session, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
    path = f"/dieu-hanh/ho-so/{iid}"
    token = csrf(analyst, path)
    refused = analyst.post(f"{path}/tam-dung", data={"csrf_token": token, "ly_do": ""})
    assert refused.status_code == 400 and "Ghi lý do tạm dừng (ít nhất 5 ký tự)" in refused.get_data(as_text=True)
    analyst.post(f"{path}/tam-dung", data={"csrf_token": token, "ly_do": "Chờ sửa mô hình"})
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["status"] == "suspended"
    assert 'id="ly_do_tiep_tuc"' in analyst.get(path).get_data(as_text=True)
    analyst.post(f"{path}/tiep-tuc", data={"csrf_token": token, "ly_do": "Đã sửa mô hình"})
    analyst.post(f"{path}/ket-thuc", data={"csrf_token": token, "ly_do": "Công dân nộp trùng hồ sơ"})
    with db.transaction(factory) as session:
        row = queries.instance(session, iid)
    assert row["status"] == "terminated" and row["endReason"] == "Công dân nộp trùng hồ sơ"
    history = analyst.get(path).get_data(as_text=True)
    assert "Chờ sửa mô hình" in history and "Đã sửa mô hình" in history and "phan-tich-1" in history


def test_officers_outside_the_analyst_group_cannot_act(app, factory, operator, sample):
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-dai", groups=["mot-cua"])
        iid = instances.start(session, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-dai")
    token = csrf(client, "/can-bo/")
    assert client.get("/dieu-hanh/quy-trinh").status_code == 403
    assert client.post(f"/dieu-hanh/ho-so/{iid}/ket-thuc", data={"csrf_token": token, "ly_do": "Thử kết thúc"}).status_code == 403
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["status"] == "active"


def test_a_version_and_an_instance_are_shown_on_their_diagram(analyst, factory, operator, sample):
    with db.transaction(factory) as session:
        iid = instances.start(session, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
    definition_id = "sample_residence:1"
    counts = analyst.get(f"/dieu-hanh/quy-trinh/{definition_id}").get_data(as_text=True)
    assert "<svg" in counts and 'data-element-id="' in counts
    heat = analyst.get(f"/dieu-hanh/quy-trinh/{definition_id}?xem=nhiet&do=p90")
    assert heat.status_code == 200 and "Thời gian chờ theo bước" in heat.get_data(as_text=True)
    assert analyst.get("/dieu-hanh/quy-trinh/khong-co:1").status_code == 404
    page = analyst.get(f"/dieu-hanh/ho-so/{iid}").get_data(as_text=True)
    assert "Đường đi của hồ sơ" in page and "<svg" in page


@pytest.mark.parametrize("query, year", [("tu_ngay=01/01/0001", 1), ("den_ngay=31/12/9999", 9999),
                                         ("tu_ngay=0001-01-01", 1)])
def test_a_search_day_out_of_range_is_a_message_not_a_crash(analyst, query, year):
    found = analyst.get(f"/dieu-hanh/ho-so?{query}")
    assert found.status_code == 400
    assert f"Năm {year} nằm ngoài khoảng 2000-2100" in found.get_data(as_text=True)  # as the dashboard says
