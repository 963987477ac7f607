"""The real servers the notify tests talk to: an aiosmtpd SMTP server and an HTTP webhook receiver."""
from __future__ import annotations

import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from workers import notify

HOSTILE = '<script>alert("x")</script> Nguyễn Văn An'
TOKEN = "oa-token-123"


def dossier(**extra):
    """The variables of a sample dossier's notification, with overrides."""
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
