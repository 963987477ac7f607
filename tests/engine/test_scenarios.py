"""The scenario runner: files read with clear errors, the first difference said in words, coverage counted."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from engine.scenarios import ProcedureRun, ScenarioFileError, load_scenarios, run_procedure
from engine.scenarios.model import parse_scenario, parse_wait
from tests.conftest import FORMS, PROCESSES
from workers.runner import HANDLERS

BIRTH = PROCESSES / "birth-registration"


@pytest.fixture(scope="module")
def birth_run():
    """The birth-registration procedure deployed once for the module's scenarios."""
    with ProcedureRun(BIRTH, FORMS, dict(HANDLERS), [PROCESSES / "dossier-apology"]) as procedure_run:
        yield procedure_run


def scenario(text: str, defaults: dict | None = None):
    """A scenario from YAML text, with the birth-registration folder's defaults."""
    import yaml
    if defaults is None:
        defaults = yaml.safe_load((BIRTH / "scenarios" / "defaults.yaml").read_text(encoding="utf-8"))
    return parse_scenario(yaml.safe_load(textwrap.dedent(text)), "test.yaml", defaults)


ACCEPTED = """
    name: t
    steps:
      - worker: esign-verify
        result: {signature_valid: true}
      - task: tiep_nhan
        form: {quyet_dinh: tiep_nhan}
"""


def test_a_scenario_that_holds_passes_and_reports_its_path_and_status(birth_run):
    result = birth_run.run(scenario(ACCEPTED + """
    expect: {status: 4, waiting: [tham_dinh], path: [tra_cuu_dan_cu, tiep_nhan, phieu_tiep_nhan]}
    """))
    assert result.passed, result.failure
    assert result.path[:3] == ["nop_ho_so", "tra_cuu_dan_cu", "kiem_tra_chu_ky"] and result.status == 4


@pytest.mark.parametrize("expect, words", [
    ("{status: 10}", "expected the dossier status 10 (Đã trả kết quả), but it is 4 (Đang xử lý)"),
    ("{ended: true}", "expected the process to have ended, but it waits for: user task 'tham_dinh'"),
    ("{waiting: [phe_duyet]}", "expected the dossier to wait at 'phe_duyet'"),
    ("{path: [tiep_nhan, tra_cuu_dan_cu]}", "expected the path to pass 'tra_cuu_dan_cu'"),
    ("{path: [tham_dinh]}", "expected the path to pass 'tham_dinh' 'Thẩm định, đề xuất kết quả' (userTask), but it did not"),
    ("{not_reached: [tiep_nhan]}", "expected the path not to pass 'tiep_nhan'"),
    ("{variables: {fee_vnd: 8000}}", "expected the variable 'fee_vnd' to be 8000, but it is 0"),
    ("{variables: {no_such: 1}}", "expected the variable 'no_such' to be 1, but it is not set"),
    ("{overdue: true}", "expected the dossier to be overdue, but it is on time"),
    ("{end: ket_thuc_tra_ket_qua}", "expected the process to end at 'ket_thuc_tra_ket_qua'"),
])
def test_the_first_difference_is_said_in_words(birth_run, expect, words):
    result = birth_run.run(scenario(ACCEPTED + f"    expect: {expect}\n"))
    assert not result.passed
    assert result.failure.startswith("at the end: ") and words in result.failure, result.failure


def test_a_step_that_does_not_match_names_the_step_and_where_the_dossier_waits(birth_run):
    result = birth_run.run(scenario("""
    name: t
    steps:
      - worker: esign-verify
        result: {signature_valid: true}
      - task: phe_duyet
        form: {y_kien_lanh_dao: dong_y}
    """))
    assert result.failure == ("step 2 (task phe_duyet): the user task 'phe_duyet' is not waiting; it waits for: "
                              "user task 'tiep_nhan' (Kiểm tra, tiếp nhận hồ sơ) for mot-cua")


def test_a_form_the_task_refuses_is_a_failure_with_the_form_errors(birth_run):
    result = birth_run.run(scenario(ACCEPTED.replace("{quyet_dinh: tiep_nhan}", "{quyet_dinh: bo_sung}")))
    assert "step 2 (task tiep_nhan): completing 'Kiểm tra, tiếp nhận hồ sơ' was refused" in result.failure
    assert "giay_to_thieu" in result.failure


def test_the_wrong_group_cannot_complete_a_task(birth_run):
    result = birth_run.run(scenario(ACCEPTED.replace("form: {quyet_dinh: tiep_nhan}",
                                                     "group: lanh-dao\n        form: {quyet_dinh: tiep_nhan}")))
    assert not result.passed and "was refused" in result.failure and "lanh-dao" in result.failure


def test_an_application_the_start_form_refuses_fails_at_the_start(birth_run):
    result = birth_run.run(scenario("""
    name: t
    start: {form: {citizen_id: "12"}}
    """))
    assert result.failure.startswith("start: the application was refused: ") and "citizen_id" in result.failure


