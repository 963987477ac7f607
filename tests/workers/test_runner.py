"""The worker runner: backoff, heartbeats, graceful stop, and many worker processes on PostgreSQL."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from engine import db, instances, queries
from engine.models import ExternalTask, HistoryEvent, ProcessInstance
from tests.bpmn_builder import end, external, linear, process, start
from tests.conftest import ROOT, deploy_files, wait_for
from workers.client import DatabaseClient
from workers.runner import Runner, retry_timeout_ms

COUNT = process(linear(start(), external("count_it", "count"), end()), process_id="counting")


def test_retry_timeouts_grow_exponentially_with_jitter():
    rng = random.Random(1)
    first, second, third = (retry_timeout_ms(left, 4, rng) for left in (3, 2, 1))
    assert 3750 <= first <= 6250 and 7500 <= second <= 12500 and 15000 <= third <= 25000
    assert retry_timeout_ms(0, 100, rng) <= 10 * 60_000 * 1.25


def test_heartbeats_keep_a_long_handler_s_lock(factory, operator):
    deploy_files(factory, [("c.bpmn", COUNT)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "counting", {"n": 1}).row.id
    release = threading.Event()

    def slow(variables):
        release.wait(20)
        return {"done": True}

    # a 3 s lock is extended every second: two beats of slack on a busy machine
    runner = Runner(DatabaseClient(factory), {"count": slow}, "slow-worker", concurrency=1, lock_ms=3000)
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        first = wait_for(lambda: _lock_of(factory), message="the task to be locked")
        wait_for(lambda: (_lock_of(factory) or first) > first, timeout=10, message="the lock to be extended")
    finally:
        release.set()
        wait_for(lambda: runner.outcomes, message="the outcome")
        runner.stop()
        thread.join(timeout=10)
    assert runner.outcomes[0].result == "completed"
    with db.transaction(factory) as s:
        assert queries.instance(s, iid)["status"] == "completed"


def _lock_of(factory):
    with db.transaction(factory) as s:
        return s.scalar(select(ExternalTask.lock_expires_at))


def test_a_stopped_runner_unlocks_what_its_handlers_did_not_finish(factory, operator):
    deploy_files(factory, [("c.bpmn", COUNT)])
    with db.transaction(factory) as s:
        instances.start(s, operator, "counting", {"n": 1})
    started, release = threading.Event(), threading.Event()

    def stuck(variables):
        started.set()
        release.wait(20)
        return {}

    runner = Runner(DatabaseClient(factory), {"count": stuck}, "w", concurrency=1, grace_s=0.2)
    thread = threading.Thread(target=runner.run)
    thread.start()
    assert started.wait(20)
    runner.stop()
    thread.join(timeout=20)
    release.set()
    runner.pool.shutdown(wait=True)  # the late handler reports (and is refused) before the database goes
    assert [o.result for o in runner.outcomes][:2] == ["unlocked", "lost"]
    with db.transaction(factory) as s:
        row = s.scalars(select(ExternalTask)).one()
        assert row.worker_id is None and row.lock_expires_at is None


def _spawn(url, log_dir, lock_ms=60_000, grace=30.0, concurrency=4):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.workers.worker_process", url, str(log_dir), str(lock_ms),
                             str(grace), str(concurrency)], cwd=ROOT, env=env)


def _executions(log_dir) -> dict[str, list[int]]:
    """For each task (by its ``n``), the pids of the processes that ran its handler, in order."""
    path = log_dir / "executions.log"
    runs: dict[str, list[int]] = {}
    for line in (path.read_text().splitlines() if path.exists() else []):
        n, pid = line.split()
        runs.setdefault(n, []).append(int(pid))
    return runs


def test_sigterm_lets_the_running_handler_finish(sqlite_url, tmp_path, operator):
    from engine import schema
    engine = db.make_engine(sqlite_url)
    schema.upgrade(engine)
    factory = db.make_session_factory(engine)
    deploy_files(factory, [("c.bpmn", COUNT)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "counting", {"n": 7, "hold": 1.5}).row.id
    proc = _spawn(sqlite_url, tmp_path)
    try:
        wait_for(lambda: (tmp_path / "7.started").exists(), message="the handler to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    with db.transaction(factory) as s:
        assert queries.instance(s, iid)["status"] == "completed"
    engine.dispose()


@pytest.mark.postgresql
@pytest.mark.slow
def test_four_processes_complete_1000_tasks_exactly_once_and_survive_a_sigkill(pg_url, tmp_path, operator):
    from engine import schema
    engine = db.make_engine(pg_url)
    schema.upgrade(engine)
    factory = db.make_session_factory(engine)
    deploy_files(factory, [("c.bpmn", COUNT)])
    with db.transaction(factory) as s:
        for n in range(1000):
            instances.start(s, operator, "counting", {"n": n, **({"hold": 120} if n == 0 else {})})
    engine.dispose()  # the workers and the checks below use their own connections
    procs = [_spawn(pg_url, tmp_path, lock_ms=2000, concurrency=4) for _ in range(4)]
    try:
        marker = tmp_path / "0.started"
        wait_for(marker.exists, timeout=60, message="the held task to start")
        victim = int(marker.read_text())
        os.kill(victim, signal.SIGKILL)  # mid-task: no unlock, no completion; its lock must expire
        wait_for(lambda: _completed(factory) == 1000, timeout=240, interval=0.2, message="1000 completed instances")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    try:
        runs = _executions(tmp_path)
        assert len(runs) == 1000
        assert runs["0"][0] == victim and len(runs["0"]) == 2 and runs["0"][1] != victim
        # a handler runs again only where the killed worker held the task when it died
        again = {n: pids for n, pids in runs.items() if len(pids) > 1}
        assert all(len(pids) == 2 and pids[0] == victim and pids[1] != victim for pids in again.values()), again
        with db.transaction(factory) as s:
            completed = s.scalars(select(HistoryEvent.task_id).where(HistoryEvent.kind == "external_task_completed"))
            assert Counter(completed.all()).most_common(1)[0][1] == 1  # no task completed twice
            assert s.scalar(select(func.count()).select_from(HistoryEvent)
                            .where(HistoryEvent.kind == "external_task_completed")) == 1000
            assert s.scalar(select(func.count()).select_from(ExternalTask)) == 0
    finally:
        engine.dispose()


def _completed(factory) -> int:
    with db.transaction(factory) as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "completed"))
