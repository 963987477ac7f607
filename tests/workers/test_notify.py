"""The notify handler's rendering and e-mail channel against a real aiosmtpd server, and through the runner
(the webhook channel is in test_notify_webhook.py; the servers are fixtures from notify_support.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from engine import db, instances, queries
from tests.bpmn_builder import end, external, linear, process, start, user_task
from tests.conftest import deploy_files
from tests.workers.notify_support import HOSTILE, dossier
from workers import notify, runner
from workers.errors import BpmnError, RetryableError


# --- rendering --------------------------------------------------------------------------------------

SAMPLES = {"received": "Hồ sơ HS-2026-000123 đã được tiếp nhận",
           "need_more_documents": "Hồ sơ HS-2026-000123 cần bổ sung, hoàn thiện",
           "result_ready": "Hồ sơ HS-2026-000123 đã có kết quả",
           "rejected": "Hồ sơ HS-2026-000123 bị từ chối giải quyết"}


@pytest.mark.parametrize("template, subject", SAMPLES.items())
def test_every_template_renders_in_vietnamese(template, subject):
    got_subject, text, html = notify.render(template, dossier(reason="Thiếu bản sao giấy khai sinh",
                                                              missing_documents=["Giấy khai sinh"]))
    assert got_subject == subject
    assert "Kính gửi Ông/Bà Trần Thị Hạnh," in text and "Đăng ký thường trú" in text
    assert '<html lang="vi">' in html and f"<title>{subject}</title>" in html
    assert "HS-2026-000123&amp;lang=vi" in html and "HS-2026-000123&lang=vi" in text


def test_dates_are_written_the_vietnamese_way():
    _, text, _ = notify.render("received", dossier(received_at="2026-11-27T02:30:00+00:00"))
    assert "Ngày hẹn trả kết quả: 01/12/2026" in text
    assert "Thời điểm tiếp nhận: 09:30 ngày 27/11/2026" in text  # UTC+7


def test_html_escapes_what_the_applicant_typed():
    subject, text, html = notify.render("rejected", dossier(applicant_name=HOSTILE, reason="<b>Sai</b> mẫu",
                                                            status_url="javascript:alert(1)"))
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Sai&lt;/b&gt; mẫu" in html
    assert 'href="javascript' not in html  # a status URL that is not http(s) is not made a link
    assert HOSTILE in text  # plain text stays as typed


def test_a_missing_variable_is_a_template_error_and_nothing_is_sent(smtp_server):
    mailbox, settings = smtp_server
    variables = dossier()
    del variables["procedure_name"]
    with pytest.raises(BpmnError) as err:
        notify.handle(variables, {"email": notify.EmailChannel(settings)})
    assert err.value.code == "NOTIFY_TEMPLATE" and "procedure_name" in err.value.message
    with pytest.raises(BpmnError, match="reason"):
        notify.render("rejected", dossier())
    assert mailbox.messages == []


@pytest.mark.parametrize("name", ["no_such_template", "../notify", "_layout", "", None])
def test_an_unknown_template_is_a_template_error(name):
    with pytest.raises(BpmnError) as err:
        notify.handle(dossier(notify_template=name), {})
    assert err.value.code == "NOTIFY_TEMPLATE"


def test_an_unknown_channel_is_a_channel_error(smtp_server):
    _, settings = smtp_server
    with pytest.raises(BpmnError) as err:
        notify.handle(dossier(notify_channels=["email", "fax"]), {"email": notify.EmailChannel(settings)})
    assert err.value.code == "NOTIFY_CHANNEL" and "fax" in err.value.message


# --- e-mail -----------------------------------------------------------------------------------------

def test_the_email_arrives_in_vietnamese_with_text_and_html(smtp_server):
    mailbox, settings = smtp_server
    result = notify.handle(dossier(applicant_name=HOSTILE), [notify.EmailChannel(settings)])

    assert result["notify_sent"] is True
    (delivery,) = result["notify_deliveries"]
    assert delivery["channel"] == "email" and delivery["recipient"] == "hanh@example.vn"
    assert delivery["status"] == "sent" and delivery["detail"].startswith("<")
    at = dt.datetime.fromisoformat(delivery["at"])
    assert at.utcoffset() == dt.timedelta(0) and abs(dt.datetime.now(dt.timezone.utc) - at) < dt.timedelta(minutes=1)

    ((recipients, raw),) = mailbox.messages
    assert recipients == ["hanh@example.vn"]
    assert raw.isascii()  # encoded headers, quoted-printable bodies: safe for any relay
    mail = mailbox.parsed()
    assert mail["Subject"] == "Hồ sơ HS-2026-000123 đã được tiếp nhận"
    assert mail["From"].addresses[0].display_name == "Bộ phận Một cửa"
    (to,) = mail["To"].addresses
    assert (to.display_name, to.addr_spec) == (HOSTILE, "hanh@example.vn")
    assert mail["Message-ID"] == delivery["detail"] and mail["X-Motcua-Dossier"] == "HS-2026-000123"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    text, html = text.get_content(), html.get_content()
    assert 'thủ tục "Đăng ký thường trú" đã được tiếp nhận' in text and "Ngày hẹn trả kết quả: 01/12/2026" in text
    assert "<strong>Đăng ký thường trú</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_default_channel_is_email(smtp_server):
    mailbox, settings = smtp_server
    result = notify.handle(dossier(), {"email": notify.EmailChannel(settings)})
    assert [d["channel"] for d in result["notify_deliveries"]] == ["email"] and len(mailbox.messages) == 1


def test_no_email_address_is_skipped_not_an_error(smtp_server):
    mailbox, settings = smtp_server
    result = notify.handle(dossier(applicant_email=""), {"email": notify.EmailChannel(settings)})
    assert result["notify_sent"] is False
    (delivery,) = result["notify_deliveries"]
    assert (delivery["status"], delivery["recipient"]) == ("skipped", None)
    assert mailbox.messages == []


def test_smtp_server_down_is_retried(dead_smtp):
    with pytest.raises(RetryableError) as err:
        notify.handle(dossier(), {"email": notify.EmailChannel(dead_smtp)})
    assert "ConnectionRefusedError" in str(err.value)
    (delivery,) = err.value.variables["notify_deliveries"]  # for a runner out of retries
    assert delivery["status"] == "failed" and err.value.variables["notify_sent"] is False


def test_a_temporary_smtp_refusal_is_retried_a_permanent_one_is_not(smtp_server):
    mailbox, settings = smtp_server
    channel = {"email": notify.EmailChannel(settings)}
    mailbox.refuse["hanh@example.vn"] = "450 4.2.1 Mailbox busy"
    with pytest.raises(RetryableError, match="450"):
        notify.handle(dossier(), channel)

    mailbox.refuse["hanh@example.vn"] = "550 5.1.1 No such user"
    result = notify.handle(dossier(), channel)  # retrying would not help: the procedure goes on
    assert result["notify_sent"] is False
    (delivery,) = result["notify_deliveries"]
    assert delivery["status"] == "failed" and "550" in delivery["detail"]
    assert mailbox.messages == []


def test_a_malformed_address_fails_without_a_retry(smtp_server):
    mailbox, settings = smtp_server
    result = notify.handle(dossier(applicant_email="hanh@example.vn\r\nBcc: x@evil.test"),
                           {"email": notify.EmailChannel(settings)})
    assert result["notify_deliveries"][0]["status"] == "failed" and mailbox.messages == []


# --- through the runner (handler passed explicitly; the lead wires HANDLERS) ----------------------

NOTIFY_PROCESS = process(linear(start(), external("tell", "notify"), user_task("review"), end()), "notify_p")


def test_the_runner_completes_with_the_delivery_record(factory, operator, smtp_server):
    mailbox, settings = smtp_server
    deploy_files(factory, [("notify.bpmn", NOTIFY_PROCESS)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "notify_p", dossier()).row.id
    handlers = {notify.TOPIC: lambda variables: notify.handle(variables, {"email": notify.EmailChannel(settings)})}
    (outcome,) = runner.run_once(factory, "w", handlers)
    assert outcome.result == "completed" and len(mailbox.messages) == 1
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["variables"]["notify_sent"] is True
    assert detail["variables"]["notify_deliveries"][0]["status"] == "sent"
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["review"]


def test_the_runner_retries_when_the_mail_server_is_down(factory, operator, dead_smtp):
    deploy_files(factory, [("notify.bpmn", NOTIFY_PROCESS)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "notify_p", dossier()).row.id
    handlers = {notify.TOPIC: lambda variables: notify.handle(variables, {"email": notify.EmailChannel(dead_smtp)})}
    (outcome,) = runner.run_once(factory, "w", handlers)
    assert outcome.result == "failed" and outcome.detail.startswith("DeliveryFailed")
    with db.transaction(factory) as s:
        (task,) = queries.instance_detail(s, iid)["externalTasks"]
    assert task["retries"] == 2 and "ConnectionRefusedError" in task["errorMessage"]


def test_an_officer_reminder_goes_to_notify_to(smtp_server):
    mailbox, settings = smtp_server
    variables = dossier(notify_template="officer_reminder", notify_to="canbo1@motcua.vn", notify_to_name="Lê Văn Tám",
                        dossier_due_at="2026-12-01T02:00:00+00:00", dossier_overdue=False)
    result = notify.handle(variables, [notify.EmailChannel(settings)])
    assert result["notify_sent"] is True and result["notify_deliveries"][0]["recipient"] == "canbo1@motcua.vn"
    ((recipients, _),) = mailbox.messages
    assert recipients == ["canbo1@motcua.vn"]
    mail = mailbox.parsed()
    assert mail["Subject"] == "Nhắc việc: hồ sơ HS-2026-000123 sắp đến hạn giải quyết"
    text = mail.get_body(("plain",)).get_content()
    assert "Kính gửi Lê Văn Tám," in text and "Hạn trả kết quả: 09:00 ngày 01/12/2026" in text


def test_a_reminder_for_officers_without_notify_to_goes_to_the_office_mailbox_never_the_citizen(smtp_server,
                                                                                                monkeypatch):
    mailbox, settings = smtp_server
    variables = dossier(notify_template="officer_reminder", notify_audience="officers",
                        dossier_due_at="2026-12-01T02:00:00+00:00", dossier_overdue=True)
    with pytest.raises(BpmnError) as err:
        notify.handle(variables, [notify.EmailChannel(settings)])
    assert err.value.code == "NOTIFY_RECIPIENT" and "MOTCUA_OFFICE_EMAIL" in err.value.message
    monkeypatch.setenv("MOTCUA_OFFICE_EMAIL", "motcua@xa.example.vn")
    result = notify.handle(variables, [notify.EmailChannel(settings)])
    assert result["notify_deliveries"][0]["recipient"] == "motcua@xa.example.vn"
    ((recipients, _),) = mailbox.messages
    assert recipients == ["motcua@xa.example.vn"] and variables["applicant_email"] not in recipients
    with pytest.raises(BpmnError, match="notify_audience"):
        notify.handle({**variables, "notify_audience": "everyone"}, [notify.EmailChannel(settings)])


@pytest.mark.parametrize("template, needs", [("payment_failed", "16.000 đồng"), ("stopped", "Lý do: Không đủ"),
                                             ("apology", "Ngày hẹn trả kết quả mới: 03/12/2026"),
                                             ("need_more_documents", "  - Văn bản ủy quyền")])
def test_the_procedure_templates_read_the_standard_forms_variables(template, needs):
    variables = dossier(fee_vnd=16000, ly_do_dung="Không đủ điều kiện", late_reason="Cán bộ nghỉ ốm đột xuất",
                        new_due_date="2026-12-03", apology_signed_by="Chủ tịch UBND xã",
                        giay_to_thieu=["Văn bản ủy quyền"], ly_do_bo_sung="Thiếu giấy tờ")
    _, text, html = notify.render(template, variables)
    assert needs in text and "<html" in html


def test_a_long_vietnamese_subject_arrives_with_every_space(smtp_server):
    mailbox, settings = smtp_server
    variables = dossier(notify_template="apology", late_reason="Cán bộ nghỉ ốm", new_due_date="2026-12-03",
                        apology_signed_by="Chủ tịch UBND xã", dossier_code="000.00.00.H56-261201-0001")
    notify.handle(variables, [notify.EmailChannel(settings)])
    assert mailbox.parsed()["Subject"] == ("Văn bản xin lỗi và hẹn lại ngày trả kết quả hồ sơ "
                                           "000.00.00.H56-261201-0001")
