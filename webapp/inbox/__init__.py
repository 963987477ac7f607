"""The officers' inbox (blueprint ``inbox`` under ``/can-bo``): sign in, the tasks of one's groups and agency,
a task page with the dossier and the task's own form. Server-rendered like the portal, with its stylesheet."""
from __future__ import annotations

from flask import Blueprint, Flask

from webapp.portal import security_headers

blueprint = Blueprint("inbox", __name__, url_prefix="/can-bo", template_folder="templates")
blueprint.after_request(security_headers)  # the same protections as the portal's pages


def init_app(app: Flask) -> None:
    """Register the inbox's pages."""
    from webapp.inbox import auth, dossier_actions, list_pages, task_pages  # noqa: F401  (add the routes)
    app.register_blueprint(blueprint)
