"""The administrators' pages (blueprint ``admin`` under ``/quan-tri``): accounts, agencies and groups.

Only signed-in officers of the ``admin`` group may use them (others get 403); they sign in as every officer does,
on the inbox's page. Server-rendered like the inbox, with the portal's stylesheet and protections; every form
carries a CSRF token (Flask-WTF, switched on for the whole app by the portal).
"""
from __future__ import annotations

import functools

from flask import Blueprint, Flask, abort, g, render_template

from engine.agencies import ADMIN
from webapp.inbox.auth import officer_required
from webapp.portal import security_headers

blueprint = Blueprint("admin", __name__, url_prefix="/quan-tri", template_folder="templates")
blueprint.after_request(security_headers)


def admin_required(view):
    """A view for signed-in administrators: others are sent to sign in, or get 403 when signed in."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if ADMIN not in g.officer.groups:
            abort(403)
        return view(*args, **kwargs)
    return officer_required(wrapper)


def page(template: str, status: int = 200, **context):
    """Render an admin page for the signed-in administrator (400 when it shows errors to fix)."""
    return render_template(template, officer=g.officer, **context), status


def init_app(app: Flask) -> None:
    """Register the admin pages."""
    from webapp.admin import account_pages, office_pages  # noqa: F401  (add the routes)
    app.register_blueprint(blueprint)
