"""The console's actions are in the audit log under the signed-in analyst's name with the reason typed in the form:
deploying a new version, suspending, resuming and terminating an instance, retrying an incident (a failed expression
or a worker's task), moving a token and migrating instances. Each reason is required: a missing or too long one is
told in the error summary next to its field, keeps what was typed and changes nothing."""
from __future__ import annotations

import io
import re

import pytest

from engine import audit, db, external_tasks, instances, queries
from engine.runtime import Actor
from tests.bpmn_builder import end, external, linear, process, start, user_task
from tests.conftest import deploy_files
from tests.webapp.console.test_console_pages import DIVIDE, analyst  # noqa: F401  (the fixture)
from tests.webapp.inbox.test_inbox_pages import csrf

OPERATOR = Actor("operator", operator=True)
REASON = "Theo Quyết định số 15/QĐ-UBND"
A_B = process(linear(start(), user_task("a"), user_task("b"), end()), process_id="hai_buoc")
A_B_C = process(linear(start(), user_task("a"), user_task("b"), user_task("c"), end()), process_id="hai_buoc")
WORKER = process(linear(start(), external("gui", "notify"), end()), process_id="gui_thu")


def by_analyst(factory) -> list[tuple[str, str, str | None]]:
    """What the analyst did, newest first: (action, kind of target, reason)."""
    with db.transaction(factory) as session:
        return [(r["action"], r["targetKind"], r["reason"]) for r in audit.listing(session, actor="phan-tich-1")]


def post(client, path, data, page):
    return client.post(path, data={"csrf_token": csrf(client, page), **data})


def summary_links(html: str) -> dict[str, str]:
    """The error summary's messages by the field they link to."""
    return dict(re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', html))


def started(factory, key="hai_buoc", variables=None) -> str:
    with db.transaction(factory) as session:
        return instances.start(session, OPERATOR, key, variables or {}, "HS-0001").row.id


def status(factory, iid) -> str:
    with db.transaction(factory) as session:
        return queries.instance(session, iid)["status"]


def upload(client, reason):
    return client.post("/dieu-hanh/quy-trinh", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, "/dieu-hanh/quy-trinh"), "tep": [(io.BytesIO(A_B), "p.bpmn")], "ly_do": reason})


def test_deploying_needs_a_reason_and_the_audit_log_keeps_it(analyst, factory):  # noqa: F811
    for reason, message in (("", "Ghi lý do triển khai phiên bản mới (ít nhất 5 ký tự)"),
                            ("x" * 501, "Lý do triển khai phiên bản mới dài quá 500 ký tự (đang có 501 ký tự)")):
        refused = upload(analyst, reason)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400 and summary_links(html) == {"ly_do": message}
        assert f">{reason}</textarea>" in html and 'aria-describedby="ly_do-hint ly_do-error"' in html
    with db.transaction(factory) as session:
        assert queries.definitions(session) == []
    assert by_analyst(factory) == []
    assert upload(analyst, f"  {REASON}  ").status_code == 302
    assert by_analyst(factory) == [("deploy", "deployment", REASON)]
    assert upload(analyst, "Tải lại cùng tệp").status_code == 302  # identical content deploys nothing: no row
    assert by_analyst(factory) == [("deploy", "deployment", REASON)]


def test_suspend_resume_and_terminate_keep_their_reasons(analyst, factory):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    iid = started(factory)
    path = f"/dieu-hanh/ho-so/{iid}"
    for action, field, what, after, reason in (
            ("tam-dung", "ly_do_tam_dung", "tạm dừng", "suspended", "Chờ sửa mô hình"),
            ("tiep-tuc", "ly_do_tiep_tuc", "cho chạy tiếp", "active", "Đã sửa xong mô hình"),
            ("ket-thuc", "ly_do_ket_thuc", "kết thúc", "terminated", "Công dân nộp trùng")):
        before = status(factory, iid)
        refused = post(analyst, f"{path}/{action}", {"ly_do": " ok "}, path)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400 and summary_links(html) == {field: f"Ghi lý do {what} (ít nhất 5 ký tự)"}
        assert f'id="{field}-error"' in html and "> ok </textarea>" in html  # as typed
        assert status(factory, iid) == before
        assert post(analyst, f"{path}/{action}", {"ly_do": reason}, path).status_code == 302
        assert status(factory, iid) == after
    assert by_analyst(factory) == [("instance_terminate", "instance", "Công dân nộp trùng"),
                                   ("instance_resume", "instance", "Đã sửa xong mô hình"),
                                   ("instance_suspend", "instance", "Chờ sửa mô hình")]


def test_resume_without_a_reason_keeps_the_instance_suspended(analyst, factory):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    iid = started(factory)
    with db.transaction(factory) as session:
        instances.suspend(session, iid, OPERATOR, "Chờ")
    path = f"/dieu-hanh/ho-so/{iid}"
    refused = post(analyst, f"{path}/tiep-tuc", {}, path)
    assert refused.status_code == 400
    assert summary_links(refused.get_data(as_text=True)) == {
        "ly_do_tiep_tuc": "Ghi lý do cho chạy tiếp (ít nhất 5 ký tự)"}
    assert status(factory, iid) == "suspended" and by_analyst(factory) == []


