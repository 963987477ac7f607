"""Benchmark: the loop an integrator runs over HTTP, against one server process on PostgreSQL.

Start an instance of a one-user-task process, find its task, complete it, read the instance back — with
the REST API of ``motcua serve`` (gunicorn, one process) on PostgreSQL, from one client and from four
client threads. Prints instances per second and p50/p95 per call, the ratio to spiff-arena's published
5.4 instances/s for this loop on this machine (the baseline) and to the 50/s aim; last line one JSON object.

Usage: ``python bench/rest.py [-n 300]``.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PgSchema, Server, migrate_and_deploy, percentile, service_token  # noqa: E402
from tests.bpmn_builder import end, linear, process, start, user_task  # noqa: E402

PEER_BASELINE = 5.4  # spiff-arena, same loop, PostgreSQL, this machine (../shared/reference/peers.md)
AIM = 50.0
ONE_TASK = process(linear(start(), user_task("review", "mot-cua"), end()), process_id="one_task")
CALLS = ("start", "find_task", "complete", "read_back")


class Client:
    """A keep-alive HTTP client, as an integrator's would be."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body=None):
        self.conn.request(method, "/engine-rest" + path, body=json.dumps(body) if body is not None else None,
                          headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300 and response.status != 204:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return json.loads(data) if data else None


def loop(port: int, token: str, n: int, timings: dict[str, list[float]], lock: threading.Lock) -> None:
    """n rounds of the integrator's loop."""
    client = Client(port, token)
    local = {c: [] for c in CALLS}
    for i in range(n):
        t0 = time.perf_counter()
        instance = client.call("POST", "/process-definition/key/one_task/start", {
            "businessKey": f"HS-{threading.get_ident()}-{i}",
            "variables": {"applicant": {"value": "Nguyễn Văn An", "type": "String"}}})
        t1 = time.perf_counter()
        (task,) = client.call("GET", f"/task?processInstanceId={instance['id']}")
        t2 = time.perf_counter()
        client.call("POST", f"/task/{task['id']}/complete", {
            "variables": {"decision": {"value": "accept", "type": "String"}}})
        t3 = time.perf_counter()
        back = client.call("GET", f"/process-instance/{instance['id']}")
        t4 = time.perf_counter()
        assert back["ended"] is True
        for name, (a, b) in zip(CALLS, ((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
            local[name].append((b - a) * 1000)
    with lock:
        for name in CALLS:
            timings[name].extend(local[name])


def run(port: int, token: str, n: int, clients: int) -> tuple[float, dict[str, list[float]]]:
    """Instances per second with ``clients`` client threads sharing n rounds."""
    loop(port, token, 5, {c: [] for c in CALLS}, threading.Lock())  # warm-up
    timings: dict[str, list[float]] = {c: [] for c in CALLS}
    lock = threading.Lock()
    threads = [threading.Thread(target=loop, args=(port, token, n // clients, timings, lock)) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (n // clients * clients) / (time.perf_counter() - t0), timings


def main() -> None:
    """Run the loop and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="instances per configuration")
    args = ap.parse_args()
    pg = PgSchema()
    server = None
    out: dict = {"n": args.n, "baseline_spiff_arena": PEER_BASELINE, "aim": AIM}
    try:
        migrate_and_deploy(pg.url, [("one_task.bpmn", ONE_TASK)])
        token = service_token(pg.url)
        server = Server(pg.url, processes=1)
        print(f"REST loop (start, find task, complete, read back), one server process, PostgreSQL, {args.n} instances")
        print(f"{'clients':<9}{'inst/s':>8}{'vs 5.4':>8}{'vs aim':>8}   " + "  ".join(f"{c} p50/p95 ms" for c in CALLS))
        for clients in (1, 4):
            rate, timings = run(server.port, token, args.n, clients)
            cells = "  ".join(f"{percentile(timings[c], 50):>6.1f}/{percentile(timings[c], 95):<6.1f}" for c in CALLS)
            print(f"{clients:<9}{rate:>8.1f}{rate / PEER_BASELINE:>7.1f}x{rate / AIM:>7.2f}x   {cells}")
            out[f"clients_{clients}"] = {"instances_per_s": round(rate, 1),
                                         "ratio_vs_baseline": round(rate / PEER_BASELINE, 2),
                                         "ratio_vs_aim": round(rate / AIM, 2),
                                         **{f"{c}_p50_ms": round(percentile(timings[c], 50), 2) for c in CALLS},
                                         **{f"{c}_p95_ms": round(percentile(timings[c], 95), 2) for c in CALLS}}
    finally:
        if server:
            server.stop()
        pg.drop()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
