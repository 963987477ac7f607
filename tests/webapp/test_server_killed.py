"""A server killed mid-request loses nothing: every command is one transaction, so each task is either
completed with its whole effect or still open, and a client that retries after the restart finishes it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from engine import accounts, db, instances, schema
from engine.models import HistoryEvent, ProcessInstance, UserTask
from engine.runtime import Actor
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import ROOT, deploy_files, free_port, wait_for

ONE_TASK = process(linear(start(), user_task("review", "mot-cua"), end()), process_id="one")


def serve(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(port), "--threads", "4",
                             "--no-scheduler"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: _answers(port), timeout=60, message="the server to answer")
    return proc


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/engine-rest/openapi.json", timeout=2):
            return True
    except OSError:
        return False


def complete(port: int, token: str, task_id: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/engine-rest/task/{task_id}/complete", method="POST",
        data=json.dumps({"variables": {"ok": {"value": True, "type": "Boolean"}}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.postgresql
def test_killing_the_server_mid_request_loses_nothing(pg_url):
    engine = db.make_engine(pg_url)
    schema.upgrade(engine)
    factory = db.make_session_factory(engine)
    try:
        deploy_files(factory, [("one.bpmn", ONE_TASK)])
        with db.transaction(factory) as s:
            accounts.add(s, "bot", service=True)
            token = accounts.issue_token(s, "bot")
            for i in range(40):
                instances.start(s, Actor("t", operator=True), "one", {"i": i})
            tasks = list(s.scalars(select(UserTask.id)))
        port = free_port()
        server = serve(pg_url, port)
        outcomes: dict[str, object] = {}

        def client():
            for task_id in tasks:
                try:
                    outcomes[task_id] = complete(port, token, task_id)
                except OSError as err:  # the server died under this request
                    outcomes[task_id] = err
                    return

        worker = threading.Thread(target=client)
        worker.start()
        wait_for(lambda: _completed(factory) >= 10, timeout=60, message="ten completions")
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        worker.join(timeout=60)
        _check_consistent(factory)
        done_before = _completed(factory)
        assert 10 <= done_before < 40
        server = serve(pg_url, port)  # restart; the client retries what it does not know to be done
        try:
            for task_id in tasks:
                if outcomes.get(task_id) != 204:
                    assert complete(port, token, task_id) in (204, 409)  # 409: it was done before the kill
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        _check_consistent(factory)
        assert _completed(factory) == 40
    finally:
        engine.dispose()


def _completed(factory) -> int:
    with db.transaction(factory) as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "completed"))


def _check_consistent(factory) -> None:
    """Each instance is wholly done (no open task, one completion in its history) or wholly open."""
    with db.transaction(factory) as s:
        rows = s.execute(select(ProcessInstance.id, ProcessInstance.status)).all()
        open_tasks = set(s.scalars(select(UserTask.instance_id)))
        completions = dict(s.execute(select(HistoryEvent.instance_id, func.count()).where(
            HistoryEvent.kind == "task_completed").group_by(HistoryEvent.instance_id)).all())
    for instance_id, status in rows:
        if status == "completed":
            assert instance_id not in open_tasks and completions.get(instance_id) == 1
        else:
            assert instance_id in open_tasks and instance_id not in completions
