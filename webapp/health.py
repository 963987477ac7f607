"""``/healthz`` (public JSON: 200 when healthy, 503 when not) and ``/metrics`` (Prometheus text format 0.0.4).

The checks and figures come from :mod:`engine.health` and :mod:`engine.metrics`, read on a small engine of their
own with short timeouts (:func:`engine.health.probe_engine`), so a dead database makes ``/healthz`` answer 503
within seconds. Request latency is a histogram kept in this process by a before/after-request hook: each web
process exposes its own (as Prometheus client libraries do; Prometheus sums them across targets).

``/metrics`` is open to direct requests from this host (127.0.0.1 or ::1, without proxy headers) or, when
``MOTCUA_METRICS_TOKEN`` is set, to requests bearing that token from anywhere (and then only to them).
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import threading
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine import health, metrics

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)  # seconds
LOOPBACK = ("127.0.0.1", "::1")
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes (the classic text format)


class Monitor:
    """One app's probe engine (made on first use), its metrics registry and latency histogram."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram("motcua_http_request_duration_seconds",
                                 "Time to answer a request, by Flask endpoint and HTTP status (this process only)",
                                 ["endpoint", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(EngineFigures(self))

    @property
    def engine(self) -> Engine:
        """The probe engine on the app's database."""
        with self._lock:
            if self._engine is None:
                self._engine = health.probe_engine(self.app.extensions["motcua"].engine.url)
            return self._engine

    def dispose(self) -> None:
        """Close the probe engine's connections (tests; a served process keeps them)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


class EngineFigures(Collector):
    """The engine's figures, read from the database at each scrape."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def describe(self):
        """Nothing to describe ahead (registering must not query the database)."""
        return []

    def collect(self):
        """Query the figures and yield them as gauges; ``motcua_metrics_database_ok`` says whether that worked."""
        now = dt.datetime.now(dt.timezone.utc)
        try:
            with Session(self.monitor.engine) as session:
                figures = (metrics.instances_by_state(session), metrics.external_backlog(session, now),
                           metrics.incidents_open(session), metrics.user_tasks_open(session),
                           metrics.timer_lateness(session, now), metrics.dossiers_overdue(session, now))
        except Exception as err:  # noqa: BLE001 - the scrape still gives this process's own figures
            log.warning("metrics: reading the engine's figures failed: %s", err)
            yield GaugeMetricFamily("motcua_metrics_database_ok", "1 when the engine's figures could be read", 0)
            return
        by_state, backlog, incidents, user_tasks, lateness, overdue = figures
        family = GaugeMetricFamily("motcua_process_instances", "Process instances by process key and state",
                                   labels=["process_key", "state"])
        for key, state, count in by_state:
            family.add_metric([key, state], count)
        yield family
        family = GaugeMetricFamily("motcua_external_tasks", "External tasks by topic: waiting for a worker, or locked "
                                   "by one (tasks out of retries are incidents)", labels=["topic", "state"])
        for topic, waiting, locked in backlog:
            family.add_metric([topic, "waiting"], waiting)
            family.add_metric([topic, "locked"], locked)
        yield family
        family = GaugeMetricFamily("motcua_incidents_open", "Open incidents by process key", labels=["process_key"])
        for key, count in incidents:
            family.add_metric([key], count)
        yield family
        family = GaugeMetricFamily("motcua_user_tasks_open", "Open user tasks by process key", labels=["process_key"])
        for key, count in user_tasks:
            family.add_metric([key], count)
        yield family
        yield GaugeMetricFamily("motcua_timer_lateness_seconds",
                                "Seconds since the oldest due timer that has not fired (0: none is late)", lateness)
        yield GaugeMetricFamily("motcua_dossiers_overdue", "Open dossiers past their due time, clock running", overdue)
        yield GaugeMetricFamily("motcua_metrics_database_ok", "1 when the engine's figures could be read", 1)


def _monitor() -> Monitor:
    return current_app.extensions["motcua_monitor"]


def _scheduler_expected() -> bool:
    state = current_app.extensions["motcua"]
    configured = state.settings.scheduler_expected
    return configured if configured is not None else state.scheduler is not None


@blueprint.get("/healthz")
def healthz():
    """The health report as JSON: 200 when no check fails, 503 otherwise (see :mod:`engine.health`)."""
    settings = current_app.extensions["motcua"].settings
    result = health.report(_monitor().engine, dt.datetime.now(dt.timezone.utc), settings.scheduler_stale_seconds,
                           _scheduler_expected())
    response = jsonify(result)
    response.status_code = 503 if result["status"] == health.FAIL else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _metrics_refusal() -> Response | None:
    token = current_app.extensions["motcua"].settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return None
        return Response("a bearer token is needed (MOTCUA_METRICS_TOKEN)\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if request.remote_addr in LOOPBACK and not any(h in request.headers for h in PROXY_HEADERS):
        return None
    return Response("/metrics is open to this host only; set MOTCUA_METRICS_TOKEN to scrape it from elsewhere\n",
                    403, mimetype="text/plain")


@blueprint.get("/metrics")
def metrics_page():
    """The metrics in Prometheus text exposition format 0.0.4."""
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    return Response(generate_latest(_monitor().registry), headers={"Content-Type": CONTENT_TYPE,
                                                                     "Cache-Control": "no-store"})


def _started() -> None:
    g.motcua_started = time.perf_counter()


def _observed(response: Response) -> Response:
    started = g.pop("motcua_started", None)
    if started is not None:
        _monitor().latency.labels(request.endpoint or "unmatched", str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Register /healthz and /metrics, and time every request (the timer starts before any other hook)."""
    app.extensions["motcua_monitor"] = Monitor(app)
    app.register_blueprint(blueprint)
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request(_observed)
