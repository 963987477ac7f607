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
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from workers.errors import BpmnError
from workers.notify_channels import (  # noqa: F401  (re-exported for callers)
    Channel, DeliveryFailed, DeliveryResult, EmailChannel, Message, SmtpSettings, WebhookChannel, WebhookSettings,
    default_channels)

TOPIC = "notify"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notify"
DEFAULT_CHANNELS = ("email",)
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")  # no paths, no "_layout"
_VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")

log = logging.getLogger(__name__)



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


def _vnd(value: Any) -> str:
    """An amount in đồng as Vietnamese write it: ``16.000 đồng``."""
    try:
        return f"{int(value):,}".replace(",", ".") + " đồng"
    except (TypeError, ValueError):
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
        env.filters["vnd"] = _vnd
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


AUDIENCES = ("citizen", "officers", "agency")


def _addressed(variables: Mapping[str, Any], message: Message) -> Message:
    """Address the message: to the applicant, or — ``notify_to`` given, or ``notify_audience`` = ``officers`` /
    ``agency`` — by e-mail to that person or to the office mailbox (``MOTCUA_OFFICE_EMAIL``). A reminder meant
    for officers never goes to the citizen."""
    audience = variables.get("notify_audience") or "citizen"
    if audience not in AUDIENCES:
        raise BpmnError("NOTIFY_RECIPIENT", f"notify_audience «{audience}» không hợp lệ: {', '.join(AUDIENCES)}")
    to = _text(variables.get("notify_to"))
    if audience != "citizen" and not to:
        from engine.config import load_settings
        to = load_settings().office_email
        if not to:
            raise BpmnError("NOTIFY_RECIPIENT", "Chưa có địa chỉ nhận thông báo cho cán bộ: đặt biến notify_to "
                                                "hoặc cấu hình MOTCUA_OFFICE_EMAIL")
    if to:
        return dataclasses.replace(message, name=_text(variables.get("notify_to_name")), email=to)
    return dataclasses.replace(message, name=_text(variables.get("applicant_name")),
                               email=_text(variables.get("applicant_email")),
                               zalo_user_id=_text(variables.get("zalo_user_id")),
                               phone=_text(variables.get("applicant_phone")))


def handle(variables: dict[str, Any],
           channels: Mapping[str, Channel] | Iterable[Channel] | None = None) -> dict[str, Any]:
    """Render ``notify_template`` and deliver it on ``notify_channels`` (default ``["email"]``), to the
    applicant, or by e-mail to ``notify_to`` (``notify_to_name``) when given — e.g. ``officer_reminder``.

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

    message = _addressed(variables, Message(template=template, subject=subject, text=text, html=html,
                                            dossier_code=_text(variables.get("dossier_code"))))
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
