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


@blueprint.after_request
def security_headers(response):
    """Every portal page forbids framing, sniffing, foreign scripts and leaking its address."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Register the portal's pages and filters."""
    from webapp.portal import catalogue_pages, formatting  # noqa: F401  (they add their routes and filters)
    formatting.register(app)
    app.register_blueprint(blueprint)
