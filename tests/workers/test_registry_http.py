"""The HTTP registry adapter against the stand-in service (real sockets on 127.0.0.1, no mocks)."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers import population_lookup, registry_standin
from workers.errors import RetryableError
from workers.registry import DEMO_CITIZEN, Profile, SyntheticRegistry
from workers.registry_http import HttpRegistry, RegistryError

TOKEN = "test-token"
UNKNOWN = "001099999999"  # a valid number the synthetic registry does not hold


@pytest.fixture(scope="module")
def registry():
    return SyntheticRegistry(size=50)


@pytest.fixture
def standin(registry):
    server = registry_standin.serve("127.0.0.1", 0, registry, token=TOKEN)
    yield server
    server.stop()


class _Failing:
    def lookup(self, number):
        raise ConnectionError("backend down")


def test_a_known_citizen_is_found(standin, registry):
    profile = HttpRegistry(standin.url, TOKEN).lookup(DEMO_CITIZEN)
    assert profile == registry.lookup(DEMO_CITIZEN) and profile.full_name == "Nguyễn Văn An"


def test_an_unknown_citizen_is_none(standin):
    assert UNKNOWN not in SyntheticRegistry(size=50).numbers()
    assert HttpRegistry(standin.url + "/", TOKEN).lookup(UNKNOWN) is None


def test_a_server_error_is_retryable(registry, caplog):
    server = registry_standin.serve(registry=_Failing())
    try:
        with pytest.raises(RetryableError, match="HTTP 500"):
            HttpRegistry(server.url).lookup(DEMO_CITIZEN)
    finally:
        server.stop()
    assert "backend down" in caplog.text  # the stand-in logged the cause


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nothing_listening_is_retryable():
    port = _free_port()
    with pytest.raises(RetryableError, match=f"unreachable at http://127.0.0.1:{port}/citizens/"):
        HttpRegistry(f"http://127.0.0.1:{port}", TOKEN, timeout=2).lookup(DEMO_CITIZEN)


@pytest.mark.parametrize("token, hint", [("wrong", "the token was refused"), (None, "no token is configured")])
def test_a_refused_token_is_a_clear_error_not_a_retry(standin, token, hint):
    with pytest.raises(RegistryError, match=f"HTTP 401 .*access denied, {hint}") as err:
        HttpRegistry(standin.url, token).lookup(DEMO_CITIZEN)
    assert not isinstance(err.value, RetryableError) and "wrong" not in str(err.value)


def test_the_standin_refuses_malformed_numbers(standin):
    with pytest.raises(RegistryError, match="HTTP 400"):
        HttpRegistry(standin.url, TOKEN).lookup("12345")


class _Canned(BaseHTTPRequestHandler):
    """Answers every GET with the class's ``status`` and ``body`` (or drops the connection)."""

    status, body = 200, b""

    def do_GET(self):  # noqa: N802
        if self.body is None:
            self.close_connection = True
            return
        self.send_response(self.status)
        if self.status == 302:
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/elsewhere")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def canned():
    def start(status, body):
        handler = type("Handler", (_Canned,), {"status": status, "body": body})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    servers: list[ThreadingHTTPServer] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


GOOD = SyntheticRegistry(size=1).lookup(DEMO_CITIZEN).to_variables()


@pytest.mark.parametrize("body, why", [
    (b"<html>gateway</html>", "not UTF-8 JSON"),
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[]", "expected a JSON object, got list"),
    (json.dumps({"citizen_id": DEMO_CITIZEN}).encode(), "missing full_name, birth_date"),
    (json.dumps({**GOOD, "birth_date": 1999}).encode(), "not text: birth_date"),
    (json.dumps({**GOOD, "citizen_id": UNKNOWN}).encode(), f"for citizen '{UNKNOWN}', not '{DEMO_CITIZEN}'"),
    (None, "unreachable"),  # connection closed without an answer
])
def test_a_malformed_answer_is_retryable_with_the_reason(canned, body, why):
    with pytest.raises(RetryableError, match=why):
        HttpRegistry(canned(200, body)).lookup(DEMO_CITIZEN)


def test_extra_fields_are_ignored_and_utf8_is_kept(canned):
    url = canned(200, json.dumps({**GOOD, "ethnicity": "Kinh"}, ensure_ascii=False).encode())
    assert HttpRegistry(url).lookup(DEMO_CITIZEN) == Profile(**GOOD)


@pytest.mark.parametrize("status, error", [  # 302: redirects are not followed, they would carry the token
    (503, RetryableError), (429, RetryableError), (403, RegistryError), (302, RegistryError)])
def test_other_statuses(canned, status, error):
    with pytest.raises(error, match=f"HTTP {status}"):
        HttpRegistry(canned(status, b"{}")).lookup(DEMO_CITIZEN)


def test_the_token_never_shows(standin):
    assert TOKEN not in repr(HttpRegistry(standin.url, TOKEN))


def test_population_lookup_end_to_end_over_http(standin):
    registry = HttpRegistry(standin.url, TOKEN)
    found = population_lookup.handle({"citizen_id": DEMO_CITIZEN}, registry=registry)
    assert found["registry_found"] is True
    assert found["registry_profile"]["full_name"] == "Nguyễn Văn An"
    assert found["registry_profile"]["permanent_address"] == "Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"
    assert population_lookup.handle({"citizen_id": UNKNOWN}, registry=registry) == {
        "registry_found": False, "registry_profile": None}


def test_the_standin_main_serves_until_interrupted(monkeypatch, capsys):
    def interrupted(self, poll_interval=0.5):
        raise KeyboardInterrupt

    monkeypatch.setattr(registry_standin.StandinServer, "serve_forever", interrupted)
    registry_standin.main(["--port", "0", "--size", "5"])
    assert "STAND-IN" in capsys.readouterr().out
