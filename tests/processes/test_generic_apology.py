"""The built-in apology process (processes/dossier-apology) for a procedure without its own: the scheduler warns a
late sample-residence dossier, the officers are reminded, the leader signs Form 04, the real document worker renders
it, the real notify worker mails it to the citizen through a real SMTP server, the original dossier gets the new
appointment, and the citizen (only the owner) and the officers download the PDF from the original dossier's pages."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import time_machine
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from engine import accounts, db, deployment, dialect, instances, queries, specs, timers, user_tasks
from engine.models import HistoryEvent
from engine.runtime import Actor
from tests.conftest import PROCESSES, deploy_files, sign_in_citizen
from tests.workers.notify_support import smtp_server  # noqa: F401  (the fixture)
from workers.runner import HANDLERS, run_once

VN = dt.timezone(dt.timedelta(hours=7))
OWNER, OTHER = "001099012345", "079188001122"
CODE = "000.00.00.H00-261130-0001"
CITIZEN = "binh.nguyen@example.vn"
OFFICE = "motcua@xa.example.vn"
HANDLER = "canbo1@xa.example.vn"
APOLOGY = PROCESSES / "dossier-apology" / "process.bpmn"
B, C = f"{{{dialect.BPMN_NS}}}", f"{{{dialect.CAMUNDA_NS}}}"
DI, DC = "{http://www.omg.org/spec/BPMN/20100524/DI}", "{http://www.omg.org/spec/DD/20100524/DC}"
WAYPOINT = "{http://www.omg.org/spec/DD/20100524/DI}waypoint"


def work(factory, handlers) -> list[str]:
    """Run the workers until no task of theirs waits; the outcome of each task."""
    results: list[str] = []
    while outcomes := run_once(factory, "w", handlers):
        results += [o.result for o in outcomes]
    return results


def citizen(client, number: str) -> None:
    sign_in_citizen(client, number, name="Nguyễn Văn Bình", birthdate="1990-01-01")


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def officer(client, name: str) -> None:
    client.post("/can-bo/dang-nhap", data={"csrf_token": csrf(client, "/can-bo/dang-nhap"), "ten": name,
                                           "mat_khau": "mat-khau-1"})


def test_a_late_dossier_without_its_own_apology_gets_form_04_the_mail_and_the_new_date(
        app, factory, settings, smtp_server, monkeypatch):  # noqa: F811
    mailbox, smtp = smtp_server
    for name, value in (("MOTCUA_SMTP_HOST", smtp.host), ("MOTCUA_SMTP_PORT", str(smtp.port)),
                        ("MOTCUA_OFFICE_EMAIL", OFFICE), ("MOTCUA_VAR_DIR", str(settings.var_dir))):
        monkeypatch.setenv(name, value)
    deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence", PROCESSES / "dossier-apology"]))
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency="000.00.00.H00")
        accounts.add(session, "lanh-dao-1", "mat-khau-1", groups=["lanh-dao"], agency="000.00.00.H00")
        accounts.add(session, "lanh-dao-2", "mat-khau-1", groups=["lanh-dao"], agency="000.00.16.H56")
    # the sample application names its applicant full_name: only the dossier row has an applicant_name; the
    # instance names the officer handling it, whom the reminder (and only the reminder) goes to
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN), tick=False):
        with db.transaction(factory) as session:
            original = instances.start(session, Actor("portal"), "sample_residence", {
                "citizen_id": OWNER, "full_name": "Nguyễn Văn Bình", "purpose": "Xin việc",
                "applicant_email": CITIZEN, "notify_to": HANDLER, "notify_to_name": "Lê Văn Tám"}, CODE).row.id
    assert work(factory, {"population-lookup": lambda v: {"registry_found": True}}) == ["completed"]

    assert timers.warn_due_soon(factory, dt.datetime(2026, 12, 3, 8, 0, tzinfo=VN)) == [original]
    with db.transaction(factory) as session:
        (apology,) = queries.instances(session, key="dossier_apology")
    assert apology["businessKey"] == CODE
    assert work(factory, dict(HANDLERS)) == ["completed"]  # the officers' reminder
    # the leader of the dossier's agency finds the task in the inbox (another agency's leader does not) and signs
    elsewhere, leader = app.test_client(), app.test_client()
    officer(elsewhere, "lanh-dao-2")
    officer(leader, "lanh-dao-1")
    assert CODE not in elsewhere.get("/can-bo/").get_data(as_text=True)
    sign = re.search(rf'href="/can-bo/viec/([^"]+)">{re.escape(CODE)}<', leader.get("/can-bo/").get_data(as_text=True))[1]
    signed = leader.post(f"/can-bo/viec/{sign}", data={
        "csrf_token": csrf(leader, f"/can-bo/viec/{sign}"), "late_reason": "Phải xác minh thêm thông tin cư trú",
        "new_due_date-ngay": "8", "new_due_date-thang": "12", "new_due_date-nam": "2026",
        "apology_signed_by": "Trần Văn Lãnh"})
    assert signed.status_code == 302, signed.get_data(as_text=True)
    assert work(factory, dict(HANDLERS)) == ["completed", "completed"]  # Form 04, then the mail

    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, apology["id"])
        clock = queries.instance_detail(session, original)["dossier"]
        extended = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == original,
                                                              HistoryEvent.kind == "dossier_extended")).all()
    assert detail["status"] == "completed"
    document = detail["variables"]["apology_document"]
    assert document["filename"] == f"{CODE}-mau-04.pdf" and document["kind"] == "mau-04"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(document["path"]).pages).split())
    assert "Kính gửi: Ông/Bà Nguyễn Văn Bình" in text
    assert "Thời gian hẹn trả kết quả mới: ngày 08 tháng 12 năm 2026" in text
    assert "vào 9 giờ 00 phút, ngày 30 tháng 11 năm 2026" in text  # received
    assert "kết quả: 9 giờ 00 phút, ngày 03 tháng 12 năm 2026" in text  # the appointment it misses
    assert "Xác nhận thông tin cư trú (quy trình mẫu)" in text and "Trần Văn Lãnh" in text

    sent = [(recipients, mailbox.parsed(i)["Subject"]) for i, (recipients, _) in enumerate(mailbox.messages)]
    assert sent == [([HANDLER], f"Nhắc việc: hồ sơ {CODE} sắp đến hạn giải quyết"),
                    ([CITIZEN], f"Văn bản xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}")]
    assert "Kính gửi Lê Văn Tám" in mailbox.parsed(0).get_body(("plain",)).get_content()
    assert "Ngày hẹn trả kết quả mới: 08/12/2026" in mailbox.parsed(1).get_body(("plain",)).get_content()

    # the original dossier keeps its due moment (still late) and gets the new appointment, 17:00 that day
    assert clock["extendedDueAt"] == dt.datetime(2026, 12, 8, 17, 0, tzinfo=VN).astimezone(dt.timezone.utc).isoformat()
    assert clock["dueAt"] == dt.datetime(2026, 12, 3, 9, 0, tzinfo=VN).astimezone(dt.timezone.utc).isoformat()
    (event,) = extended
    assert event.user_id == "lanh-dao-1" and json.loads(event.details)["byInstanceId"] == apology["id"]
    assert [h["kind"] for h in detail["history"]].count("dossier_extended") == 1

    client = app.test_client()
    citizen(client, OWNER)
    page = client.get(f"/ho-so/{CODE}").get_data(as_text=True)
    assert f"/ho-so/{CODE}/van-ban/mau-04.pdf" in page and "08/12/2026" in page
    pdf = client.get(f"/ho-so/{CODE}/van-ban/mau-04.pdf")
    assert pdf.status_code == 200 and pdf.data == Path(document["path"]).read_bytes()
    pdf.close()
    citizen(client, OTHER)
    assert client.get(f"/ho-so/{CODE}").status_code == 404
    assert client.get(f"/ho-so/{CODE}/van-ban/mau-04.pdf").status_code == 404

    desk = app.test_client()
    officer(desk, "can-bo-1")
    with db.transaction(factory) as session:
        (review,) = queries.user_tasks(session, instance_id=original)
    page = desk.get(f"/can-bo/viec/{review['id']}").get_data(as_text=True)
    assert f"/can-bo/viec/{review['id']}/tai-lieu/mau-04" in page
    assert "Hẹn lại ngày trả kết quả: 17:00 08/12/2026 — lanh-dao-1 ký phiếu xin lỗi" in page
    pdf = desk.get(f"/can-bo/viec/{review['id']}/tai-lieu/mau-04")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()


def test_a_finished_or_unnamed_dossier_is_not_extended(factory, operator):
    deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence", PROCESSES / "dossier-apology"]))
    with db.transaction(factory) as session:
        done = instances.start(session, operator, "sample_residence", {"citizen_id": OWNER, "full_name": "A",
                                                                        "purpose": "Xin việc"}, "H-DONE").row.id
        instances.terminate(session, done, operator, "thử")
    for target in (done, "no-such-instance", None):
        with db.transaction(factory) as session:
            iid = instances.start(session, operator, "dossier_apology", {
                "dossier_code": "H-DONE", "dossier_instance_id": target, "procedure_name": "Thử",
                "dossier_due_at": "2026-12-03T02:00:00+00:00", "applicant_name": "A"}, "H-DONE").row.id
        work(factory, {"notify": lambda v: {"notify_sent": True}})
        with db.transaction(factory) as session:
            (sign,) = queries.user_tasks(session, instance_id=iid)
            user_tasks.complete(session, sign["id"], operator, {"late_reason": "Chưa xác minh xong hồ sơ",
                                                                "new_due_date": "2026-12-08", "apology_signed_by": "B"})
        with db.transaction(factory) as session:
            assert queries.instance_detail(session, done)["dossier"]["extendedDueAt"] is None
            assert "dossier_extended" not in {h["kind"] for h in queries.instance_detail(session, iid)["history"]}


def test_the_diagram_is_drawn_in_full_left_to_right_without_overlaps():
    data = APOLOGY.read_bytes()
    specs.build_parser({"process.bpmn": data}, {}, validate=True)  # the BPMN 2.0 schema
    root = dialect.parse_xml(data)
    process = root.find(f"{B}process")
    bounds = {}
    for shape in root.iter(f"{DI}BPMNShape"):
        box = shape.find(f"{DC}Bounds")
        bounds[shape.get("bpmnElement")] = tuple(float(box.get(k)) for k in ("x", "y", "width", "height"))
    nodes = [el for el in process if isinstance(el.tag, str) and etree.QName(el).localname.endswith(("Task", "Event"))]
    assert {el.get("id") for el in nodes} == set(bounds)
    boxes = sorted(bounds.values())
    assert all(a[0] + a[2] < b[0] for a, b in zip(boxes, boxes[1:]))  # one row, no shape over another
    edges = {e.get("bpmnElement"): [(float(w.get("x")), float(w.get("y"))) for w in e.iter(WAYPOINT)]
             for e in root.iter(f"{DI}BPMNEdge")}
    flows = process.findall(f"{B}sequenceFlow")
    assert {f.get("id") for f in flows} == set(edges)
    for flow in flows:  # each edge leaves its source's right side and enters its target's left side
        (x1, y1), (x2, y2) = edges[flow.get("id")][0], edges[flow.get("id")][-1]
        sx, sy, sw, sh = bounds[flow.get("sourceRef")]
        tx, ty, tw, th = bounds[flow.get("targetRef")]
        assert (x1, x2) == (sx + sw, tx) and y1 == sy + sh / 2 and y2 == ty + th / 2, flow.get("id")
    order = [f.get("targetRef") for f in flows]
    assert order == ["Task_remind", "Task_apology", "Task_apology_document", "Task_send_apology", "End_apology"]
    sign = process.find(f"{B}userTask[@id='Task_apology']")
    assert [(p.get("name"), p.get("value")) for p in sign.iter(f"{C}property")] == [("dossier_clock", "extend")]
