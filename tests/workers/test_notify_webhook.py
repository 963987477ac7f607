"""The notify handler's webhook channel (against a real HTTP receiver) and its settings."""
from __future__ import annotations

import pytest

from tests.workers.notify_support import TOKEN, dossier
from workers import notify
from workers.errors import RetryableError


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
