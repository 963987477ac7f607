"""The dossier page shows the fee truthfully: waiting with a pay button, then paid once the gateway's signed
callback arrives — even when the citizen never comes back from the gateway."""
from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import requests

from engine import db, deployment, dossier_codes, external_tasks, instances, queries, user_tasks
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.webapp.portal.test_login import sign_in
from tests.webapp.test_payments import site  # noqa: F401  (the live server whose public URL is its own)
from workers import document, payment_check, runner
from workers.payments import vnpay
from workers.registry import SyntheticRegistry

OWNER = SyntheticRegistry(3000, 2026).numbers()[0]


def waiting_for_payment(factory, settings, receipts=None) -> str:
    """A birth registration with two extract copies, accepted and waiting for its fee; with ``receipts`` (a
    folder) the real document worker renders the receipt there."""
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    with db.transaction(factory) as session:
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh", {
            "citizen_id": OWNER, "applicant_name": "Nguyễn Văn An", "quan_he_voi_tre": "cha", "ho_ten_tre": "Nguyễn Minh",
            "ngay_sinh_tre": "2026-11-20", "gioi_tinh_tre": "nam", "noi_sinh_tre": "Bệnh viện tỉnh",
            "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam", "ho_ten_me": "Lê Thị Hoa", "document": "g.pdf",
            "so_ban_sao": 2, "dossier_code": code, "procedure_name": "Đăng ký khai sinh"}, code, from_form=True)
    for topic, result in (("population-lookup", {"registry_found": True}), ("esign-verify", {"signature_valid": True})):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", result)
    with db.transaction(factory) as session:
        (task,) = queries.user_tasks(session)
        user_tasks.complete(session, task["id"], Actor("can-bo", frozenset({"mot-cua"})), {"quyet_dinh": "tiep_nhan"})
    for topic in ("document", "notify"):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                result = document.handle(task.variables, out_dir=receipts) if topic == "document" and receipts else {}
                external_tasks.complete(session, task.id, "w", result)
    config = vnpay.VnpayConfig.from_settings(settings)
    (outcome,) = runner.run_once(factory, "pay-worker", {"payment-check": lambda v: payment_check.handle(v, config)})
    assert outcome.result == "completed"
    return code


def test_the_fee_is_shown_waiting_then_paid_without_the_citizen_returning(site, factory):  # noqa: F811
    server, settings = site
    code = waiting_for_payment(factory, settings)
    web = requests.Session()
    sign_in(web, server.url, OWNER, next_path=f"/ho-so/{code}")
    page = web.get(f"{server.url}/ho-so/{code}", timeout=10).text
    assert "Yêu cầu thực hiện nghĩa vụ tài chính" in page and "16.000 đồng" in page and "Chờ thanh toán" in page
    pay = re.search(r'href="(/payments/vnpay/pay/[^"]+)"', page).group(1)
    gateway = web.get(f"{server.url}{pay}", timeout=10, allow_redirects=False).headers["Location"]
    assert web.get(gateway, timeout=10).status_code == 200  # the stand-in gateway's page
    parts = urllib.parse.urlsplit(gateway)
    form = dict(urllib.parse.parse_qsl(parts.query), action="pay")
    web.post(f"{server.url}{parts.path}", data=form, timeout=30, allow_redirects=False)  # never comes back
    page = web.get(f"{server.url}/ho-so/{code}", timeout=10).text
    assert "Đã thanh toán" in page and "Chờ thanh toán" not in page and "Đang xử lý" in page
