"""STAND-IN for the national population database: a tiny HTTP service over a synthetic registry.

It is not the CSDL quốc gia về dân cư and holds no real person: it serves a
:class:`~workers.registry.SyntheticRegistry` (or any :class:`~workers.registry.Registry`) over the
protocol :class:`~workers.registry_http.HttpRegistry` speaks, so the HTTP adapter can be developed,
tested and demonstrated end to end::

    python -m workers.registry_standin --port 8099 --token secret
    curl -H 'Authorization: Bearer secret' http://127.0.0.1:8099/citizens/001099012345

Answers: 200 with the profile as JSON, 404 unknown citizen, 401 missing or wrong token (when the service
has one), 400 not a 12-digit number, 500 when the registry behind it fails.
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workers.registry import Registry, SyntheticRegistry

log = logging.getLogger(__name__)
PREFIX = "/citizens/"


class StandinServer(ThreadingHTTPServer):
    """The stand-in service; ``url`` is its base URL, ``registry`` and ``token`` what it serves with."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: Registry, token: str | None = None):
        super().__init__(address, _Handler)
        self.registry = registry
        self.token = token

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening socket (the real port when 0 was asked for)."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: StandinServer
    server_version = "motcua-registry-standin/1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """``GET /citizens/{number}``."""
        if not self._authorized():
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
            return
        path = urllib.parse.urlsplit(self.path).path
        if not path.startswith(PREFIX):
            self._send(HTTPStatus.NOT_FOUND, {"error": "no such resource"})
            return
        number = path[len(PREFIX):]
        if len(number) != 12 or not number.isdigit():
            self._send(HTTPStatus.BAD_REQUEST, {"error": "a citizen number has 12 digits"})
            return
        try:
            profile = self.server.registry.lookup(number)
        except Exception:  # the stand-in answers as a failing backend would, and logs why
            log.exception("registry stand-in: lookup of %s failed", number)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "registry failure"})
            return
        if profile is None:
            self._send(HTTPStatus.NOT_FOUND, {"error": "no such citizen"})
        else:
            self._send(HTTPStatus.OK, profile.to_variables())

    def _authorized(self) -> bool:
        expected = self.server.token
        if not expected:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())

    def _send(self, status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log.info("registry stand-in: " + format, *args)


def make_server(host: str = "127.0.0.1", port: int = 0, registry: Registry | None = None,
                token: str | None = None) -> StandinServer:
    """A bound, not yet serving, stand-in (port 0 picks a free port)."""
    return StandinServer((host, port), registry if registry is not None else SyntheticRegistry(), token)


def serve(host: str = "127.0.0.1", port: int = 0, registry: Registry | None = None,
          token: str | None = None) -> StandinServer:
    """Start the stand-in in a background thread and return it; ``server.stop()`` ends it."""
    server = make_server(host, port, registry, token)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},  # quick stop()
                     name="registry-standin", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    """``python -m workers.registry_standin --port N [--host H] [--token T] [--size S]``."""
    parser = argparse.ArgumentParser(description="Stand-in for the national population database (synthetic data).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", default=None, help="bearer token clients must send (none: no check)")
    parser.add_argument("--size", type=int, default=3000, help="how many synthetic citizens")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = make_server(args.host, args.port, SyntheticRegistry(size=args.size), args.token)
    print(f"Population registry STAND-IN (synthetic citizens, not the national database) at {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