def test_retrying_a_failed_expression_needs_a_reason_kept_in_the_log_and_the_history(analyst, factory):  # noqa: F811
    deploy_files(factory, [("chia.bpmn", DIVIDE)])
    iid = started(factory, "chia_so", {"so_chia": 0})
    path = f"/dieu-hanh/ho-so/{iid}"
    incident_id = re.search(r"/dieu-hanh/su-co/([^/]+)/thu-lai", analyst.get(path).get_data(as_text=True)).group(1)
    retry = f"/dieu-hanh/su-co/{incident_id}/thu-lai"
    refused = post(analyst, retry, {"bien_sua": '{"so_chia": 5}', "ly_do": ""}, path)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and summary_links(html) == {
        f"ly_do_thu_lai_{incident_id}": "Ghi lý do thử lại sự cố (ít nhất 5 ký tự)"}
    assert ">{&#34;so_chia&#34;: 5}</textarea>" in html  # the corrected variables typed stay
    assert status(factory, iid) == "active" and by_analyst(factory) == []
    assert post(analyst, retry, {"bien_sua": '{"so_chia": 5}', "ly_do": "Cán bộ nhập nhầm số chia"}, path
                ).status_code == 302
    assert status(factory, iid) == "completed"
    assert by_analyst(factory) == [("incident_retry", "incident", "Cán bộ nhập nhầm số chia")]
    assert "Cán bộ nhập nhầm số chia" in analyst.get(path).get_data(as_text=True)  # in the history too


def test_retrying_a_workers_task_keeps_its_reason(analyst, factory):  # noqa: F811
    deploy_files(factory, [("gui.bpmn", WORKER)])
    iid = started(factory, "gui_thu")
    with db.transaction(factory) as session:
        (task,) = external_tasks.fetch_and_lock(session, "w", {"notify": 60000})
        external_tasks.failure(session, task.id, "w", "máy chủ thư không trả lời", retries=0)
    path = f"/dieu-hanh/ho-so/{iid}"
    incident_id = re.search(r"/dieu-hanh/su-co/([^/]+)/thu-lai", analyst.get(path).get_data(as_text=True)).group(1)
    retry = f"/dieu-hanh/su-co/{incident_id}/thu-lai"
    assert post(analyst, retry, {}, path).status_code == 400
    with db.transaction(factory) as session:
        assert queries.instance_detail(session, iid)["openIncidents"] == 1
    assert post(analyst, retry, {"ly_do": "Máy chủ thư đã chạy lại"}, path).status_code == 302
    assert by_analyst(factory) == [("incident_retry", "external_task", "Máy chủ thư đã chạy lại")]


def test_moving_a_token_and_migrating_keep_their_reasons(analyst, factory):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    iid = started(factory)
    path = f"/dieu-hanh/ho-so/{iid}"
    move = {"tu": "a", "den": "b", "ly_do": "y" * 501}
    too_long = post(analyst, f"{path}/di-chuyen", move, path)
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 400 and "Lý do di chuyển token dài quá 500 ký tự" in html
    assert ">" + "y" * 501 + "</textarea>" in html and by_analyst(factory) == []
    assert post(analyst, f"{path}/di-chuyen", {**move, "ly_do": "Bước a đã làm trên giấy"}, path).status_code == 302
    deploy_files(factory, [("p.bpmn", A_B_C)])
    migrate = "/dieu-hanh/quy-trinh/hai_buoc:1/chuyen-phien-ban"
    refused = post(analyst, migrate, {"den": "hai_buoc:2", "phien_chay": [iid]}, migrate)
    assert refused.status_code == 400 and summary_links(refused.get_data(as_text=True)) == {
        "ly_do": "Ghi lý do chuyển phiên bản (ít nhất 5 ký tự)"}
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["definitionId"] == "hai_buoc:1"
    assert post(analyst, migrate, {"den": "hai_buoc:2", "phien_chay": [iid], "ly_do": REASON},
                migrate).status_code == 200
    assert by_analyst(factory) == [("instance_migrate", "instance", REASON),
                                   ("instance_modify", "instance", "Bước a đã làm trên giấy")]


@pytest.mark.parametrize("path", ["/dieu-hanh/ho-so/{iid}", "/dieu-hanh/ho-so/{iid}/di-chuyen",
                                  "/dieu-hanh/quy-trinh"])
def test_reason_fields_are_labelled_textareas_with_a_hint(analyst, factory, path):  # noqa: F811
    deploy_files(factory, [("p.bpmn", A_B)])
    html = analyst.get(path.format(iid=started(factory))).get_data(as_text=True)
    fields = re.findall(r'<textarea class="textarea" id="(ly_do[^"]*)" name="ly_do" rows="\d" '
                        r'aria-describedby="\1-hint">', html)
    assert fields and all(f'<label class="label" for="{f}">Lý do' in html for f in fields)
    assert all(re.search(rf'id="{f}-hint">[^<]*tối đa 500 ký tự', html) for f in fields)
