"""The worker runner: fetch and lock, hand each task to its handler, report the outcome.

Handlers are plain functions of a task's variables, registered by topic in :data:`HANDLERS`. The runner
does the rest: it keeps up to ``concurrency`` handlers busy, extends the locks of long handlers
(heartbeats), turns a handler's outcome into the right call (variables complete the task,
:class:`BpmnError` throws a BPMN error, any other exception reports a failure with one retry fewer and an
exponential, jittered retry timeout), backs off while there is no work, and on SIGTERM stops fetching,
lets running handlers finish within a grace period and unlocks the tasks of those that do not, so
another worker takes them at once. Nothing is lost: a task is only ever completed, failed or unlocked.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from engine.errors import MotcuaError
from workers import document, esign_verify, notify, payment_check, population_lookup
from workers.client import DatabaseClient, Task, TaskClient
from workers.errors import BpmnError, RetryableError

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {
    population_lookup.TOPIC: population_lookup.handle,
    esign_verify.TOPIC: esign_verify.handle,
    notify.TOPIC: notify.handle,
    document.TOPIC: document.handle,
    payment_check.TOPIC: payment_check.handle,
}
LOCK_DURATION_MS = 60_000
DEFAULT_RETRIES = 3
BACKOFF_BASE_MS = 5_000
BACKOFF_MAX_MS = 10 * 60_000


def retry_timeout_ms(retries_left: int, total: int = DEFAULT_RETRIES, rng: random.Random | None = None) -> int:
    """Exponential backoff with ±25 % jitter: 5 s after the first failure, 10 s after the second..."""
    attempt = max(total - retries_left, 1)
    base = min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS)
    return int(base * (rng or random).uniform(0.75, 1.25))


@dataclass
class Outcome:
    """What happened to one task."""

    task_id: str
    topic: str
    result: str  # completed, bpmn_error, failed, lost, unlocked
    detail: str = ""


def handle_task(client: TaskClient, worker_id: str, task: Task, handler: Handler) -> Outcome:
    """Run one handler and report its outcome (a report the engine refuses, e.g. a lost lock, is ``lost``)."""
    try:
        variables = handler(dict(task.variables))
        command, result, detail = (lambda: client.complete(worker_id, task, variables or {})), "completed", ""
    except BpmnError as err:
        code, text, extra = err.code, err.message, err.variables  # ``err`` is unbound after the except block
        command, result, detail = (lambda: client.bpmn_error(worker_id, task, code, text, extra)), "bpmn_error", code
    except Exception as err:  # the handler failed: report it, never lose the task
        retries = (task.retries if task.retries is not None else DEFAULT_RETRIES) - 1
        message = f"{type(err).__name__}: {err}"
        details = traceback.format_exc()
        fallback = getattr(err, "variables", None)
        if retries <= 0 and isinstance(err, RetryableError) and fallback is not None:
            # e.g. a notification nobody could receive: record it and let the procedure go on
            command, result, detail = (lambda: client.complete(worker_id, task, fallback)), "completed", message
        else:
            command, result, detail = (lambda: client.failure(worker_id, task, message, details, max(retries, 0),
                                                              retry_timeout_ms(max(retries, 0)))), "failed", message
    try:
        command()
    except MotcuaError as err:  # the lock expired and another worker took the task, or the task is gone
        log.warning("task %s: %s", task.id, err.message)
        return Outcome(task.id, task.topic, "lost", err.message)
    return Outcome(task.id, task.topic, result, detail)


def run_once(factory, worker_id: str, handlers: dict[str, Handler] | None = None, max_tasks: int = 10) -> list[Outcome]:
    """Lock up to ``max_tasks`` tasks of the handled topics (in-process) and do them one by one."""
    handlers = handlers or HANDLERS
    client = DatabaseClient(factory)
    locked = client.fetch_and_lock(worker_id, {t: LOCK_DURATION_MS for t in handlers}, max_tasks)
    return [handle_task(client, worker_id, task, handlers[task.topic]) for task in locked]


@dataclass
class Runner:
    """A long-running worker: ``concurrency`` handlers at a time, heartbeats, backoff, graceful stop."""

    client: TaskClient
    handlers: dict[str, Handler] = field(default_factory=lambda: dict(HANDLERS))
    worker_id: str = field(default_factory=lambda: f"motcua-{uuid.uuid4().hex[:8]}")
    concurrency: int = 4
    lock_ms: int = LOCK_DURATION_MS
    long_poll_ms: int = 0
    idle_max_s: float = 2.0
    grace_s: float = 30.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self.stopping = threading.Event()
        self._running: dict[str, Task] = {}
        self._lock = threading.Lock()

    def stop(self, *_args) -> None:
        """Ask the runner to stop (also the SIGTERM/SIGINT handler)."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def _work(self, task: Task) -> None:
        try:
            outcome = handle_task(self.client, self.worker_id, task, self.handlers[task.topic])
        except Exception as err:  # the engine could not be told (it is away): the lock will expire
            log.exception("task %s: the outcome could not be reported", task.id)
            outcome = Outcome(task.id, task.topic, "lost", f"{type(err).__name__}: {err}")
        try:
            with self._lock:
                self.outcomes.append(outcome)
        finally:
            with self._lock:
                self._running.pop(task.id, None)

    def _heartbeat(self) -> None:
        every = max(self.lock_ms / 3000, 0.05)
        while not self._done.wait(every):
            with self._lock:
                running = list(self._running.values())
            for task in running:
                try:
                    self.client.extend_lock(self.worker_id, task, self.lock_ms)
                except Exception as err:  # the task may have just finished; the next beat is another try
                    log.debug("extend lock of %s: %s", task.id, err)

    def run(self, max_tasks_total: int | None = None) -> list[Outcome]:
        """Work until :meth:`stop` (or until ``max_tasks_total`` tasks were taken); return the outcomes."""
        topics = {topic: self.lock_ms for topic in self.handlers}
        self._done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, name="motcua-heartbeat", daemon=True)
        beat.start()
        taken, idle = 0, 0.05
        pool = self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="motcua-worker")
        try:
            while not self.stopping.is_set() and (max_tasks_total is None or taken < max_tasks_total):
                with self._lock:
                    free = self.concurrency - len(self._running)
                if max_tasks_total is not None:
                    free = min(free, max_tasks_total - taken)
                if free <= 0:
                    self.stopping.wait(0.005)
                    continue
                try:
                    tasks = self.client.fetch_and_lock(self.worker_id, topics, free, self.long_poll_ms)
                except Exception as err:  # the engine is away: wait and try again
                    log.warning("fetch and lock failed: %s", err)
                    tasks = []
                if not tasks:
                    self.stopping.wait(idle * random.uniform(0.8, 1.2))
                    idle = min(idle * 2, self.idle_max_s)
                    continue
                idle = 0.05
                taken += len(tasks)
                with self._lock:
                    for task in tasks:
                        self._running[task.id] = task
                for task in tasks:
                    pool.submit(self._work, task)
            self._drain(pool)
        finally:
            self._done.set()
            beat.join()
        return self.outcomes

    def _drain(self, pool: ThreadPoolExecutor) -> None:
        deadline = time.monotonic() + self.grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.02)
        with self._lock:
            left = list(self._running.values())
        for task in left:  # handlers that did not finish in time: hand their tasks back
            try:
                self.client.unlock(task)
                with self._lock:
                    self.outcomes.append(Outcome(task.id, task.topic, "unlocked", "stopped before it finished"))
            except Exception as err:
                log.warning("could not unlock %s (its lock will expire): %s", task.id, err)
        pool.shutdown(wait=False, cancel_futures=True)
