"""``motcua worker`` and ``motcua topics``: run handlers, and see which topics are served."""
from __future__ import annotations

import logging
import os
import socket

import click

from engine import db, queries
from webapp.cli import Context, emit, handle_errors, json_option, main
from webapp.handlers import known_topics


def _handlers(topics: str | None) -> dict:
    from workers import runner
    handlers = dict(runner.HANDLERS)
    if not topics:
        return handlers
    wanted = [t.strip() for t in topics.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in handlers]
    if unknown:
        raise click.BadParameter(f"no handler for {', '.join(unknown)} (known: {', '.join(sorted(handlers))})",
                                 param_hint="--topics")
    return {t: handlers[t] for t in wanted}


@main.command()
@click.option("--topics", help="Comma-separated topics (default: every topic with a handler).")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Handlers running at once.")
@click.option("--url", help="A remote engine's URL (…/engine-rest); default: this database, in-process. "
                            "Credentials: MOTCUA_WORKER_TOKEN, or MOTCUA_WORKER_USER and MOTCUA_WORKER_PASSWORD.")
@click.option("--worker-id", default=None, help="The worker's id (default: host and process id).")
@click.option("--lock-ms", default=60_000, show_default=True, type=click.IntRange(1000), help="Lock duration.")
@click.option("--once", is_flag=True, help="Do the tasks waiting now, then stop.")
@click.option("--grace", default=30.0, show_default=True, help="Seconds running handlers get to finish on SIGTERM.")
@json_option
@click.pass_obj
@handle_errors
def worker(obj: Context, topics, concurrency, url, worker_id, lock_ms, once, grace, as_json: bool) -> None:
    """Do external tasks: fetch and lock, run the handlers, report; SIGTERM stops gracefully."""
    from workers import runner
    from workers.client import DatabaseClient, RestClient

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = _handlers(topics)
    url = url or obj.settings.engine_url
    settings = obj.settings
    client = (RestClient(url, settings.worker_token, settings.worker_user, settings.worker_password) if url
              else DatabaseClient(obj.factory))
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    if once:
        outcomes = runner.run_once(obj.factory, worker_id, handlers) if not url else runner.Runner(
            client, handlers, worker_id, concurrency, lock_ms, grace_s=grace).run(max_tasks_total=concurrency)
    else:
        work = runner.Runner(client, handlers, worker_id, concurrency, lock_ms, long_poll_ms=20_000 if url else 0,
                             grace_s=grace)
        work.install_signal_handlers()
        click.echo(f"worker {worker_id}: topics {', '.join(sorted(handlers))}; "
                   f"{'engine ' + url if url else 'in-process'}; concurrency {concurrency}", err=True)
        outcomes = work.run()
    for o in outcomes:
        if not as_json:
            click.echo(f"{o.result:<10} {o.topic:<20} {o.task_id} {o.detail}")
    emit([o.__dict__ for o in outcomes], as_json)


@main.command()
@json_option
@click.pass_obj
@handle_errors
def topics(obj: Context, as_json: bool) -> None:
    """Each topic: waiting and locked tasks, incidents, workers seen in the last minute, handler or not."""
    with db.transaction(obj.factory) as session:
        rows = queries.topics(session, known_topics())
    lines = [f"{'TOPIC':<24} {'WAITING':>7} {'LOCKED':>6} {'INCIDENTS':>9}  HANDLER  WORKERS (last minute)"]
    for r in rows:
        flag = "" if r["workers"] or not r["waiting"] else "   <- nobody serves this topic"
        lines.append(f"{r['topicName']:<24} {r['waiting']:>7} {r['locked']:>6} {r['incidents']:>9}  "
                     f"{'yes' if r['handler'] else 'no ':<7}  {', '.join(r['workers']) or '-'}{flag}")
    emit(rows, as_json, "\n".join(lines))


@main.group()
def payments() -> None:
    """Fee payments (VNPay)."""


@payments.command("reconcile")
@click.option("--min-age", default=15, show_default=True, help="Ask about payments older than this (minutes).")
@json_option
@click.pass_obj
@handle_errors
def reconcile(obj: Context, min_age: int, as_json: bool) -> None:
    """Ask the gateway about payments whose callback never came, and deliver what it decided."""
    import datetime as dt

    from webapp import payments as web_payments
    settled = web_payments.reconcile(obj.factory, obj.settings, min_age=dt.timedelta(minutes=min_age))
    emit({"settled": settled}, as_json, f"{len(settled)} payment(s) settled" + "".join(f"\n  {t}" for t in settled))


@main.command("dossiers")
@click.option("--overdue", is_flag=True, help="Only dossiers past their due moment.")
@click.option("--all", "everything", is_flag=True, help="Finished dossiers too.")
@click.option("--limit", default=100, show_default=True)
@json_option
@click.pass_obj
@handle_errors
def dossiers_command(obj: Context, overdue: bool, everything: bool, limit: int, as_json: bool) -> None:
    """Dossiers and their clocks, soonest due first."""
    with db.transaction(obj.factory) as session:
        rows = queries.dossier_list(session, overdue=overdue, running=not everything, limit=limit)
    emit(rows, as_json, "\n".join(f"{r['code'] or r['instanceId']:<28} due {r['dueAt']}"
                                  f"{'  PAUSED' if r['pausedAt'] else ''}{'  OVERDUE' if r['overdue'] else ''}"
                                  for r in rows) or "No dossiers.")
