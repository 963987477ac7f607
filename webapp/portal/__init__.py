"""The citizen portal (blueprint ``portal``): the catalogue of procedures today; applying, paying, following next.

Pages are rendered on the server and work without JavaScript (a cheap phone is the reference), in
Vietnamese, with GOV.UK's patterns: one clear heading per page, error summaries, plain words.
"""
from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("portal", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/portal-static")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def security_headers(response):
    """Every page for people forbids framing, sniffing, foreign scripts and leaking its address."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


blueprint.after_request(security_headers)


def init_app(app: Flask) -> None:
    """Register the portal's pages and filters, its signed session, CSRF protection and — without a configured
    identity provider — the VNeID stand-in."""
    from flask_wtf.csrf import CSRFProtect

    from webapp.portal import application_pages, catalogue_pages, citizens, dossier_pages, formatting, login, sessions  # noqa: F401,E501
    from webapp.portal import draft_pages, eform, file_answers, uploads, vneid_standin, withdraw_pages  # noqa: F401
    settings = app.extensions["motcua"].settings
    sessions.configure(app, settings)
    formatting.register(app)
    app.jinja_env.filters["row_errors"] = eform.row_errors  # the fields macro is shared with the inbox
    app.jinja_env.filters["file_key"] = file_answers.file_key
    app.jinja_env.filters.update(accept_attribute=uploads.accept_attribute, file_types=uploads.type_names)
    app.context_processor(lambda: {"citizen": citizens.current()})
    app.register_blueprint(blueprint)
    csrf = CSRFProtect(app)
    for name in ("engine_rest", "payments", "sandbox_vnpay"):  # machines post there, with their own checks
        if name in app.blueprints:
            csrf.exempt(app.blueprints[name])
    if settings.oidc_issuer is None and settings.vneid_standin:
        standin = vneid_standin.make_blueprint()
        app.register_blueprint(standin)
        csrf.exempt("webapp.portal.vneid_standin.token")
