"""The notify handler against real servers: an aiosmtpd SMTP server and an HTTP webhook receiver."""
from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from engine import db, instances, queries
from tests.bpmn_builder import end, external, linear, process, start, user_task
from tests.conftest import deploy_files
from workers import notify, runner
from workers.errors import BpmnError, RetryableError

HOSTILE = '<script>alert("x")</script> Nguyễn Văn An'
TOKEN = "oa-token-123"


def dossier(**extra):
    variables = {"notify_template": "received", "dossier_code": "HS-2026-000123",
                 "procedure_name": "Đăng ký thường trú", "applicant_name": "Trần Thị Hạnh",
                 "applicant_email": "hanh@example.vn", "appointment_date": "2026-12-01",
                 "status_url": "https://motcua.example/tra-cuu?ma=HS-2026-000123&lang=vi"}
    variables.update(extra)
    return variables


# --- a real SMTP server -----------------------------------------------------------------------------

class Mailbox:
    """aiosmtpd handler: keeps every message; refuses the recipients in ``refuse`` with their reply."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Recorded before the 250 reply, so the message is here once smtplib returns: no waiting.
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1):
        return email.message_from_bytes(self.messages[index][1], policy=policy.default)


class _AnyPortController(Controller):
    """Listens on a port the OS picks (port 0), so no free-port race. aiosmtpd's Controller connects to
    ``self.port`` once after binding (``_trigger_server``, its documented subclass hook); learn the real
    port first."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = _AnyPortController(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield mailbox, notify.SmtpSettings(host="127.0.0.1", port=controller.port,
                                           sender="Bộ phận Một cửa <no-reply@motcua.test>", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def dead_smtp():
    """A port with nothing listening: bound but not listening, so connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield notify.SmtpSettings(host="127.0.0.1", port=sock.getsockname()[1], timeout=5)


# --- a real webhook receiver ------------------------------------------------------------------------

class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Hook)
        self.requests: list[dict] = []
        self.status = 200
        self.reply: dict = {"error": 0, "message": "Success", "data": {"message_id": "msg-1"}}
        self.location: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/oa/message"


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": self.headers,
                                     "json": json.loads(body.decode("utf-8"))})
        reply = json.dumps(self.server.reply).encode()
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture
def webhook(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # talk to the local receiver directly
    receiver = _Receiver()
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver, notify.WebhookSettings(url=receiver.url, token=TOKEN, timeout=5)
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(5)


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


# --- webhook ----------------------------------------------------------------------------------------

def test_the_webhook_gets_json_with_the_token(webhook):
    receiver, settings = webhook
    result = notify.handle(dossier(notify_channels=["zalo"], zalo_user_id="8412345678"),
                           {"zalo": notify.WebhookChannel(settings)})
    assert result["notify_sent"] is True
    assert result["notify_deliveries"][0] | {"at": None} == {
        "channel": "zalo", "recipient": "8412345678", "status": "sent", "detail": "HTTP 200, msg-1", "at": None}
    (request,) = receiver.requests
    assert request["path"] == "/oa/message"
    assert request["headers"]["access_token"] == TOKEN
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = request["json"]
    assert body["recipient"] == {"user_id": "8412345678"}
    assert body["message"]["text"].startswith("Hồ sơ HS-2026-000123 đã được tiếp nhận\n\nKính gửi Ông/Bà Trần Thị Hạnh,")


def test_email_sent_and_webhook_500_completes_with_one_failure(smtp_server, webhook):
    mailbox, smtp_settings = smtp_server
    receiver, hook_settings = webhook
    receiver.status, receiver.reply = 500, {"error": "internal"}
    channels = {"email": notify.EmailChannel(smtp_settings), "zalo": notify.WebhookChannel(hook_settings)}

    result = notify.handle(dossier(notify_channels=["email", "zalo"], zalo_user_id="84999"), channels)

    assert result["notify_sent"] is True
    assert [(d["channel"], d["status"]) for d in result["notify_deliveries"]] == [("email", "sent"), ("zalo", "failed")]
    assert result["notify_deliveries"][1]["detail"].startswith("HTTP 500")
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1


def test_webhook_500_alone_is_retried_a_400_is_not(webhook):
    receiver, settings = webhook
    channels = {"zalo": notify.WebhookChannel(settings)}
    variables = dossier(notify_channels="zalo", zalo_user_id="84999")
    receiver.status = 503
    with pytest.raises(RetryableError, match="HTTP 503"):
        notify.handle(variables, channels)
    receiver.status = 400
    result = notify.handle(variables, channels)
    assert result["notify_sent"] is False and result["notify_deliveries"][0]["detail"].startswith("HTTP 400")


def test_a_zalo_style_error_reply_is_a_failure(webhook):
    receiver, settings = webhook
    receiver.reply = {"error": -213, "message": "User has not followed the OA"}
    result = notify.handle(dossier(notify_channels=["zalo"], zalo_user_id="84999"),
                           {"zalo": notify.WebhookChannel(settings)})
    (delivery,) = result["notify_deliveries"]
    assert delivery["status"] == "failed" and "-213" in delivery["detail"]


def test_a_redirect_is_not_followed_with_the_token(webhook):
    receiver, settings = webhook
    receiver.status, receiver.location = 307, receiver.url + "/elsewhere"
    result = notify.handle(dossier(notify_channels=["zalo"], zalo_user_id="84999"),
                           {"zalo": notify.WebhookChannel(settings)})
    assert result["notify_deliveries"][0]["status"] == "failed" and len(receiver.requests) == 1


def test_webhook_unreachable_is_retried(dead_smtp):
    settings = notify.WebhookSettings(url=f"http://127.0.0.1:{dead_smtp.port}/hook", token=TOKEN, timeout=5)
    with pytest.raises(RetryableError, match="ConnectionRefusedError"):
        notify.handle(dossier(notify_channels=["zalo"], zalo_user_id="84999"), {"zalo": notify.WebhookChannel(settings)})


def test_no_zalo_user_skips_zalo_and_email_still_goes(smtp_server, webhook):
    mailbox, smtp_settings = smtp_server
    receiver, hook_settings = webhook
    result = notify.handle(dossier(notify_channels=["email", "zalo"], applicant_phone="0912345678"),
                           {"email": notify.EmailChannel(smtp_settings), "zalo": notify.WebhookChannel(hook_settings)})
    assert [(d["channel"], d["status"]) for d in result["notify_deliveries"]] == [("email", "sent"), ("zalo", "skipped")]
    assert receiver.requests == [] and len(mailbox.messages) == 1


def test_nothing_sent_but_one_channel_may_recover_is_retried(dead_smtp, webhook):
    receiver, hook_settings = webhook
    receiver.status = 502  # no address: email skipped; the webhook is down for now
    with pytest.raises(RetryableError):
        notify.handle(dossier(notify_channels=["email", "zalo"], applicant_email=None, zalo_user_id="84999"),
                      {"email": notify.EmailChannel(dead_smtp), "zalo": notify.WebhookChannel(hook_settings)})


# --- settings ---------------------------------------------------------------------------------------

def test_settings_from_the_environment():
    assert notify.SmtpSettings.from_env({}) == notify.SmtpSettings("localhost", 8025, notify.SmtpSettings.sender, 10.0)
    env = {"MOTCUA_SMTP_HOST": "mail.gov.vn", "MOTCUA_SMTP_PORT": "2525", "MOTCUA_SMTP_FROM": "a@gov.vn",
           "MOTCUA_SMTP_TIMEOUT": "2.5", "MOTCUA_ZALO_WEBHOOK_URL": "https://oa.example/v3/message",
           "MOTCUA_ZALO_TOKEN": "t", "MOTCUA_ZALO_TIMEOUT": "3"}
    assert notify.SmtpSettings.from_env(env) == notify.SmtpSettings("mail.gov.vn", 2525, "a@gov.vn", 2.5)
    assert notify.WebhookSettings.from_env(env) == notify.WebhookSettings("https://oa.example/v3/message", "t", 3.0)
    with pytest.raises(ValueError, match="MOTCUA_SMTP_PORT"):
        notify.SmtpSettings.from_env({"MOTCUA_SMTP_PORT": "smtp"})


def test_an_unconfigured_webhook_fails_without_a_retry():
    result = notify.handle(dossier(notify_channels=["zalo"], zalo_user_id="84999"),
                           {"zalo": notify.WebhookChannel(notify.WebhookSettings())})
    assert result["notify_deliveries"][0]["status"] == "failed" and result["notify_sent"] is False


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
