"""Fixtures: databases (SQLite and PostgreSQL), session factories, deployed sample procedure, actors.

PostgreSQL tests use the server at 127.0.0.1:5432 (database ``test``; override with
``MOTCUA_TEST_PG_URL``), each in a schema of its own that is dropped afterwards. Without the server they
are skipped, unless ``MOTCUA_REQUIRE_PG=1`` (CI), where they fail.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import accounts, db, deployment, schema, sightings
from engine.runtime import Actor
from engine.specs import SPECS

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
DATA = Path(__file__).resolve().parent / "data"
PG_URL = os.environ.get("MOTCUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


_PG = None


def require_pg() -> None:
    """Skip the test without PostgreSQL, or fail if it is required."""
    global _PG
    if _PG is None:
        _PG = _pg_available()
    if not _PG:
        if os.environ.get("MOTCUA_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (MOTCUA_REQUIRE_PG=1) but {PG_URL} cannot be reached")
        pytest.skip("PostgreSQL is not available")


CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
JS_MODULES = ROOT / "tests" / "js" / "node_modules"


def require_js(package: str) -> Path:
    """The folder of an npm package the browser tests use (``make test`` installs them into tests/js)."""
    folder = JS_MODULES / package
    if not folder.exists():
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{package} is missing: run 'npm ci --prefix tests/js' (make test does)")
        pytest.skip(f"{package} is not installed (npm ci --prefix tests/js)")
    return folder
ARTIFACTS = Path(os.environ.get("MOTCUA_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts"))


def require_browser() -> str:
    """The Chromium to drive (``MOTCUA_CHROMIUM`` or Debian's); skip without one, or fail if it is required."""
    found = next((p for p in (os.environ.get("MOTCUA_CHROMIUM"), *CHROMIUM_PATHS) if p and Path(p).exists()), None)
    if found is None:
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (MOTCUA_REQUIRE_BROWSER=1) but none was found: apt-get install chromium")
        pytest.skip("Chromium is not installed")
    return found


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page (rule id and the elements at fault)."""
    page.add_script_tag(path=str(require_js("axe-core") / "axe.min.js"))
    return page.evaluate("async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
                         ".violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)}))", WCAG_TAGS)


def screenshot(page, folder: str, step: str) -> None:
    """Save a full-page screenshot under var/test-artifacts/<folder>/<step>.png."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / folder / f"{step}.png"), full_page=True)


def axe_checked(page, folder: str, step: str) -> None:
    """Screenshot the page, then fail on any accessibility violation, naming the step."""
    screenshot(page, folder, step)
    violations = axe_violations(page)
    assert violations == [], f"{step}: {json.dumps(violations, ensure_ascii=False)}"


def sign_in_officer(browser, url: str, name: str, password: str):
    """A new desktop-sized browser context signed in to the officers' pages as ``name``; (context, page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/can-bo/")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    return context, page


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Playwright (Debian's Chromium; Playwright downloads nothing). Module-scoped:
    Playwright's sync API keeps an event loop running in this thread, which breaks asyncio.run (pyHanko) in
    the tests that come after it."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=["--no-sandbox", "--allow-file-access-from-files"])
        try:
            yield chromium
        finally:
            chromium.close()


class PgSchema:
    """A throw-away schema in the PostgreSQL test database."""

    def __init__(self) -> None:
        self.name = f"motcua_test_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(PG_URL)
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))

    @property
    def url(self) -> str:
        """A URL whose connections use the schema."""
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path):
    """A fresh, migrated database: SQLite in a temporary folder, or a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'motcua.db'}"
        yield url
        return
    require_pg()
    pg = PgSchema()
    try:
        yield pg.url
    finally:
        pg.drop()


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite database URL, for tests that need only one backend."""
    return f"sqlite:///{tmp_path / 'motcua.db'}"


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema URL."""
    require_pg()
    pg = PgSchema()
    try:
        yield pg.url
    finally:
        pg.drop()


@pytest.fixture
def engine(database_url):
    """A SQLAlchemy engine on a migrated database."""
    eng = db.make_engine(database_url)
    schema.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine):
    """A session factory on the test database."""
    SPECS.clear()
    return db.make_session_factory(engine)


def deploy_files(factory, files, forms_dir=FORMS):
    """Deploy (name, bytes) files in one transaction and return the result."""
    with db.transaction(factory) as session:
        return deployment.deploy(session, files, forms_dir)


@pytest.fixture
def sample(factory):
    """The sample procedure, deployed."""
    return deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence"]))


@pytest.fixture
def operator():
    """A trusted operator."""
    return Actor("operator", operator=True)


@pytest.fixture
def officer():
    """An officer of the one-stop desk."""
    return Actor("officer1", frozenset({"mot-cua"}))


@pytest.fixture
def leader():
    """An agency leader."""
    return Actor("leader1", frozenset({"lanh-dao"}))


@pytest.fixture
def settings(database_url, tmp_path):
    """Settings for a web app or worker on the test database."""
    from engine.config import load_settings
    return dataclasses.replace(load_settings({"MOTCUA_VNEID_STANDIN": "1", "MOTCUA_VNPAY_STANDIN": "1"}),
                               database_url=database_url, var_dir=tmp_path / "var")


@pytest.fixture
def app(settings, factory):
    """The web app on the test database."""
    from webapp.app import create_app
    from webapp.rest import auth
    auth.forget_cached()
    sightings.forget_cache()
    app = create_app(settings, factory)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    """Flask's test client for the app."""
    return app.test_client()


@pytest.fixture
def service_token(factory):
    """A service account ``worker-bot`` and its bearer token."""
    with db.transaction(factory) as session:
        accounts.add(session, "worker-bot", service=True)
        return accounts.issue_token(session, "worker-bot")


@pytest.fixture
def bot(service_token):
    """Authorization headers of the service account."""
    return {"Authorization": f"Bearer {service_token}"}


@pytest.fixture
def people(factory):
    """An officer (group mot-cua) and a leader (group lanh-dao) who log in with passwords."""
    with db.transaction(factory) as session:
        accounts.add(session, "officer1", "officer-pass", ["mot-cua"])
        accounts.add(session, "leader1", "leader-pass", ["lanh-dao"])
    return {"officer1": basic("officer1", "officer-pass"), "leader1": basic("leader1", "leader-pass")}


def sign_in_citizen(client, number: str, **details) -> None:
    """Put a signed-in citizen into the test client's session, as the portal's sign-in does (with its server-side
    session), without going through the identity provider."""
    from engine import web_sessions
    from webapp.portal.sessions import SESSION_HOURS
    with db.transaction(client.application.extensions["motcua"].factory) as session:
        sid = web_sessions.open_session(session, "citizen", number, dt.timedelta(hours=SESSION_HOURS))
    with client.session_transaction() as cookie:
        cookie["citizen"] = {"so_dinh_danh": number, "sub": number, **details, "sid": sid}


def basic(user: str, password: str) -> dict[str, str]:
    """HTTP Basic authorization headers."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class LiveServer:
    """The app served over real HTTP on a free port, in a thread (werkzeug, threaded)."""

    def __init__(self, app, port: int = 0):
        from werkzeug.serving import make_server
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The app on a free port; ``.url`` is its base URL and the app's public URL (the links it builds, and the
    portal's callback the VNeID stand-in has registered, point at this server)."""
    server = LiveServer(app)
    state = app.extensions["motcua"]
    state.settings = dataclasses.replace(state.settings, public_url=server.url)
    yield server
    server.stop()


def wait_for(condition, timeout: float = 30.0, interval: float = 0.02, message: str = "condition"):
    """Poll ``condition`` until it returns a true value (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
