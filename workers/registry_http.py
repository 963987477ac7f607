"""HTTP adapter for a population registry (CSDL quốc gia về dân cư, or a gateway in front of it).

Protocol: ``GET {base_url}/citizens/{number}`` with ``Authorization: Bearer {token}``; 200 with a JSON
object holding the :class:`~workers.registry.Profile` fields, 404 when the registry has no such citizen.
Passing trouble (5xx, 429, timeouts, refused connections, a body that is not a profile) raises
:class:`RetryableError`, so the runner tries again later; a refused token or request raises
:class:`RegistryError`, which retrying will not fix. Only the standard library (urllib) is used.
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from workers.errors import RetryableError
from workers.registry import Profile

MAX_BODY = 1 << 20  # bytes; a profile is a few hundred
_FIELDS = [field.name for field in dataclasses.fields(Profile)]


class RegistryError(Exception):
    """The registry refused the request (bad token, forbidden, bad request): an operator must act."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would resend the bearer token to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class HttpRegistry:
    """A :class:`~workers.registry.Registry` reached over HTTP."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 5):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:  # never show the token
        return f"HttpRegistry({self.base_url!r})"

    def lookup(self, number: str) -> Profile | None:
        """The citizen's profile, None on 404; see the module docstring for the errors."""
        url = f"{self.base_url}/citizens/{urllib.parse.quote(number, safe='')}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as err:
            with err:
                return self._refused(err.code, err.reason, url)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            reason = err.reason if isinstance(err, urllib.error.URLError) else err
            if isinstance(reason, (socket.timeout, TimeoutError)):
                reason = f"no answer within {self.timeout} s"
            raise RetryableError(f"Population registry unreachable at {url}: {reason}") from None
        return _profile(body, number, url)

    def _refused(self, status: int, reason: str, url: str) -> None:
        """A non-2xx answer: 404 means no such citizen, everything else raises."""
        if status == 404:
            return None
        message = f"Population registry answered HTTP {status} {reason} for {url}"
        if status >= 500 or status in (408, 429):
            raise RetryableError(message)
        if status in (401, 403):
            hint = "no token is configured" if not self.token else "the token was refused"
            raise RegistryError(f"{message}: access denied, {hint}")
        raise RegistryError(message)


def _profile(body: bytes, number: str, url: str) -> Profile:
    """Parse a 200 body into a profile, or raise :class:`RetryableError` saying what is wrong with it."""
    def malformed(why: str) -> RetryableError:
        return RetryableError(f"Population registry sent a malformed profile for {url}: {why}")

    if len(body) > MAX_BODY:
        raise malformed(f"body larger than {MAX_BODY} bytes")
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise malformed(f"not UTF-8 JSON ({err})") from None
    if not isinstance(data, dict):
        raise malformed(f"expected a JSON object, got {type(data).__name__}")
    missing = [name for name in _FIELDS if name not in data]
    if missing:
        raise malformed("missing " + ", ".join(missing))
    wrong = [name for name in _FIELDS if not isinstance(data[name], str)]
    if wrong:
        raise malformed("not text: " + ", ".join(wrong))
    if data["citizen_id"] != number:
        raise malformed(f"it is for citizen {data['citizen_id']!r}, not {number!r}")
    return Profile(**{name: data[name] for name in _FIELDS})
