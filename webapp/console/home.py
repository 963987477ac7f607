"""The console's front page: where an analyst or a manager goes from here."""
from __future__ import annotations

from flask import g

from webapp.console import ADMIN, ANALYST, MANAGER, blueprint, page, role_required


@blueprint.get("/")
@role_required(ANALYST, MANAGER)
def home():
    """Links to the parts of the console the officer's groups open."""
    groups = g.officer.groups
    return page("console/home.html", analyst=bool({ANALYST, ADMIN} & groups), manager=bool({MANAGER, ADMIN} & groups))
