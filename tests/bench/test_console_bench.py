"""bench/console.py still runs: its quick mode seeds, asks the heatmap, the version's page and /metrics (each
answering 200, /metrics with its figures read) in the three runs and ends with one JSON line of figures. No figure is
judged here: timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PG_URL, ROOT, require_pg

PAGES = {"heatmap_median", "heatmap_p90", "definition_tokens", "metrics"}


def test_the_console_benchmark_runs_in_quick_mode():
    require_pg()
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "console.py"), "--quick"], cwd=ROOT, text=True,
                         capture_output=True, timeout=600, env={**os.environ, "MOTCUA_BENCH_PG_URL": PG_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "console" and figures["aim_p95_ms"] == 200
    assert figures["rows"]["external_task"] == 10_000 and figures["rows"]["history_event"] > 90_000
    assert figures["baseline_rows"]["history_event"] < figures["rows"]["history_event"] // 50
    for run_name in ("baseline", "large", "large_without_0021_indexes"):
        assert set(figures[run_name]) == PAGES
        assert all(v["p50_ms"] <= v["p95_ms"] for v in figures[run_name].values())
