"""Sending the notices of dossier status changes (the outbox ``dossier_notice``): an e-mail to the applicant
(template ``status_changed``) and, when configured, a JSON webhook signed with HMAC-SHA256 (header
``X-Motcua-Signature: sha256=<hex>`` over the body), e.g. for the national portal's sync or a province's app."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from sqlalchemy.orm import sessionmaker

from engine import db, dossier_notices
from engine.config import Settings
from workers import notify

log = logging.getLogger(__name__)
TEMPLATE = "status_changed"


def post_webhook(settings: Settings, body: dict) -> str | None:
    """POST the notice as JSON; None when delivered (2xx), else the error."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signature = hmac.new((settings.status_webhook_secret or "").encode(), data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(settings.status_webhook_url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "X-Motcua-Signature": f"sha256={signature}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as err:
        err.close()
        return f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return f"{type(err).__name__}: {err}"


def deliver(variables: dict, settings: Settings, email: notify.EmailChannel | None = None) -> str | None:
    """Send one notice by e-mail (if the applicant gave an address) and webhook (if configured); None when
    every configured channel took it, else the errors."""
    errors = []
    if variables.get("applicant_email"):
        result = notify.handle({**variables, "notify_template": TEMPLATE, "notify_channels": ["email"]},
                               [email or notify.EmailChannel()])
        if not result["notify_sent"]:
            errors.append("; ".join(d["detail"] or d["status"] for d in result["notify_deliveries"]))
    if settings.status_webhook_url:
        problem = post_webhook(settings, {"dossierCode": variables["dossier_code"], "status": variables["status"],
                                          "statusLabel": variables["status_label"], "at": variables["status_at"],
                                          "procedureName": variables.get("procedure_name"),
                                          "note": variables.get("status_note")})
        if problem:
            errors.append(f"webhook: {problem}")
    return "; ".join(errors) or None


def send_due(factory: sessionmaker, settings: Settings, now: dt.datetime | None = None,
             email: notify.EmailChannel | None = None) -> int:
    """Send every due notice, a batch per transaction; return how many were delivered."""
    delivered = 0
    while True:
        with db.transaction(factory) as session:
            moment = now or dt.datetime.now(dt.timezone.utc)
            batch = dossier_notices.claim(session, moment)
            for notice in batch:
                try:
                    problem = deliver(dossier_notices.variables(session, notice), settings, email)
                except Exception as err:  # noqa: BLE001 - a template or channel fault: keep the notice, retry
                    problem = f"{type(err).__name__}: {err}"
                if problem is None:
                    dossier_notices.sent(notice, moment)
                    delivered += 1
                else:
                    log.warning("notice %s of dossier %s not delivered: %s", notice.id, notice.code, problem)
                    dossier_notices.failed(notice, moment, problem)
        if len(batch) < 20:
            return delivered
