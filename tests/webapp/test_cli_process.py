"""``motcua test-process``: pass or the first difference per scenario, coverage, exit codes, JSON."""
from __future__ import annotations

import json
import re
import shutil

from click.testing import CliRunner

from tests.conftest import FORMS, PROCESSES
from webapp.cli import main

BIRTH = PROCESSES / "birth-registration"


def run(monkeypatch, *args):
    monkeypatch.setenv("MOTCUA_FORMS_DIR", str(FORMS))
    result = CliRunner().invoke(main, ["test-process", *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_procedure_whose_scenarios_pass_exits_0_and_reports_full_coverage(monkeypatch):
    code, out, _ = run(monkeypatch, BIRTH, "--require-coverage")
    assert code == 0, out
    assert "  pass  Hồ sơ hợp lệ, miễn phí, trả kết quả trong ngày (01-happy-path.yaml" in out
    assert re.search(r"coverage: (\d+)/\1 elements, (\d+)/\2 sequence flows", out), out  # every one reached


def test_a_failing_scenario_exits_1_with_the_difference_in_words_and_json(monkeypatch, tmp_path):
    folder = tmp_path / "birth-registration"
    shutil.copytree(BIRTH, folder)
    happy = folder / "scenarios" / "01-happy-path.yaml"
    happy.write_text(happy.read_text(encoding="utf-8").replace("  status: 10\n", "  status: 9\n"), encoding="utf-8")
    code, out, _ = run(monkeypatch, folder)
    assert code == 1
    assert ("FAIL  Hồ sơ hợp lệ, miễn phí, trả kết quả trong ngày (01-happy-path.yaml): at the end: expected the "
            "dossier status 9 (Đã xử lý xong), but it is 10 (Đã trả kết quả)") in out
    code, out, _ = run(monkeypatch, folder, "--json", "--scenario", "01-")
    report = json.loads(out)
    (procedure,) = report["procedures"]
    assert code == 1 and report["failed"] == 1 and procedure["processKey"] == "dang_ky_khai_sinh"
    assert [s["passed"] for s in procedure["scenarios"]] == [False]
    assert procedure["coverage"]["missedNodes"] and "ket_thuc_tu_choi" in procedure["coverage"]["missedNodes"]


def test_missing_coverage_fails_only_when_required(monkeypatch):
    code, out, _ = run(monkeypatch, BIRTH, "--scenario", "03-refusal")
    assert code == 0 and "not reached: element tham_dinh" in out
    assert run(monkeypatch, BIRTH, "--scenario", "03-refusal", "--require-coverage")[0] == 1


def test_a_folder_without_procedures_is_bad_input(monkeypatch, tmp_path):
    code, _, err = run(monkeypatch, tmp_path)
    assert code == 2 and "no procedure folder" in err


def test_a_malformed_scenario_file_is_bad_input_naming_the_file(monkeypatch, tmp_path):
    folder = tmp_path / "birth-registration"
    shutil.copytree(BIRTH, folder)
    (folder / "scenarios" / "99-broken.yaml").write_text("name: x\nsteps: [{dance: now}]\n", encoding="utf-8")
    code, _, err = run(monkeypatch, folder)
    assert code == 2 and "99-broken.yaml, step 1: a step has exactly one of" in err
