"""The operations console (blueprint ``console`` under ``/dieu-hanh``): process definitions and their diagrams,
instances and incidents for analysts, the Decision 766 dashboard for managers.

Officers sign in on the inbox's page; the console's pages need the ``analyst`` group (definitions, instances,
incidents), the ``manager`` group (the dashboard) or ``admin`` (everything). Server-rendered like the inbox, with
the portal's stylesheet and protections; every form carries a CSRF token.
"""
from __future__ import annotations

import functools

from flask import Blueprint, Flask, abort, g, render_template

from engine.runtime import Actor
from webapp.inbox.auth import officer_required
from webapp.portal import security_headers

ANALYST, MANAGER, ADMIN = "analyst", "manager", "admin"
blueprint = Blueprint("console", __name__, url_prefix="/dieu-hanh", template_folder="templates")
blueprint.after_request(security_headers)


def role_required(*groups: str):
    """A view for signed-in officers in one of ``groups`` (or ``admin``); others sign in, or get 403."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not ({*groups, ADMIN} & g.officer.groups):
                abort(403)
            return view(*args, **kwargs)
        return officer_required(wrapper)
    return decorate


def console_actor() -> Actor:
    """The engine actor of the signed-in analyst: the console's commands are operators' commands (the role was
    checked by :func:`role_required`)."""
    return Actor(g.officer.name, g.officer.groups, operator=True)


def page(template: str, status: int = 200, **context):
    """Render a console page for the signed-in officer."""
    return render_template(template, officer=g.officer, **context), status


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    from webapp.console import (change_pages, comparison_pages, dashboard_pages, definition_pages,  # noqa: F401
                                diagram_pages, home, instance_pages)  # (add the routes)
    app.register_blueprint(blueprint)
