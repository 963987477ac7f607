"""The console's change pages: moving a token from the instance page (form, preview in words, confirm), and
migrating the instances of a version (choose the version, preview the mapping and who can move, confirm, report)."""
from __future__ import annotations

import re

from engine import accounts, db, instances, queries, user_tasks
from engine.runtime import Actor
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files
from tests.webapp.console.test_console_pages import analyst  # noqa: F401  (the fixture)
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in

OPERATOR = Actor("operator", operator=True)
A_B = process(linear(start(), user_task("a"), user_task("b"), end()), process_id="hai_buoc")
A_ONLY = process(linear(start(), user_task("a"), end()), process_id="hai_buoc")


def waiting_at(factory, iid):
    with db.transaction(factory) as session:
        return [t["taskDefinitionKey"] for t in queries.user_tasks(session, instance_id=iid)]


def test_a_token_is_moved_from_the_instance_page_after_a_preview(analyst, factory):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    with db.transaction(factory) as session:
        iid = instances.start(session, OPERATOR, "hai_buoc", {"so": 1}, "HS-0001").row.id
    path = f"/dieu-hanh/ho-so/{iid}"
    html = analyst.get(path).get_data(as_text=True)
    assert "Di chuyển token" in html and '<option value="a">Task a (a)</option>' in html
    token = csrf(analyst, path)
    missing = analyst.post(f"{path}/di-chuyen/xem-truoc", data={"csrf_token": token, "tu": "a", "den": "b"})
    assert missing.status_code == 400 and "Ghi lý do di chuyển token" in missing.get_data(as_text=True)
    refused = analyst.post(f"{path}/di-chuyen/xem-truoc",
                           data={"csrf_token": token, "tu": "a", "den": "a", "ly_do": "Làm lại bước a"})
    assert refused.status_code == 400 and "Điểm đến trùng với điểm đi" in refused.get_data(as_text=True)
    form = {"csrf_token": token, "tu": "a", "den": "b", "ly_do": "Bước a đã làm trên giấy"}
    preview = analyst.post(f"{path}/di-chuyen/xem-truoc", data=form).get_data(as_text=True)
    assert "Hủy token đang ở: Task a (a)." in preview and "hồ sơ chưa từng đến bước này" in preview
    assert "Xác nhận di chuyển" in preview and "so" in preview
    assert waiting_at(factory, iid) == ["a"]
    done = analyst.post(f"{path}/di-chuyen", data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith(path)
    assert "Đã di chuyển token từ Task a (a) đến Task b (b)." in analyst.get(path).get_data(as_text=True)
    assert waiting_at(factory, iid) == ["b"]
    again = analyst.post(f"{path}/di-chuyen", data=form)  # the token is no longer there
    assert again.status_code == 400 and "Không có token nào ở a" in again.get_data(as_text=True)
    assert analyst.get("/dieu-hanh/ho-so/khong-co/di-chuyen").status_code == 404


def test_a_version_is_migrated_after_a_preview_and_the_report_names_those_left(analyst, factory):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    with db.transaction(factory) as session:
        at_a = instances.start(session, OPERATOR, "hai_buoc", {}, "HS-A").row.id
        at_b = instances.start(session, OPERATOR, "hai_buoc", {}, "HS-B").row.id
    with db.transaction(factory) as session:
        (task,) = queries.user_tasks(session, instance_id=at_b)
        user_tasks.complete(session, task["id"], Actor("x", frozenset({"staff"})), {})
    deploy_files(factory, [("p.bpmn", A_ONLY)])
    listing = analyst.get("/dieu-hanh/quy-trinh").get_data(as_text=True)
    assert "/dieu-hanh/quy-trinh/hai_buoc:1/chuyen-phien-ban" in listing
    assert "/dieu-hanh/quy-trinh/hai_buoc:2/chuyen-phien-ban" not in listing  # the newest has nowhere to go
    path = "/dieu-hanh/quy-trinh/hai_buoc:1/chuyen-phien-ban"
    preview = analyst.get(path).get_data(as_text=True)
    assert re.search(r"Task b \(b\)</td><td>userTask</td><td><strong class=\"tag tag--red\">bỏ", preview)
    assert "HS-B" in preview and "đang ở Task b (b), phần tử này không còn trong phiên bản mới" in preview
    assert f'name="phien_chay" value="{at_a}" checked' in preview and f'value="{at_b}"' not in preview
    token = csrf(analyst, path)
    refused = analyst.post(path, data={"csrf_token": token, "den": "hai_buoc:2", "phien_chay": [at_a, at_b]})
    assert refused.status_code == 400 and "Ghi lý do chuyển phiên bản" in refused.get_data(as_text=True)
    report = analyst.post(path, data={"csrf_token": token, "den": "hai_buoc:2", "phien_chay": [at_a, at_b],
                                      "ly_do": "Bỏ bước b theo quy định mới"})
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and "Đã chuyển (1)" in html and "Không chuyển được (1)" in html
    assert "HS-A" in html and "HS-B" in html and "phần tử này không còn" in html
    with db.transaction(factory) as session:
        assert [queries.instance(session, i)["definitionId"] for i in (at_a, at_b)] == ["hai_buoc:2", "hai_buoc:1"]
    assert analyst.get(f"{path}?den=hai_buoc:1").status_code == 400
    assert analyst.get("/dieu-hanh/quy-trinh/khong-co:1/chuyen-phien-ban").status_code == 404
    assert analyst.post(path, data={"csrf_token": token, "den": "hai_buoc:9", "phien_chay": [at_a],
                                    "ly_do": "Không có bản này"}).status_code == 404


def test_officers_without_the_analyst_group_cannot_change_instances(app, factory):
    deploy_files(factory, [("p.bpmn", A_B)])
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-dai", groups=["mot-cua"])
        iid = instances.start(session, OPERATOR, "hai_buoc").row.id
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-dai")
    assert client.get(f"/dieu-hanh/ho-so/{iid}/di-chuyen").status_code == 403
    assert client.get("/dieu-hanh/quy-trinh/hai_buoc:1/chuyen-phien-ban").status_code == 403
