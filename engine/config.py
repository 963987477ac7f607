"""Configuration: every ``MOTCUA_*`` environment variable is read here and nowhere else."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent


STANDIN_TMN_CODE = "MOTCUA01"
STANDIN_HASH_SECRET = "stand-in-secret-not-for-production"  # public: only ever used by the opt-in stand-in
PORTAL_CALLBACK_PATH = "/dang-nhap/xong"  # the portal's OpenID Connect callback (webapp/portal/login.py)


@dataclass(frozen=True)
class Settings:
    """What the engine, the web app and the workers are configured with."""

    database_url: str
    var_dir: Path
    processes_dir: Path
    forms_dir: Path
    operator: str
    sql_echo: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    long_poll_max_ms: int = 1_800_000
    engine_url: str | None = None  # a remote engine's /engine-rest, for workers that run elsewhere
    worker_token: str | None = None
    worker_user: str | None = None
    worker_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    web_threads: int = 16
    web_processes: int = 1
    public_url: str = "http://localhost:5000"
    vnpay_tmn_code: str = ""  # the stand-in's public values when only the stand-in is on
    vnpay_hash_secret: str = ""
    vnpay_url: str | None = None  # a real gateway; None: the stand-in if switched on, else no payments
    vnpay_standin: bool = False  # serve the VNPay stand-in at /sandbox-vnpay (demo and tests only) when no URL
    vnpay_api_url: str | None = None
    vnpay_return_url: str | None = None
    vnpay_ipn_url: str | None = None
    registry_url: str | None = None  # the population registry over HTTP; None: the synthetic stand-in
    oidc_issuer: str | None = None  # the citizens' OpenID provider (VNeID)
    vneid_standin: bool = False  # serve the VNeID stand-in at /sandbox-vneid (demo and tests only) when no issuer
    oidc_client_id: str = "motcua-portal"
    oidc_client_secret: str = "stand-in-client-secret"
    oidc_redirect_uris: tuple[str, ...] = ()  # the client's registered redirect URIs; (): the portal's callback
    officer_oidc_issuer: str | None = None  # the province's OpenID provider officers may sign in with
    officer_oidc_client_id: str | None = None
    officer_oidc_client_secret: str | None = None
    officer_oidc_claim: str = "preferred_username"  # the ID token's claim that names the local account
    officer_oidc_scope: str = "openid profile"
    secret_key: str | None = None  # signs the portal's session cookies; None: a random key kept in var_dir
    lookup_limit: int = 10  # public dossier look-ups per client per 10 minutes
    status_webhook_url: str | None = None  # every dossier status change is POSTed here (JSON, HMAC-signed)
    status_webhook_secret: str | None = None
    registry_token: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 8025
    smtp_from: str = "Bộ phận Một cửa <no-reply@localhost>"
    leader_group: str = "lanh-dao"  # the group whose members may allow a second supplement request
    office_email: str | None = None  # where reminders to officers and partner agencies go without notify_to
    smtp_timeout: float = 10.0
    zalo_webhook_url: str | None = None
    zalo_token: str | None = None
    zalo_timeout: float = 10.0
    trust_roots_dir: Path | None = None  # trusted root certificates for e-signatures (PEM or DER files)
    uploads_dir: Path | None = None  # where uploaded documents live (None: any path is accepted)
    calendar_dir: Path = PROJECT_DIR / "calendar"  # the working calendar, one TOML file per year
    indicators_766_config: Path | None = None  # the Decision 766 indicators' TOML; None: engine/indicators766.toml
    metrics_token: str | None = None  # a bearer token for /metrics; None: only direct requests from this host
    scheduler_expected: bool | None = None  # /healthz fails without a live scheduler; None: when this process runs one
    scheduler_stale_seconds: float = 60.0  # a scheduler silent this long is taken for dead
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed; 0: none

    @property
    def payment_standin(self) -> bool:
        """Whether payments go to the local stand-in gateway (switched on, and no real terminal configured)."""
        return self.vnpay_url is None and self.vnpay_standin

    @property
    def payments_available(self) -> bool:
        """Whether fees can be paid at all: a real VNPay terminal, or the stand-in switched on."""
        return self.vnpay_url is not None or self.vnpay_standin

    @property
    def oidc_registered_redirect_uris(self) -> tuple[str, ...]:
        """The redirect URIs registered with the portal's client (``MOTCUA_OIDC_REDIRECT_URIS``), else the portal's
        own callback under the public URL: the VNeID stand-in sends a code to these, compared exactly, and nowhere
        else (RFC 6749 §3.1.2, OpenID Connect Core §3.1.2.1)."""
        return self.oidc_redirect_uris or (self.public_url + PORTAL_CALLBACK_PATH,)


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for ``postgresql://`` URLs, as that is the one motcua installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _number(env: Mapping[str, str], name: str, kind: type, default):
    raw = env.get(name)
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


def _proxies(env: Mapping[str, str]) -> int:
    count = _number(env, "MOTCUA_TRUSTED_PROXIES", int, 0)
    if not 0 <= count <= 10:
        raise ValueError(f"MOTCUA_TRUSTED_PROXIES={count} must be the number of reverse proxies in front (0 to 10)")
    return count


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise ValueError(f"{name}={raw!r} is not 1 or 0")


def _redirect_uris(env: Mapping[str, str]) -> tuple[str, ...]:
    """``MOTCUA_OIDC_REDIRECT_URIS``: absolute http(s) addresses without a fragment, separated by commas or spaces."""
    uris = tuple(u for u in re.split(r"[\s,]+", env.get("MOTCUA_OIDC_REDIRECT_URIS") or "") if u)
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or "#" in uri:
            raise ValueError(f"MOTCUA_OIDC_REDIRECT_URIS: {uri!r} is not an absolute http(s) address without a "
                             "fragment (e.g. https://dichvucong.example.gov.vn/dang-nhap/xong)")
    return uris


def _officer_oidc(env: Mapping[str, str]) -> dict:
    issuer = (env.get("MOTCUA_OFFICER_OIDC_ISSUER") or "").strip().rstrip("/") or None
    client_id = env.get("MOTCUA_OFFICER_OIDC_CLIENT_ID") or None
    secret = env.get("MOTCUA_OFFICER_OIDC_CLIENT_SECRET") or None
    if issuer and not (client_id and secret):
        raise ValueError("MOTCUA_OFFICER_OIDC_ISSUER needs MOTCUA_OFFICER_OIDC_CLIENT_ID and "
                         "MOTCUA_OFFICER_OIDC_CLIENT_SECRET")
    return {"officer_oidc_issuer": issuer, "officer_oidc_client_id": client_id, "officer_oidc_client_secret": secret,
            "officer_oidc_claim": (env.get("MOTCUA_OFFICER_OIDC_CLAIM") or "").strip() or "preferred_username",
            "officer_oidc_scope": (env.get("MOTCUA_OFFICER_OIDC_SCOPE") or "").strip() or "openid profile"}


def _vnpay(env: Mapping[str, str]) -> dict:
    url = env.get("MOTCUA_VNPAY_URL") or None
    standin = env.get("MOTCUA_VNPAY_STANDIN") == "1"
    tmn_code = env.get("MOTCUA_VNPAY_TMN_CODE") or ""
    secret = env.get("MOTCUA_VNPAY_HASH_SECRET") or ""
    if url:
        missing = [name for name, value, public in (("MOTCUA_VNPAY_TMN_CODE", tmn_code, STANDIN_TMN_CODE),
                                                    ("MOTCUA_VNPAY_HASH_SECRET", secret, STANDIN_HASH_SECRET),
                                                    # the payment checks would otherwise ask the stand-in's address
                                                    ("MOTCUA_VNPAY_API_URL", env.get("MOTCUA_VNPAY_API_URL"), None))
                   if not value or value == public]
        if missing:
            raise ValueError("MOTCUA_VNPAY_URL names a real gateway, so set " + " and ".join(missing)
                             + " to the values VNPay issued (not the stand-in's; the API URL is its QueryDR endpoint)")
    elif standin:
        tmn_code, secret = tmn_code or STANDIN_TMN_CODE, secret or STANDIN_HASH_SECRET
    return {"vnpay_url": url, "vnpay_standin": standin, "vnpay_tmn_code": tmn_code, "vnpay_hash_secret": secret}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("MOTCUA_VAR_DIR", str(PROJECT_DIR / "var")))
    database_url = env.get("MOTCUA_DATABASE_URL") or f"sqlite:///{var_dir / 'motcua.db'}"
    return Settings(
        database_url=normalize_database_url(database_url),
        var_dir=var_dir,
        processes_dir=Path(env.get("MOTCUA_PROCESSES_DIR", str(PROJECT_DIR / "processes"))),
        forms_dir=Path(env.get("MOTCUA_FORMS_DIR", str(PROJECT_DIR / "forms"))),
        operator=env.get("MOTCUA_OPERATOR", "operator"),
        sql_echo=env.get("MOTCUA_SQL_ECHO", "") in ("1", "true", "yes"),
        max_upload_bytes=int(env.get("MOTCUA_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
        engine_url=env.get("MOTCUA_ENGINE_URL") or None,
        worker_token=env.get("MOTCUA_WORKER_TOKEN") or None,
        worker_user=env.get("MOTCUA_WORKER_USER") or None,
        worker_password=env.get("MOTCUA_WORKER_PASSWORD") or None,
        host=env.get("MOTCUA_HOST", "127.0.0.1"),
        port=int(env.get("MOTCUA_PORT", "5000")),
        web_threads=int(env.get("MOTCUA_WEB_THREADS", "16")),
        web_processes=int(env.get("MOTCUA_WEB_PROCESSES", "1")),
        public_url=env.get("MOTCUA_PUBLIC_URL", "http://localhost:5000").rstrip("/"),
        **_vnpay(env),
        vnpay_api_url=env.get("MOTCUA_VNPAY_API_URL") or None,
        vnpay_return_url=env.get("MOTCUA_VNPAY_RETURN_URL") or None,
        vnpay_ipn_url=env.get("MOTCUA_VNPAY_IPN_URL") or None,
        registry_url=env.get("MOTCUA_REGISTRY_URL") or None,
        oidc_issuer=(env.get("MOTCUA_OIDC_ISSUER") or "").rstrip("/") or None,
        vneid_standin=env.get("MOTCUA_VNEID_STANDIN") == "1",
        oidc_client_id=env.get("MOTCUA_OIDC_CLIENT_ID") or "motcua-portal",
        oidc_client_secret=env.get("MOTCUA_OIDC_CLIENT_SECRET") or "stand-in-client-secret",
        oidc_redirect_uris=_redirect_uris(env),
        **_officer_oidc(env),
        secret_key=env.get("MOTCUA_SECRET_KEY") or None,
        lookup_limit=_number(env, "MOTCUA_LOOKUP_LIMIT", int, 10),
        status_webhook_url=env.get("MOTCUA_STATUS_WEBHOOK_URL") or None,
        status_webhook_secret=env.get("MOTCUA_STATUS_WEBHOOK_SECRET") or None,
        registry_token=env.get("MOTCUA_REGISTRY_TOKEN") or None,
        smtp_host=env.get("MOTCUA_SMTP_HOST") or "localhost",
        smtp_port=_number(env, "MOTCUA_SMTP_PORT", int, 8025),
        smtp_from=env.get("MOTCUA_SMTP_FROM") or "Bộ phận Một cửa <no-reply@localhost>",
        office_email=env.get("MOTCUA_OFFICE_EMAIL") or None,
        leader_group=env.get("MOTCUA_LEADER_GROUP") or "lanh-dao",
        smtp_timeout=_number(env, "MOTCUA_SMTP_TIMEOUT", float, 10.0),
        zalo_webhook_url=env.get("MOTCUA_ZALO_WEBHOOK_URL") or None,
        zalo_token=env.get("MOTCUA_ZALO_TOKEN") or None,
        zalo_timeout=_number(env, "MOTCUA_ZALO_TIMEOUT", float, 10.0),
        trust_roots_dir=Path(env["MOTCUA_TRUST_ROOTS_DIR"].strip()) if env.get("MOTCUA_TRUST_ROOTS_DIR", "").strip() else None,
        uploads_dir=Path(env["MOTCUA_UPLOADS_DIR"].strip()) if env.get("MOTCUA_UPLOADS_DIR", "").strip() else None,
        calendar_dir=Path(env.get("MOTCUA_CALENDAR_DIR") or PROJECT_DIR / "calendar"),
        indicators_766_config=Path(env["MOTCUA_766_CONFIG"].strip()) if env.get("MOTCUA_766_CONFIG", "").strip() else None,
        metrics_token=env.get("MOTCUA_METRICS_TOKEN") or None,
        scheduler_expected=_flag(env, "MOTCUA_SCHEDULER_EXPECTED"),
        scheduler_stale_seconds=_number(env, "MOTCUA_SCHEDULER_STALE_SECONDS", float, 60.0),
        trusted_proxies=_proxies(env),
    )
