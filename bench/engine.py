"""Benchmark: the sample procedure run to completion N times, persisting after every step.

Three ways in one run, then motcua again with two processes:

* baseline — SpiffWorkflow alone (its own CamundaParser and serializer), a JSON round trip of the whole
  workflow after every step, no database;
* motcua on SQLite and motcua on PostgreSQL — each step a committed engine command (start, lock the
  external task, complete it, complete the review, complete the approval).

The three one-process configurations run interleaved (see ``one_process``), so the ratios compare runs made
under the same machine conditions.

Prints a table and, last, one JSON line. Usage: ``python bench/engine.py [-n 300] [--rounds 6] [--no-pg] [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter  # noqa: E402
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask  # noqa: E402
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from bench.common import PgSchema  # noqa: E402
from engine import db, deployment, dialect, external_tasks, instances, schema, user_tasks  # noqa: E402
from engine.models import UserTask  # noqa: E402
from sqlalchemy import bindparam, select  # noqa: E402
from engine.runtime import Actor  # noqa: E402
from engine.specs import SPECS  # noqa: E402

PROCEDURE = ROOT / "processes" / "sample-residence"
APPLICATION = {"citizen_id": "001099012345", "full_name": "Nguyễn Văn An", "purpose": "Xin việc"}
OPERATOR = Actor("bench", operator=True)


def make_baseline(read_back: bool = True):
    """SpiffWorkflow alone, parsed once: a function running n instances with a JSON round trip after every
    step (``read_back=False``: the state serialized after every step but never read back, as an engine that
    keeps its workflows in memory between commands still writes it)."""
    parser = CamundaParser()
    root = dialect.parse_xml((PROCEDURE / "process.bpmn").read_bytes())
    dialect.prepare(root)  # only quotes the Camunda-style "P3D" timer, which plain SpiffWorkflow cannot read
    parser.add_bpmn_xml(root, filename="process.bpmn")
    spec, subs = parser.get_spec("sample_residence"), parser.get_subprocess_specs("sample_residence")
    # SpiffWorkflow ships no converter for the plain service task the Camunda parser makes.
    config = {**CAMUNDA_CONFIG, ServiceTask: BpmnTaskSpecConverter}
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def round_trip(wf):
        state = serializer.serialize_json(wf)
        return serializer.deserialize_json(state) if read_back else wf

    def step(wf, spec_name, data):
        task = next(t for t in wf.get_tasks(state=TaskState.READY | TaskState.STARTED) if t.task_spec.name == spec_name)
        task.data.update(data)
        task.complete() if task.state == TaskState.STARTED else task.run()
        wf.do_engine_steps()
        return round_trip(wf)

    def run(n: int) -> None:
        for _ in range(n):
            wf = BpmnWorkflow(spec, subs)
            wf.get_next_task(spec_name="Start").data.update(APPLICATION)
            wf.do_engine_steps()
            wf = round_trip(wf)
            wf = step(wf, "Task_lookup", {"registry_found": True})
            wf = step(wf, "Task_review", {"review_decision": "accept"})
            wf = step(wf, "Task_approve", {"approved": True})
            assert wf.is_completed()
    return run


_TASK_OF_INSTANCE = select(UserTask.id).where(UserTask.instance_id == bindparam("instance_id"))


def _user_task(session, instance_id: str) -> str:
    """The open user task of an instance (a client finds it before completing it)."""
    return session.connection().execute(_TASK_OF_INSTANCE, {"instance_id": instance_id}).scalar_one()


def motcua_instances(url: str, n: int, worker: str, clear: bool = True) -> None:
    """Run n instances of the sample procedure to completion, one committed command per step (``clear``: start
    with no parsed definition cached)."""
    engine = _ENGINES.get(url) or _ENGINES.setdefault(url, db.make_engine(url))
    factory = db.make_session_factory(engine)
    if clear:
        SPECS.clear()
    for _ in range(n):
        with db.transaction(factory) as s:
            instances.start(s, OPERATOR, "sample_residence", dict(APPLICATION))
        locked = []
        while not locked:  # with several processes, the task locked may be another process's instance
            with db.transaction(factory) as s:
                locked = external_tasks.fetch_and_lock(s, worker, {"population-lookup": 60_000}, 1)
        iid = locked[0].instance_id
        with db.transaction(factory) as s:
            external_tasks.complete(s, locked[0].id, worker, {"registry_found": True})
        with db.transaction(factory) as s:
            user_tasks.complete(s, _user_task(s, iid), OPERATOR, {"review_decision": "accept"})
        with db.transaction(factory) as s:
            user_tasks.complete(s, _user_task(s, iid), OPERATOR, {"approved": True})


# instances run before the clock starts: the diagram parsed and cached, and each statement run the five times
# after which psycopg prepares it on the server (as in a server or worker that has been running a while)
WARM_UP = 10
_ENGINES: dict = {}  # one engine per database and process, kept warm (pool, compiled statements) between runs


def _dispose(url: str) -> None:
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def prepare(url: str) -> None:
    """Migrate the database and deploy the sample procedure."""
    engine = db.make_engine(url)
    schema.upgrade(engine)
    with db.transaction(db.make_session_factory(engine)) as s:
        deployment.deploy(s, deployment.collect_files([PROCEDURE]), ROOT / "forms")
    engine.dispose()


def _child(url: str, n: int, worker: str, ready, go, done) -> None:
    """One process of a multi-process run: warm up, wait for the others, run, report its end time."""
    motcua_instances(url, WARM_UP, f"{worker}-warm-up", clear=False)
    ready.put(worker)
    go.wait()
    motcua_instances(url, n, worker, clear=False)
    done.put(time.perf_counter())


def one_process(runs: dict, n: int, rounds: int) -> dict[str, float]:
    """Instances per second of each one-process configuration (name → function running k instances), measured
    interleaved: ``rounds`` rounds, each running every configuration on its share of n in turn, the order
    rotated every round. This machine's speed drifts by a third from one minute to the next; interleaving puts
    the baseline and motcua under the same drift, so their ratio holds even when the absolute figures move.
    """
    shares = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    elapsed = dict.fromkeys(runs, 0.0)
    names = list(runs)
    for r, share in enumerate(shares):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            runs[name](share)
            elapsed[name] += time.perf_counter() - t0
    return {name: n / elapsed[name] for name in names}


def motcua_runner(url: str):
    """A warmed-up one-process motcua configuration: a function running k instances on ``url``."""
    motcua_instances(url, WARM_UP, "warm-up", clear=False)  # parse, cache and prepare outside the timing
    return lambda k: motcua_instances(url, k, "w0", clear=False)


def motcua(url: str, n: int, processes: int) -> float:
    """Instances per second with ``processes`` (two or more) processes sharing n instances.

    Each process starts, imports and parses the procedure before the clock starts (as a long-running worker
    or server would have), so the figure is the throughput of the commands, not of process start-up.
    """
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    children = [ctx.Process(target=_child, args=(url, n // processes, f"w{i}", ready, go, done))
                for i in range(processes)]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=120)
    t0 = time.perf_counter()  # perf_counter is system-wide (CLOCK_MONOTONIC), comparable across processes
    go.set()
    ends = [done.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=60)
    return (n // processes * processes) / (max(ends) - t0)


_ORDER = ["baseline_spiff_json", "motcua_sqlite_1p", "motcua_sqlite_2p", "motcua_postgresql_1p",
          "motcua_postgresql_2p"]


def main() -> None:
    """Run every configuration and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="instances per configuration")
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds of the one-process runs")
    ap.add_argument("--quick", action="store_true", help="6 instances in 2 rounds: checks that it runs")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 6, 2
    schemas = [] if args.no_pg else [PgSchema(), PgSchema()]
    with tempfile.TemporaryDirectory() as tmp:
        # per database kind: one database for the one-process run, another for the two-process run
        databases = {"sqlite": (f"sqlite:///{tmp}/bench1.db", f"sqlite:///{tmp}/bench2.db")}
        if schemas:
            databases["postgresql"] = (schemas[0].url, schemas[1].url)
        try:
            for url in (url for pair in databases.values() for url in pair):
                prepare(url)
            runs = {"baseline_spiff_json": make_baseline()}
            runs.update({f"motcua_{kind}_1p": motcua_runner(one) for kind, (one, _) in databases.items()})
            results = one_process(runs, args.n, args.rounds)
            for kind, (one, two) in databases.items():
                _dispose(one)
                results[f"motcua_{kind}_2p"] = motcua(two, args.n, 2)
        finally:
            for pg in schemas:
                pg.drop()
    results = {name: results[name] for name in sorted(results, key=_ORDER.index)}
    base = results["baseline_spiff_json"]
    print(f"Sample procedure to completion, {args.n} instances each, persisted after every step "
          f"({os.cpu_count()} CPUs; one-process runs interleaved in {args.rounds} rounds)")
    print(f"{'configuration':<28}{'instances/s':>14}{'vs baseline':>14}")
    for name, rate in results.items():
        print(f"{name:<28}{rate:>14.1f}{rate / base:>13.2f}x")
    out = {"n": args.n, **{k: round(v, 1) for k, v in results.items()},
           **{f"ratio_{k}": round(v / base, 3) for k, v in results.items() if k != "baseline_spiff_json"}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