def test_an_unexpected_incident_stops_the_scenario_and_an_expected_one_does_not(birth_run):
    failing = """
    name: t
    steps:
      - worker: esign-verify
        failure: the signature service is down
    """
    result = birth_run.run(scenario(failing))
    assert result.failure == ("step 1 (worker esign-verify): an incident opened at 'kiem_tra_chu_ky': "
                              "the signature service is down")
    expected = failing.rstrip() + "\n    expect: {incidents: [kiem_tra_chu_ky], status: 1}\n"
    assert birth_run.run(scenario(expected)).passed


def test_a_bpmn_error_from_a_worker_takes_the_error_boundary(birth_run):
    result = birth_run.run(scenario("""
    name: t
    workers: {population-lookup: null}
    steps:
      - worker: population-lookup
        error: {code: INVALID_CITIZEN_ID, message: sai mã tỉnh}
    expect: {status: 3, path: [so_dinh_danh_sai, tu_choi_van_ban, ket_thuc_tu_choi], ended: true}
    """))
    assert result.passed, result.failure


def test_wait_moves_the_scenario_clock_and_timers_and_warnings_follow(birth_run):
    result = birth_run.run(scenario(ACCEPTED + """
      - expect: {overdue: false, not_reached: [sap_qua_han]}
      - wait: 5 working hours
      - expect: {waiting: [tham_dinh, ky_xin_loi], path: [sap_qua_han, nhac_can_bo]}
      - wait: {until: 2026-12-03 10:00}
    expect: {overdue: true}
    """))
    assert result.passed, result.failure


def test_messages_go_to_the_scenario_dossier_and_a_message_nobody_waits_for_fails(birth_run):
    result = birth_run.run(scenario(ACCEPTED + """
      - message: payment_received
        variables: {payment_status: paid}
    """))
    assert result.failure.startswith("step 3 (message payment_received): no instance is waiting for message "
                                     "'payment_received'")


@pytest.mark.parametrize("text, words", [
    ("name: t\nsteps: [{sing: x}]", "step 1: a step has exactly one of task, worker, message, wait, expect"),
    ("name: t\nsteps: [{wait: soon}]", "'soon' is not a wait"),
    ("name: t\nexpect: {status: 11}", "status must be a dossier status from 1 to 10"),
    ("name: t\nexpect: {colour: red}", "expect does not know colour"),
    ("name: t\nsteps: [{task: a, worker: b}]", "(it has task, worker)"),
    ("steps: []", "a scenario is a mapping with at least a name"),
    ("name: t\nstart: {at: tomorrow}", "'tomorrow' is not a moment"),
])
def test_a_malformed_scenario_file_is_refused_with_the_place(text, words):
    import yaml
    with pytest.raises(ScenarioFileError) as err:
        parse_scenario(yaml.safe_load(text), "bad.yaml")
    assert err.value.message.startswith("bad.yaml") and words in err.value.message


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    folder = tmp_path / "p"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "scenarios" / "broken.yaml").write_text("name: t\nsteps:\n  - task: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r"broken.yaml, line \d+: not valid YAML"):
        load_scenarios(folder)


def test_a_scenario_file_that_is_not_utf8_names_the_file_and_line(tmp_path):
    folder = tmp_path / "p"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "scenarios" / "latin1.yaml").write_bytes("name: t\nsteps:\n  - start: {ten: Nguyên}\n".encode("latin-1"))
    with pytest.raises(ScenarioFileError, match=r"latin1.yaml, line 3: not UTF-8 text"):
        load_scenarios(folder)


def test_waits_are_read_in_working_or_calendar_units():
    assert parse_wait("3 working days", "x").working and parse_wait("3 working days", "x").unit == "day"
    assert parse_wait("90 minutes", "x").amount == 90 and not parse_wait("90 minutes", "x").working
    assert parse_wait({"until": "2026-12-03 10:00"}, "x").until.utcoffset().total_seconds() == 7 * 3600


def test_coverage_lists_what_no_scenario_reached(tmp_path):
    folder = tmp_path / "birth-registration"
    shutil.copytree(BIRTH, folder)
    for path in (folder / "scenarios").glob("*.yaml"):
        if path.name not in ("defaults.yaml", "03-refusal.yaml"):
            path.unlink()
    results, coverage = run_procedure(folder, FORMS, dict(HANDLERS))
    assert [r.passed for r in results] == [True]
    assert not coverage.complete
    assert "tham_dinh" in coverage.missed_nodes and "tiep_nhan" not in coverage.missed_nodes
    assert "f_tu_choi" not in coverage.missed_flows and "f_tiep_nhan" in coverage.missed_flows
    assert "f_yc_bo_sung" in coverage.missed_flows
    report = "\n".join(coverage.lines())
    assert "not reached: element tham_dinh 'Thẩm định, đề xuất kết quả' (userTask)" in report
    assert "not taken: sequence flow f_tiep_nhan from Kết quả kiểm tra hồ sơ (Tiếp nhận)" in report


def test_an_apology_in_one_dossier_does_not_change_the_next_dossiers(birth_run):
    """SpiffWorkflow rewires a shared spec when a message starts an event subprocess; instances started after
    one dossier's apology must still end."""
    from engine.scenarios.model import load_scenarios
    by_file = {s.file: s for s in load_scenarios(BIRTH)}
    late, happy = by_file["07-late-dossier.yaml"], by_file["01-happy-path.yaml"]
    assert [birth_run.run(s).failure for s in (late, happy, late, happy)] == [None] * 4
