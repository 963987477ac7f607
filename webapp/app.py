"""The Flask application factory: one app serves the REST API (and, later, the inbox, portal and console)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine import db
from engine.config import Settings, load_settings


@dataclass
class AppState:
    """What the app's views share: the settings and the database."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    scheduler: object | None = None  # the background scheduler of a served process


def create_app(settings: Settings | None = None, factory: sessionmaker[Session] | None = None) -> Flask:
    """Build the web app for these settings (read from the environment when not given)."""
    from webapp import admin, console, database, errors, health, inbox, payments, portal
    from webapp.rest import blueprint as rest_blueprint

    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if settings.trusted_proxies:
        # the client's address (the sign-in and look-up limits) and the scheme and host the citizen
        # used come from the proxies' X-Forwarded-* headers; without trusted proxies those headers are ignored,
        # so nobody can pick the address their failed sign-ins count against
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    if factory is None:
        engine = db.make_engine(settings.database_url, echo=settings.sql_echo)
        factory = db.make_session_factory(engine)
    app.extensions["motcua"] = AppState(settings, factory.kw["bind"], factory)
    database.init_app(app)
    errors.init_app(app)
    app.register_blueprint(rest_blueprint)
    payments.init_app(app)
    portal.init_app(app)
    inbox.init_app(app)
    admin.init_app(app)
    console.init_app(app)
    health.init_app(app)
    return app
