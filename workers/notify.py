"""Topic ``notify``: tell the applicant how their dossier is going, by e-mail and/or a Zalo-style webhook.

The message is rendered from ``workers/templates/notify/<name>.txt.j2`` (plain text; its ``subject``
block is the subject) and ``<name>.html.j2`` (HTML, autoescaped), with every task variable available
and a missing one a BPMN error ``NOTIFY_TEMPLATE`` rather than a silently empty field.

A failed delivery retries and never blocks the procedure:

* nothing was sent and some channel failed with a passing error (connection refused, timeout, SMTP 4xx,
  HTTP 5xx/429) → :class:`DeliveryFailed` (a :class:`RetryableError`): the runner tries again later.
  Nothing was delivered, so a retry sends nothing twice;
* something was sent → the task completes, the other channels recorded as ``failed`` (never re-sent);
* only permanent failures (SMTP 5xx, HTTP 4xx) and/or skipped channels → the task completes with
  ``notify_sent`` false; retrying would not help.

A channel without a recipient (no e-mail address, no Zalo user id) is ``skipped``, not an error.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import re
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

import jinja2

from engine.config import load_settings
from workers.errors import BpmnError, RetryableError

TOPIC = "notify"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notify"
DEFAULT_CHANNELS = ("email",)
ZALO_TEXT_LIMIT = 2000  # characters in one Zalo OA text message
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")  # no paths, no "_layout"
_VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")

log = logging.getLogger(__name__)


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


# --- rendering --------------------------------------------------------------------------------------

def _date_vn(value: Any) -> str:
    """A date as Vietnamese write it: ``dd/mm/yyyy``, with ``HH:MM`` (Vietnam time) for a datetime.
    Anything that is not a date is shown as it is."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_VIETNAM)
        return value.strftime("%H:%M ngày %d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False,
                                                default=False),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters["date_vn"] = _date_vn
        env.tests["http_url"] = lambda value: str(value).lower().startswith(("http://", "https://"))
        _ENV = env
    return _ENV


def render(template: str, variables: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` of notification ``template``; an unknown template, a missing variable
    or a broken template is ``BpmnError("NOTIFY_TEMPLATE")``."""
    if not isinstance(template, str) or not _TEMPLATE_NAME.fullmatch(template):
        raise BpmnError("NOTIFY_TEMPLATE", f"Tên mẫu thông báo không hợp lệ: {template!r}")
    env = _environment()
    try:
        text_template = env.get_template(f"{template}.txt.j2")
        html_template = env.get_template(f"{template}.html.j2")
        context = dict(variables)
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise BpmnError("NOTIFY_TEMPLATE", f"Mẫu thông báo «{template}» không có khối subject")
        subject = " ".join("".join(subject_block(text_template.new_context(context))).split())
        text = text_template.render(context).strip() + "\n"
        html = html_template.render({**context, "subject": subject})
    except BpmnError:
        raise
    except jinja2.TemplateNotFound as err:
        raise BpmnError("NOTIFY_TEMPLATE", f"Không có mẫu thông báo «{template}» ({err.name})") from None
    except jinja2.UndefinedError as err:
        raise BpmnError("NOTIFY_TEMPLATE", f"Mẫu thông báo «{template}» thiếu biến: {err.message}") from None
    except Exception as err:  # a syntax error in the template, a filter given nonsense, ...
        raise BpmnError("NOTIFY_TEMPLATE",
                        f"Không tạo được thông báo «{template}»: {type(err).__name__}: {err}") from None
    if not subject:
        raise BpmnError("NOTIFY_TEMPLATE", f"Mẫu thông báo «{template}» cho tiêu đề trống")
    return subject, text, html


# --- channels ---------------------------------------------------------------------------------------

class EmailChannel:
    """Multipart (text + HTML) e-mail over SMTP."""

    name = "email"

    def __init__(self, settings: SmtpSettings | None = None):
        self.settings = settings or SmtpSettings.from_env()

    def build(self, message: Message) -> EmailMessage:
        """The e-mail for ``message`` (to ``message.email``, which must be a plain address)."""
        mail = EmailMessage()
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


# --- the handler ------------------------------------------------------------------------------------

def _requested(value: Any) -> list[str]:
    if value is None:
        return list(DEFAULT_CHANNELS)
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, Iterable):
        raise BpmnError("NOTIFY_CHANNEL", f"notify_channels phải là danh sách kênh, không phải {value!r}")
    result: list[str] = []
    for name in names:
        name = str(name).strip().lower()
        if name and name not in result:
            result.append(name)
    return result


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def handle(variables: dict[str, Any],
           channels: Mapping[str, Channel] | Iterable[Channel] | None = None) -> dict[str, Any]:
    """Render ``notify_template`` and deliver it on ``notify_channels`` (default ``["email"]``).

    Returns ``notify_deliveries`` (one ``{channel, recipient, status, detail, at}`` per channel) and
    ``notify_sent``. ``channels`` maps channel names to channels (default: :func:`default_channels`).
    """
    template = variables.get("notify_template")
    if not template:
        raise BpmnError("NOTIFY_TEMPLATE", "Thiếu biến notify_template")
    requested = _requested(variables.get("notify_channels"))
    subject, text, html = render(template, variables)  # before sending anything
    if channels is None:
        channels = default_channels()
    elif not isinstance(channels, Mapping):
        channels = {channel.name: channel for channel in channels}
    unknown = [name for name in requested if name not in channels]
    if unknown:
        raise BpmnError("NOTIFY_CHANNEL", f"Không có kênh thông báo: {', '.join(unknown)}")

    message = Message(template=template, subject=subject, text=text, html=html,
                      name=_text(variables.get("applicant_name")), email=_text(variables.get("applicant_email")),
                      zalo_user_id=_text(variables.get("zalo_user_id")),
                      phone=_text(variables.get("applicant_phone")), dossier_code=_text(variables.get("dossier_code")))
    results = [_deliver(channels[name], name, message) for name in requested]
    out = {"notify_deliveries": [r.to_variables() for r in results],
           "notify_sent": any(r.status == "sent" for r in results)}
    if not out["notify_sent"] and any(r.status == "failed" and r.retryable for r in results):
        raise DeliveryFailed("Chưa gửi được thông báo: " + "; ".join(
            f"{r.channel}: {r.detail}" for r in results if r.status == "failed"), out)
    return out


def _deliver(channel: Channel, name: str, message: Message) -> DeliveryResult:
    try:
        result = channel.send(message)
    except Exception as err:  # a channel should report, not raise; keep the other channels' work
        log.exception("notify channel %s raised", name, extra={"action": "notify_channel_error"})
        result = DeliveryResult(name, None, "failed", f"{type(err).__name__}: {err}", retryable=True)
    log.info("notify %s %s via %s: %s %s", message.template, message.dossier_code, name, result.status,
             result.detail, extra={"action": "notify_delivery"})
    return result
