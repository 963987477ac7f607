"""``motcua serve``: the web app (REST API) in gunicorn, threads per process."""
from __future__ import annotations

import click

from webapp.cli import Context, main


def run_server(app_factory, host: str, port: int, processes: int, threads: int) -> None:
    """Serve the app with gunicorn's threaded workers until stopped (SIGTERM: graceful)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{host}:{port}", "workers": processes, "threads": threads,
                               "worker_class": "gthread", "timeout": 0, "graceful_timeout": 30,
                               "keepalive": 75, "accesslog": None, "errorlog": "-"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app_factory()

    Server().run()


@main.command()
@click.option("--host", default=None, help="Address to listen on (MOTCUA_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (MOTCUA_PORT, default 5000).")
@click.option("--processes", default=None, type=int, help="Web processes (MOTCUA_WEB_PROCESSES, default 1).")
@click.option("--threads", default=None, type=int, help="Threads per process (MOTCUA_WEB_THREADS, default 16).")
@click.pass_obj
def serve(obj: Context, host, port, processes, threads) -> None:
    """Serve the web app and /engine-rest."""
    from webapp.app import create_app
    settings = obj.settings
    obj.factory  # refuse to start on a database that is not initialised
    run_server(lambda: create_app(settings), host or settings.host, port or settings.port,
               processes or settings.web_processes, threads or settings.web_threads)
