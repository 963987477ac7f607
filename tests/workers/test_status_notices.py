"""Every status change of a dossier reaches the citizen by e-mail and the configured webhook (HMAC-signed),
once, even with several senders; a channel that is down delays the notice, never loses it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import threading

from engine import db, deployment, dossier_codes, external_tasks, instances, queries, user_tasks
from engine.citizen_models import DossierNotice
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.workers.notify_support import dead_smtp, smtp_server, webhook  # noqa: F401  (fixtures)
from workers import notify, status_notices

APPLICATION = {"citizen_id": "001099012345", "applicant_name": "Nguyễn Thị Lan", "applicant_email": "lan@example.vn",
               "quan_he_voi_tre": "me", "ho_ten_tre": "Trần Minh An", "ngay_sinh_tre": "2026-11-20",
               "gioi_tinh_tre": "nam", "noi_sinh_tre": "Bệnh viện tỉnh", "dan_toc_tre": "Kinh",
               "quoc_tich_tre": "Việt Nam", "ho_ten_me": "Nguyễn Thị Lan", "document": "g.pdf", "so_ban_sao": 0,
               "procedure_name": "Đăng ký khai sinh"}


def dossier_asked_to_supplement(factory) -> str:
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh", {**APPLICATION, "dossier_code": code}, code,
                        from_form=True)
    for topic in ("population-lookup", "esign-verify"):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {"registry_found": True, "signature_valid": True})
    with db.transaction(factory) as session:
        (task,) = queries.user_tasks(session)
        user_tasks.complete(session, task["id"], Actor("c", frozenset({"mot-cua"})),
                            {"quyet_dinh": "bo_sung", "giay_to_thieu": ["Giấy chứng sinh"]})
    for topic in ("document", "notify"):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {})
    return code


def notices(factory) -> list[DossierNotice]:
    with db.transaction(factory) as session:
        rows = session.query(DossierNotice).order_by(DossierNotice.id).all()
        session.expunge_all()
        return rows


def test_each_status_change_is_mailed_and_posted_once(factory, settings, smtp_server, webhook):  # noqa: F811
    mailbox, smtp = smtp_server
    receiver, _ = webhook
    code = dossier_asked_to_supplement(factory)
    assert [(n.status, n.sent_at) for n in notices(factory)] == [(1, None), (5, None)]
    settings = dataclasses.replace(settings, status_webhook_url=receiver.url, status_webhook_secret="bi-mat")
    senders = [threading.Thread(target=status_notices.send_due, args=(factory, settings),
                                kwargs={"email": notify.EmailChannel(smtp)}) for _ in range(3)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    subjects = [mailbox.parsed(i)["Subject"] for i in range(len(mailbox.messages))]
    assert subjects == [f"Hồ sơ {code}: Mới đăng ký", f"Hồ sơ {code}: Yêu cầu bổ sung giấy tờ"]
    assert all(recipients == ["lan@example.vn"] for recipients, _ in mailbox.messages)
    posted = [r["json"] for r in receiver.requests]
    assert [(p["dossierCode"], p["status"], p["statusLabel"]) for p in posted] == [
        (code, 1, "Mới đăng ký"), (code, 5, "Yêu cầu bổ sung giấy tờ")]
    first = receiver.requests[0]
    body = json.dumps(first["json"], ensure_ascii=False, separators=(",", ":")).encode()
    assert first["headers"]["X-Motcua-Signature"] == "sha256=" + hmac.new(b"bi-mat", body, hashlib.sha256).hexdigest()
    assert all(n.sent_at is not None and n.attempts == 1 for n in notices(factory))
    assert status_notices.send_due(factory, settings, email=notify.EmailChannel(smtp)) == 0


def test_a_channel_that_is_down_delays_the_notice_and_it_goes_later(factory, settings, dead_smtp,  # noqa: F811
                                                                    smtp_server):  # noqa: F811
    mailbox, smtp = smtp_server
    dossier_asked_to_supplement(factory)
    now = dt.datetime.now(dt.timezone.utc)
    down = notify.EmailChannel(dead_smtp)
    assert status_notices.send_due(factory, settings, now, email=down) == 0
    waiting = notices(factory)
    assert all(n.sent_at is None and n.attempts == 1 and n.next_attempt_at > now for n in waiting)
    assert "ConnectionRefusedError" in waiting[0].last_error
    assert status_notices.send_due(factory, settings, now, email=notify.EmailChannel(smtp)) == 0  # not due yet
    later = now + dt.timedelta(minutes=2)
    assert status_notices.send_due(factory, settings, later, email=notify.EmailChannel(smtp)) == 2
    assert len(mailbox.messages) == 2


def test_the_citizen_hears_when_their_dossier_is_forwarded_to_another_agency(factory, settings, smtp_server):  # noqa: F811
    from engine import dossier_actions
    from engine.office_models import Agency
    mailbox, smtp = smtp_server
    code = dossier_asked_to_supplement(factory)
    with db.transaction(factory) as session:
        session.add(Agency(code="000.00.16.H56", name="Sở Tư pháp", disabled=False,
                           created_at=dt.datetime.now(dt.timezone.utc)))
        (instance,) = queries.instances(session, business_key=code)
        dossier_actions.forward(session, instance["id"], "000.00.16.H56", Actor("can-bo-1", frozenset({"mot-cua"})),
                                "Thuộc thẩm quyền của Sở Tư pháp")
    status_notices.send_due(factory, settings, email=notify.EmailChannel(smtp))
    last = mailbox.parsed(-1)
    text = last.get_body(("plain",)).get_content()
    assert last["Subject"] == f"Hồ sơ {code}: Yêu cầu bổ sung giấy tờ"
    assert "chuyển liên thông đến Sở Tư pháp" in text and "Lý do: Thuộc thẩm quyền của Sở Tư pháp" in text
    assert "vừa chuyển sang trạng thái" not in text
