"""A worker process for the multi-process tests: ``python -m tests.workers.worker_process URL LOG_DIR``.

Topic ``count``: appends ``<task id> <pid>`` to ``LOG_DIR/executions.log`` (one write per line, O_APPEND,
so lines from several processes never interleave). A task with ``hold`` set and no marker file yet writes
``LOG_DIR/<task id>.started`` and then blocks for ``hold`` seconds (the test kills or stops the process).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine import db
from workers.client import DatabaseClient
from workers.runner import Runner


def main() -> None:
    """Run a worker until SIGTERM."""
    url, log_dir = sys.argv[1], Path(sys.argv[2])
    lock_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 60_000
    grace = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    log_path = log_dir / "executions.log"

    def count(variables):
        task_id = variables["_task_id_hint"] if "_task_id_hint" in variables else variables["n"]
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{task_id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
        marker = log_dir / f"{variables['n']}.started"
        if variables.get("hold") and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(float(variables["hold"]))
        return {"counted": True}

    engine = db.make_engine(url)
    runner = Runner(DatabaseClient(db.make_session_factory(engine)), {"count": count},
                    f"proc-{os.getpid()}", concurrency=concurrency, lock_ms=lock_ms, idle_max_s=0.2, grace_s=grace)
    runner.install_signal_handlers()
    (log_dir / f"ready-{os.getpid()}").write_text("ok")
    runner.run()
    engine.dispose()


if __name__ == "__main__":
    main()
