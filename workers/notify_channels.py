"""The delivery channels of the ``notify`` topic: e-mail over SMTP and a Zalo OA-style webhook, their
settings, and what a delivery attempt reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Protocol


from engine.config import load_settings
from workers.errors import RetryableError





log = logging.getLogger(__name__)
ZALO_TEXT_LIMIT = 2000  # characters in one Zalo OA text message


# --- settings ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes: ``MOTCUA_SMTP_HOST``, ``_PORT``, ``_FROM``, ``_TIMEOUT`` (seconds)."""

    host: str = "localhost"
    port: int = 8025
    sender: str = "Bộ phận Một cửa <no-reply@localhost>"
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """The SMTP settings, as :mod:`engine.config` reads them from this environment."""
        s = load_settings(environ)
        return cls(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_from, timeout=s.smtp_timeout)


@dataclass(frozen=True)
class WebhookSettings:
    """The Zalo OA-style webhook: ``MOTCUA_ZALO_WEBHOOK_URL``, ``MOTCUA_ZALO_TOKEN`` (sent as the
    ``access_token`` header), ``MOTCUA_ZALO_TIMEOUT`` (seconds). No URL: the channel is not configured."""

    url: str | None = None
    token: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """The webhook settings, as :mod:`engine.config` reads them from this environment."""
        s = load_settings(environ)
        return cls(url=s.zalo_webhook_url, token=s.zalo_token, timeout=s.zalo_timeout)


# Python's email package drops the space between two encoded words when it folds a long non-ASCII header at
# 78 characters ("ngày trả" arrives as "ngàytrả"); RFC 5322 allows lines up to 998, so fold there instead.
MAIL_POLICY = email_policy.SMTP.clone(max_line_length=998)


# --- messages and deliveries ------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One rendered notification and who it is for."""

    template: str
    subject: str
    text: str
    html: str
    name: str | None = None
    email: str | None = None
    zalo_user_id: str | None = None
    phone: str | None = None
    dossier_code: str | None = None


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DeliveryResult:
    """What one channel did with a message. ``retryable`` says a failure may pass (not recorded)."""

    channel: str
    recipient: str | None
    status: str  # sent, failed, skipped
    detail: str = ""
    retryable: bool = False
    at: str = field(default_factory=_utc_now)

    def to_variables(self) -> dict[str, Any]:
        return {"channel": self.channel, "recipient": self.recipient, "status": self.status,
                "detail": self.detail, "at": self.at}


class Channel(Protocol):
    """Delivers a message; returns what happened rather than raising."""

    name: str

    def send(self, message: Message) -> DeliveryResult: ...


class DeliveryFailed(RetryableError):
    """Nothing was delivered and at least one channel may work later. ``variables`` holds
    ``notify_deliveries``/``notify_sent`` so a runner that has used up the retries can complete the
    task with them instead of blocking the procedure."""

    def __init__(self, message: str, variables: dict[str, Any]):
        super().__init__(message)
        self.variables = variables


# --- channels ---------------------------------------------------------------------------------------

