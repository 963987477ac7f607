"""How a worker talks to the engine: in-process over the database, or remote over ``/engine-rest``.

Both clients offer the same calls (Camunda's external task contract), so the runner does not care where
the engine is. The remote client keeps one HTTP connection per thread alive between calls.
"""
from __future__ import annotations

import base64
import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from engine import db, external_tasks, typed_variables
from engine.errors import Conflict, LockNotHeld, MotcuaError, NotFound


@dataclass
class Task:
    """A locked external task as the runner sees it."""

    id: str
    topic: str
    variables: dict[str, Any]
    retries: int | None
    business_key: str | None
    instance_id: str


class TaskClient(Protocol):
    """The calls a worker makes."""

    def fetch_and_lock(self, worker_id: str, topics: dict[str, int], max_tasks: int, wait_ms: int = 0) -> list[Task]:
        """Lock up to ``max_tasks`` tasks ({topic: lock ms}), waiting up to ``wait_ms`` for one."""

    def complete(self, worker_id: str, task: Task, variables: dict[str, Any]) -> None:
        """Complete a task."""

    def failure(self, worker_id: str, task: Task, message: str, details: str, retries: int, timeout_ms: int) -> None:
        """Report a failure with the retries left."""

    def bpmn_error(self, worker_id: str, task: Task, code: str, message: str, variables: dict[str, Any]) -> None:
        """Throw a BPMN error."""

    def extend_lock(self, worker_id: str, task: Task, duration_ms: int) -> None:
        """Extend the lock."""

    def unlock(self, task: Task) -> None:
        """Release the lock."""


class DatabaseClient:
    """The engine in this process, over the database (each call is one transaction)."""

    def __init__(self, factory):
        self.factory = factory

    def fetch_and_lock(self, worker_id, topics, max_tasks, wait_ms=0):
        """Lock tasks (no long polling in-process: the runner backs off when there is nothing)."""
        with db.transaction(self.factory) as session:
            locked = external_tasks.fetch_and_lock(session, worker_id, topics, max_tasks)
        return [Task(t.id, t.topic, t.variables, t.retries, t.business_key, t.instance_id) for t in locked]

    def _run(self, command, *args) -> None:
        with db.transaction(self.factory) as session:
            command(session, *args)

    def complete(self, worker_id, task, variables):
        """Complete the task."""
        self._run(external_tasks.complete, task.id, worker_id, variables)

    def failure(self, worker_id, task, message, details, retries, timeout_ms):
        """Report a failure."""
        self._run(external_tasks.failure, task.id, worker_id, message, details, retries, timeout_ms)

    def bpmn_error(self, worker_id, task, code, message, variables):
        """Throw a BPMN error."""
        self._run(external_tasks.bpmn_error, task.id, worker_id, code, message, variables)

    def extend_lock(self, worker_id, task, duration_ms):
        """Extend the lock."""
        self._run(external_tasks.extend_lock, task.id, worker_id, duration_ms)

    def unlock(self, task):
        """Release the lock."""
        self._run(external_tasks.unlock, task.id)


class RemoteError(MotcuaError):
    """The engine over REST answered with an error that has no closer engine error class."""


_STATUS_ERRORS = {404: NotFound, 409: Conflict}


class RestClient:
    """The engine over ``/engine-rest`` (Camunda 7's JSON), with HTTP Basic or a bearer token."""

    def __init__(self, url: str, token: str | None = None, user: str | None = None, password: str | None = None,
                 timeout: float = 60.0):
        parsed = urllib.parse.urlsplit(url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.scheme, self.host, self.port = parsed.scheme, parsed.hostname, parsed.port
        self.base = parsed.path if parsed.path.endswith("/engine-rest") else parsed.path + "/engine-rest"
        self.timeout = timeout
        if token:
            self.auth = f"Bearer {token}"
        elif user:
            self.auth = "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        else:
            self.auth = None
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = cls(self.host, self.port, timeout=self.timeout)
        return conn

    def request(self, method: str, path: str, body: Any = None, extra_timeout: float = 0.0) -> Any:
        """One call; a JSON answer is decoded, an error answer raised as the matching engine error."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.auth:
            headers["Authorization"] = self.auth
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once, on a new one
            conn = self._connection()
            conn.timeout = self.timeout + extra_timeout
            try:
                conn.request(method, self.base + path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        if response.status >= 400:
            try:
                message = json.loads(data).get("message", data.decode(errors="replace"))
            except ValueError:
                message = data.decode(errors="replace")
            raise _STATUS_ERRORS.get(response.status, RemoteError)(f"HTTP {response.status}: {message}")
        return json.loads(data) if data else None

    def fetch_and_lock(self, worker_id, topics, max_tasks, wait_ms=0):
        """Lock tasks, long polling up to ``wait_ms``."""
        reply = self.request("POST", "/external-task/fetchAndLock", {
            "workerId": worker_id, "maxTasks": max_tasks, "usePriority": True, "asyncResponseTimeout": wait_ms,
            "topics": [{"topicName": t, "lockDuration": ms} for t, ms in topics.items()]},
            extra_timeout=wait_ms / 1000)
        return [Task(t["id"], t["topicName"], _plain(t.get("variables") or {}), t.get("retries"), t.get("businessKey"),
                     t["processInstanceId"]) for t in reply]

    def complete(self, worker_id, task, variables):
        """Complete the task."""
        self.request("POST", f"/external-task/{task.id}/complete", {"workerId": worker_id,
                                                                     "variables": _typed(variables)})

    def failure(self, worker_id, task, message, details, retries, timeout_ms):
        """Report a failure."""
        self.request("POST", f"/external-task/{task.id}/failure", {
            "workerId": worker_id, "errorMessage": message[:666], "errorDetails": details, "retries": retries,
            "retryTimeout": timeout_ms})

    def bpmn_error(self, worker_id, task, code, message, variables):
        """Throw a BPMN error."""
        self.request("POST", f"/external-task/{task.id}/bpmnError", {
            "workerId": worker_id, "errorCode": code, "errorMessage": message, "variables": _typed(variables)})

    def extend_lock(self, worker_id, task, duration_ms):
        """Extend the lock."""
        try:
            self.request("POST", f"/external-task/{task.id}/extendLock", {"workerId": worker_id,
                                                                          "newDuration": duration_ms})
        except Conflict as err:
            raise LockNotHeld(err.message) from None

    def unlock(self, task):
        """Release the lock."""
        self.request("POST", f"/external-task/{task.id}/unlock", {})


def _typed(variables: dict[str, Any]) -> dict[str, Any]:
    return typed_variables.encode(variables or {})


def _plain(typed: dict[str, Any]) -> dict[str, Any]:
    return typed_variables.decode(typed)
