"""``motcua serve``: the web app (REST API) in gunicorn, threads per process."""
from __future__ import annotations

import click

from webapp.cli import Context, main


def run_server(app_factory, host: str, port: int, processes: int, threads: int, on_worker_start=None) -> None:
    """Serve the app with gunicorn's threaded workers until stopped (SIGTERM: graceful)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{host}:{port}", "workers": processes, "threads": threads,
                               "worker_class": "gthread", "timeout": 0, "graceful_timeout": 30,
                               "keepalive": 75, "accesslog": None, "errorlog": "-"}.items():
                self.cfg.set(key, value)
            if on_worker_start is not None:
                self.cfg.set("post_worker_init", lambda worker: on_worker_start(worker.wsgi))

        def load(self):
            return app_factory()

    Server().run()


@main.command()
@click.option("--host", default=None, help="Address to listen on (MOTCUA_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (MOTCUA_PORT, default 5000).")
@click.option("--processes", default=None, type=click.IntRange(min=1), help="Web processes (MOTCUA_WEB_PROCESSES, default 1).")
@click.option("--threads", default=None, type=click.IntRange(min=1), help="Threads per process (MOTCUA_WEB_THREADS, default 16).")
@click.option("--no-scheduler", is_flag=True, help="Do not fire timers here (run 'motcua scheduler' elsewhere).")
@click.pass_obj
def serve(obj: Context, host, port, processes, threads, no_scheduler) -> None:
    """Serve the web app and /engine-rest; each web process also runs the scheduler (timers, locks, payments)."""
    from webapp.app import create_app
    settings = obj.settings
    obj.factory  # refuse to start on a database that is not initialised

    def start_scheduler(app):
        from webapp import scheduler
        state = app.extensions["motcua"]
        state.scheduler = scheduler.background(state.factory, settings)

    run_server(lambda: create_app(settings), host or settings.host, port or settings.port,
               processes or settings.web_processes, threads or settings.web_threads,
               None if no_scheduler else start_scheduler)


@main.command("scheduler")
@click.pass_obj
def scheduler_command(obj: Context) -> None:
    """Run the scheduler alone: fire due timers, release expired locks, reconcile payments (SIGTERM stops)."""
    import logging
    import signal

    from webapp import scheduler
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    running = scheduler.blocking(obj.factory, obj.settings)
    signal.signal(signal.SIGTERM, lambda *_: running.shutdown(wait=False))
    click.echo("scheduler running: timers every 0.5 s, lock sweep every 30 s, payments every 5 min", err=True)
    try:
        running.start()
    except (KeyboardInterrupt, SystemExit):
        pass