class EmailChannel:
    """Multipart (text + HTML) e-mail over SMTP."""

    name = "email"

    def __init__(self, settings: SmtpSettings | None = None):
        self.settings = settings or SmtpSettings.from_env()

    def build(self, message: Message) -> EmailMessage:
        """The e-mail for ``message`` (to ``message.email``, which must be a plain address)."""
        mail = EmailMessage(policy=MAIL_POLICY)
        mail["Subject"] = message.subject
        mail["From"] = self.settings.sender
        mail["To"] = Address(display_name=" ".join((message.name or "").split()), addr_spec=message.email)
        mail["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
        mail["Message-ID"] = make_msgid(domain=_domain(self.settings.sender))
        if message.dossier_code:
            mail["X-Motcua-Dossier"] = " ".join(str(message.dossier_code).split())
        # quoted-printable keeps the body 7-bit: smtplib does not ask for 8BITMIME.
        mail.set_content(message.text, cte="quoted-printable")
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
        return mail

    def send(self, message: Message) -> DeliveryResult:
        address = (message.email or "").strip()
        if not address:
            return DeliveryResult(self.name, None, "skipped", "không có địa chỉ email")
        if not _plain_address(address):
            return DeliveryResult(self.name, address, "failed", "địa chỉ email không hợp lệ")
        try:
            mail = self.build(dataclasses.replace(message, email=address))
        except (ValueError, TypeError) as err:  # e.g. a From the header parser refuses
            return DeliveryResult(self.name, address, "failed", f"không tạo được thư: {err}")
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                smtp.send_message(mail)
        except Exception as err:
            detail, retryable = _smtp_failure(err)
            return DeliveryResult(self.name, address, "failed", f"{s.host}:{s.port}: {detail}", retryable)
        return DeliveryResult(self.name, address, "sent", mail["Message-ID"])


def _plain_address(address: str) -> bool:
    _, parsed = parseaddr(address)
    return parsed == address and address.count("@") == 1 and not any(c.isspace() for c in address) \
        and all(address.split("@"))


def _domain(sender: str) -> str | None:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or None


def _smtp_failure(err: Exception) -> tuple[str, bool]:
    """A description of an SMTP failure and whether it may pass (4xx, network) or not (5xx)."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in err.recipients.values()]
        text = "; ".join(f"{code} {_decode(reply)}" for code, reply in err.recipients.values())
        return f"người nhận bị từ chối: {text}", all(400 <= code < 500 for code in codes)
    if isinstance(err, smtplib.SMTPResponseException):  # sender refused, data refused, bad greeting, ...
        code = err.smtp_code
        return f"{type(err).__name__}: {code} {_decode(err.smtp_error)}", code < 0 or 400 <= code < 500
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return f"{type(err).__name__}: {err}", False
    if isinstance(err, OSError):  # refused, unreachable, timeout, disconnected (SMTPException is an OSError)
        return f"{type(err).__name__}: {err}", True
    raise err  # not an SMTP or network failure: a bug, let the caller see it


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: it would carry the access token to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WebhookChannel:
    """A Zalo Official Account-style text message: ``POST {"recipient": {"user_id"}, "message": {"text"}}``
    with the ``access_token`` header. A Zalo-style reply ``{"error": non-zero}`` counts as a failure."""

    name = "zalo"

    def __init__(self, settings: WebhookSettings | None = None):
        self.settings = settings or WebhookSettings.from_env()
        self._opener = urllib.request.build_opener(_NoRedirect)

    def payload(self, message: Message) -> dict[str, Any]:
        text = f"{message.subject}\n\n{message.text}".strip()
        if len(text) > ZALO_TEXT_LIMIT:
            text = text[:ZALO_TEXT_LIMIT - 1] + "…"
        return {"recipient": {"user_id": message.zalo_user_id}, "message": {"text": text}}

    def send(self, message: Message) -> DeliveryResult:
        user_id = str(message.zalo_user_id).strip() if message.zalo_user_id not in (None, "") else ""
        if not user_id:
            detail = "không có zalo_user_id" + (" (chưa hỗ trợ gửi theo số điện thoại)" if message.phone else "")
            return DeliveryResult(self.name, None, "skipped", detail)
        s = self.settings
        if not s.url:
            return DeliveryResult(self.name, user_id, "failed", "chưa cấu hình MOTCUA_ZALO_WEBHOOK_URL")
        if urllib.parse.urlsplit(s.url).scheme not in ("http", "https"):
            return DeliveryResult(self.name, user_id, "failed", "MOTCUA_ZALO_WEBHOOK_URL phải là http(s)")
        body = json.dumps(self.payload(dataclasses.replace(message, zalo_user_id=user_id)),
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if s.token:
            headers["access_token"] = s.token
        request = urllib.request.Request(s.url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=s.timeout) as response:
                status, reply = response.status, response.read(65536)
        except urllib.error.HTTPError as err:
            with err:
                snippet = _snippet(err.read(2048))
            retryable = err.code >= 500 or err.code in (408, 429)
            return DeliveryResult(self.name, user_id, "failed", f"HTTP {err.code}: {snippet}".rstrip(": "),
                                  retryable)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            reason = err.reason if isinstance(err, urllib.error.URLError) else err
            return DeliveryResult(self.name, user_id, "failed", f"{type(reason).__name__}: {reason}", True)
        try:
            answer = json.loads(reply) if reply else None
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("error") not in (None, 0, "0"):
            return DeliveryResult(self.name, user_id, "failed",
                                  f"HTTP {status}, lỗi {answer.get('error')}: {answer.get('message', '')}")
        data = answer.get("data") if isinstance(answer, dict) else None
        message_id = data.get("message_id") if isinstance(data, dict) else None
        return DeliveryResult(self.name, user_id, "sent", f"HTTP {status}" + (f", {message_id}" if message_id else ""))


def _snippet(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", "replace").split())[:200]


def default_channels() -> dict[str, Channel]:
    """The channels as configured by the environment (read on each call)."""
    return {"email": EmailChannel(SmtpSettings.from_env()), "zalo": WebhookChannel(WebhookSettings.from_env())}
