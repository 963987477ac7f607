"""``motcua test-process``: play an analyst's scenarios and report the elements no scenario reached."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.scenarios import ScenarioResult, run_procedure
from engine.scenarios.coverage import CoverageReport
from webapp.cli import Context, emit, handle_errors, main

APOLOGY_FOLDER = "dossier-apology"


def procedure_folders(path: Path) -> list[Path]:
    """The procedure folders under ``path`` (itself, if it is one) that have scenarios."""
    if (path / "procedure.toml").exists():
        return [path]
    return sorted(p for p in path.iterdir() if (p / "procedure.toml").exists() and (p / "scenarios").is_dir())


def _real_handlers() -> dict:
    from workers.runner import HANDLERS
    return dict(HANDLERS)


def _text(folder: Path, results: list[ScenarioResult], coverage: CoverageReport) -> str:
    lines = [f"{folder} ({coverage.elements.process_key}): {len(results)} scenarios"]
    for r in results:
        if r.passed:
            lines.append(f"  pass  {r.scenario.name} ({r.scenario.file}, {r.seconds:.1f} s)")
        else:
            lines.append(f"  FAIL  {r.scenario.name} ({r.scenario.file}): {r.failure}")
    return "\n".join(lines + [f"  {line}" for line in coverage.lines()])


@main.command("test-process")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scenario", "only", help="Only scenarios whose name or file contains this.")
@click.option("--require-coverage", is_flag=True, help="Fail when an element or a flow was not reached.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_obj
@handle_errors
def test_process(obj: Context, path: Path, only: str | None, require_coverage: bool, as_json: bool) -> None:
    """Play the scenarios of a procedure folder (or of every procedure under PATH): each passes or says the
    first difference in words; then the elements and sequence flows no scenario reached."""
    folders = procedure_folders(path)
    if not folders:
        raise click.UsageError(f"{path} has no procedure folder (procedure.toml) with a scenarios/ folder")
    handlers = _real_handlers()
    report, failed, uncovered = [], 0, 0
    for folder in folders:
        apology = folder.parent / APOLOGY_FOLDER
        results, coverage = run_procedure(folder, obj.settings.forms_dir, handlers,
                                          [apology] if apology.is_dir() and apology != folder else [], only)
        failed += sum(not r.passed for r in results)
        uncovered += 0 if coverage.complete else 1
        report.append({"folder": str(folder), "processKey": coverage.elements.process_key,
                       "scenarios": [r.as_dict() for r in results], "coverage": coverage.as_dict()})
        emit(None, False, None if as_json else _text(folder, results, coverage))
    emit({"procedures": report, "failed": failed}, as_json)
    if failed or (require_coverage and uncovered):
        sys.exit(1)
