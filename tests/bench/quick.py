"""Running a benchmark in its quick mode from a test: it must end with one JSON line of figures. No figure is judged:
timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PG_URL, ROOT, require_pg


def run_quick(script: str) -> dict:
    """Run ``bench/<script>`` with ``--quick`` on the test PostgreSQL; its last line, parsed."""
    require_pg()
    run = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick"], cwd=ROOT, text=True,
                         capture_output=True, timeout=600, env={**os.environ, "MOTCUA_BENCH_PG_URL": PG_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def assert_measured(figures: dict, runs: tuple[str, ...], pages: set[str]) -> None:
    """Every run measured every page, each with a median no higher than its 95th percentile."""
    for run_name in runs:
        assert set(figures[run_name]) == pages
        assert all(v["p50_ms"] <= v["p95_ms"] for v in figures[run_name].values())
