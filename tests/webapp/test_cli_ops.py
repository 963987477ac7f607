"""``motcua users``, ``motcua topics``, ``motcua worker`` (in-process and remote) and ``motcua serve``."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

from tests.conftest import PROCESSES, ROOT, free_port, wait_for
from tests.webapp.test_cli import cli  # noqa: F401  (the fixture)


def test_users_add_and_tokens(cli):  # noqa: F811
    cli("init")
    code, out, _ = cli("users", "add", "worker-1", "--service", "--json")
    first = json.loads(out)["token"]
    assert code == 0 and first.startswith("mct_")
    code, _, err = cli("users", "add", "worker-1", "--service")
    assert code == 1 and "already exists" in err
    code, _, err = cli("users", "add", "Bad Name!", "--service")
    assert code == 2 and "not a usable account name" in err
    code, _, err = cli("users", "add", "officer1", "--groups", "mot-cua")
    assert code == 2 and "needs a password" in err
    second = json.loads(cli("users", "token", "worker-1", "--json")[1])["token"]
    assert second != first
    listed = json.loads(cli("users", "list", "--json")[1])
    assert listed == [{"name": "worker-1", "displayName": None, "groups": [], "agency": None, "service": True,
                       "disabled": False, "hasToken": True}]


def test_topics_show_what_nobody_serves_and_the_worker_does_its_tasks(cli, tmp_path):  # noqa: F811
    cli("init")
    cli("deploy", PROCESSES)
    cli("start", "sample_residence", "--data", json.dumps({"citizen_id": "001099012345"}))
    topics = {t["topicName"]: t for t in json.loads(cli("topics", "--json")[1])}
    lookup = topics["population-lookup"]
    assert (lookup["waiting"], lookup["handler"], lookup["workers"]) == (1, True, [])
    assert topics["notify"]["handler"] is True and topics["notify"]["waiting"] == 0
    code, out, _ = cli("worker", "--once", "--worker-id", "w-test", "--json")
    assert code == 0 and [o["result"] for o in json.loads(out)] == ["completed"]
    after = {t["topicName"]: t for t in json.loads(cli("topics", "--json")[1])}
    assert after["population-lookup"]["waiting"] == 0 and after["population-lookup"]["workers"] == ["w-test"]
    code, _, err = cli("worker", "--topics", "no-such-topic", "--once")
    assert code == 2 and "no handler for no-such-topic" in err


def test_serve_and_a_remote_worker_over_http(sqlite_url, tmp_path):
    env = {**os.environ, "MOTCUA_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    motcua = [sys.executable, "-m", "webapp"]
    subprocess.run(motcua + ["init"], env=env, check=True, capture_output=True)
    subprocess.run(motcua + ["deploy", str(PROCESSES)], env=env, check=True, capture_output=True)
    token = json.loads(subprocess.run(motcua + ["users", "add", "bot", "--service", "--json"], env=env, check=True,
                                      capture_output=True, text=True).stdout)["token"]
    subprocess.run(motcua + ["start", "sample_residence", "--data", '{"citizen_id": "001099012345"}'], env=env,
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(motcua + ["serve", "--port", str(port), "--threads", "4"], env=env,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base), timeout=60, message="motcua serve to answer")
        worker = subprocess.Popen(motcua + ["worker", "--url", base + "/engine-rest", "--concurrency", "2",
                                            "--json"], env={**env, "MOTCUA_WORKER_TOKEN": token},
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        wait_for(lambda: _waiting_tasks(base, token) == [], timeout=60, message="the remote worker to do the task")
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        assert [o["result"] for o in json.loads(out)] == ["completed"]
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/engine-rest/openapi.json", timeout=2):
            return True
    except OSError:
        return False


def _waiting_tasks(base: str, token: str) -> list:
    request = urllib.request.Request(base + "/engine-rest/external-task?topicName=population-lookup",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_the_scheduler_process_fires_a_due_timer_and_stops_on_sigterm(sqlite_url, tmp_path):
    from engine import db, instances, queries
    from engine.runtime import Actor
    from tests.bpmn_builder import end, linear, process, start
    from tests.conftest import deploy_files
    env = {**os.environ, "MOTCUA_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    motcua = [sys.executable, "-m", "webapp"]
    subprocess.run(motcua + ["init"], env=env, check=True, capture_output=True)
    engine = db.make_engine(sqlite_url)
    factory = db.make_session_factory(engine)
    try:
        xml = process(linear(start(), ("wait", '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                                               '<bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                               '</bpmn:intermediateCatchEvent>'), end()))
        deploy_files(factory, [("p.bpmn", xml)])
        with db.transaction(factory) as s:
            iid = instances.start(s, Actor("t", operator=True), "p").row.id
        scheduler = subprocess.Popen(motcua + ["scheduler"], env=env, stderr=subprocess.DEVNULL)
        try:
            def completed():
                with db.transaction(factory) as s:
                    return queries.instance(s, iid)["status"] == "completed"
            wait_for(completed, timeout=60, message="the scheduler to fire the timer")
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=30) == 0
        finally:
            if scheduler.poll() is None:
                scheduler.kill()
    finally:
        engine.dispose()


def test_serve_refuses_a_port_out_of_range_before_starting(cli, monkeypatch):  # noqa: F811
    from webapp import cli_serve
    started = []
    monkeypatch.setattr(cli_serve, "run_server", lambda *args, **kwargs: started.append(args))
    cli("init")
    for port in ("99999", "0", "-1"):
        code, _, err = cli("serve", "--port", port)
        assert code == 2 and "--port" in err and "is not in the range 1<=x<=65535" in err
    assert cli("serve", "--port", "65535")[0] == 0 and started[0][2] == 65535
