"""The motcua command: JSON output, exit codes 2 (bad input) and 1 (other failures)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.specs import SPECS
from tests.conftest import FORMS, PROCESSES
from webapp.cli import main


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    """Run motcua commands against the test database and return (exit code, stdout, stderr)."""
    monkeypatch.setenv("MOTCUA_DATABASE_URL", database_url)
    monkeypatch.setenv("MOTCUA_FORMS_DIR", str(FORMS))
    SPECS.clear()
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def test_walk_the_sample_through_the_cli(cli):
    assert cli("init")[0] == 0
    code, out, _ = cli("deploy", PROCESSES, "--json")
    deployed = {d["id"] for dep in json.loads(out)["deployments"] for d in dep["definitions"]}
    keys = {"sample_residence", "dossier_apology", "dang_ky_khai_sinh", "cap_phieu_lltp", "dang_ky_ho_kinh_doanh",
            "cap_gpxd_nha_o", "chung_thuc_ban_sao_dien_tu"}
    assert code == 0 and deployed == {f"{key}:1" for key in keys}
    assert {d["key"] for d in json.loads(cli("definitions", "--json")[1])} == keys
    data = json.dumps({"citizen_id": "001099012345", "full_name": "Trần Thị Bình", "purpose": "Xin việc làm"})
    code, out, _ = cli("start", "sample_residence", "--data", data, "--business-key", "H00-1", "--json")
    instance = json.loads(out)
    assert code == 0 and instance["externalTasks"][0]["topicName"] == "population-lookup"
    listed = json.loads(cli("instances", "--json", "--business-key", "H00-1")[1])
    assert [i["id"] for i in listed] == [instance["id"]]
    assert json.loads(cli("tasks", "--group", "mot-cua", "--json")[1]) == []
    code, out, _ = cli("suspend", instance["id"], "--reason", "kiểm tra", "--json")
    assert code == 0 and json.loads(out)["status"] == "suspended"
    assert json.loads(cli("resume", instance["id"], "--json")[1])["status"] == "active"
    code, out, _ = cli("show", instance["id"], "--json")
    assert [h["kind"] for h in json.loads(out)["history"]][-2:] == ["instance_suspended", "instance_resumed"]
    assert json.loads(cli("terminate", instance["id"], "--json")[1])["status"] == "terminated"


def test_user_task_commands(cli, tmp_path):
    bpmn = tmp_path / "p.bpmn"
    bpmn.write_bytes(_one_task())
    cli("init")
    assert cli("deploy", bpmn)[0] == 0
    iid = json.loads(cli("start", "one", "--json")[1])["id"]
    (task,) = json.loads(cli("tasks", "--group", "staff", "--json")[1])
    code, out, _ = cli("claim", task["id"], "--user", "an", "--json")
    assert code == 0 and json.loads(out)["assignee"] == "an"
    assert json.loads(cli("tasks", "--assignee", "an", "--json")[1])[0]["id"] == task["id"]
    code, out, _ = cli("complete", task["id"], "--user", "an", "--data", '{"ok": true}', "--json")
    assert code == 0 and json.loads(out)["status"] == "completed"
    code, _, err = cli("complete", task["id"], "--user", "an")
    assert code == 1 and "no longer open" in err  # a conflict is not bad input
    assert json.loads(cli("show", iid, "--json")[1])["variables"] == {"ok": True}


def _one_task() -> bytes:
    from tests.bpmn_builder import end, linear, process, start, user_task
    return process(linear(start(), user_task("t"), end()), process_id="one")


@pytest.mark.parametrize("args, code, words", [
    (["start", "no_such_key"], 2, "no process definition"),
    (["start", "sample_residence", "--data", "{not json"], 2, "not valid JSON"),
    (["show", "00000000-0000-0000-0000-000000000000"], 2, "no process instance"),
    (["deploy", "/no/such/path"], 2, "no such file"),
    (["start", "sample_residence", "--business-key", "H" * 300], 2, "business key is too long: at most 255"),
    (["complete", "00000000-0000-0000-0000-000000000000", "--user", "u" * 101], 2, "user id is too long: at most 100"),
])
def test_bad_input_exits_2_with_a_message_on_stderr(cli, args, code, words):
    cli("init")
    cli("deploy", PROCESSES)
    exit_code, out, err = cli(*args)
    assert exit_code == code and words in err and out == ""


def test_a_refused_deployment_lists_every_problem(cli, tmp_path):
    cli("init")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<definitions><oops></definitions>")
    code, out, err = cli("deploy", bad, "--json")
    assert code == 2 and out == ""
    problems = json.loads(err)["error"]["problems"]
    assert problems[0]["file"] == "bad.bpmn" and problems[0]["line"] == 1


def test_an_uninitialised_database_says_what_to_do(cli):
    code, _, err = cli("definitions")
    assert code == 1 and "motcua init" in err


@pytest.mark.parametrize("command", ["instances", "tasks"])
def test_a_negative_limit_exits_2_with_a_message(cli, command):
    cli("init")
    code, out, err = cli(command, "--limit", "-1")
    assert code == 2 and "--limit" in err and "-1 is not in the range x>=0" in err and out == ""
    assert cli(command, "--limit", "0")[0] == 0


@pytest.mark.parametrize("command", ["claim", "complete"])
def test_an_external_task_id_is_no_user_task(cli, command):
    cli("init")
    cli("deploy", PROCESSES / "sample-residence")
    instance = json.loads(cli("start", "sample_residence", "--data", '{"citizen_id": "001099012345"}', "--json")[1])
    external_id = instance["externalTasks"][0]["id"]
    code, out, err = cli(command, external_id, "--user", "an")
    assert code == 2 and f"no user task {external_id}" in err and "no longer open" not in err and out == ""


@pytest.mark.parametrize("command", ["start", "complete"])
@pytest.mark.parametrize("data", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 5_000 + "1" + "}" * 5_000])
def test_data_nested_past_the_parser_s_depth_exits_2_with_a_message(cli, command, data):
    cli("init")
    target = "sample_residence" if command == "start" else "00000000-0000-0000-0000-000000000000"
    code, out, err = cli(command, target, *(["--user", "an"] if command == "complete" else []), "--data", data)
    assert code == 2 and "--data" in err and "nested too deeply" in err and out == ""


@pytest.mark.parametrize("args, named", [
    (["start", "sample_residence", "--business-key", "H\udcff-1"], "--business-key"),  # a Latin-1 terminal's "ÿ"
    (["start", "sample_residence", "--user", "an\udce1"], "--user"),
    (["show", "\udcff"], "INSTANCE_ID"),
    (["instances", "--key", "s\udcff"], "--key"),
    (["claim", "00000000-0000-0000-0000-000000000000", "--user", "b\udce1"], "--user"),
])
def test_an_argument_that_is_not_utf8_exits_2_naming_it(cli, args, named):
    cli("init")
    cli("deploy", PROCESSES / "sample-residence")
    code, out, err = cli(*args)
    assert code == 2 and named in err and "not UTF-8" in err and out == ""
    code, out, err = cli(*args, "--json")
    assert code == 2 and named in json.loads(err)["error"]["message"] and out == ""


def test_a_folder_of_folders_without_any_diagram_exits_2_not_0(cli, tmp_path):
    cli("init")
    (tmp_path / "procedures" / "notes").mkdir(parents=True)
    (tmp_path / "procedures" / "notes" / "readme.txt").write_text("x")
    code, out, err = cli("deploy", tmp_path / "procedures", "--json")
    assert code == 2 and "no .bpmn file" in json.loads(err)["error"]["message"] and out == ""


def test_a_procedure_folder_without_its_diagram_is_not_skipped_silently(cli, tmp_path):
    cli("init")
    procedures = tmp_path / "procedures"
    (procedures / "one").mkdir(parents=True)
    (procedures / "one" / "p.bpmn").write_bytes(_one_task())
    (procedures / "two").mkdir()
    (procedures / "two" / "procedure.toml").write_text('process_key = "two"\n')
    code, out, err = cli("deploy", procedures)
    assert code == 2 and "two" in err and "no .bpmn file" in err and out == ""
    assert json.loads(cli("definitions", "--json")[1]) == []


@pytest.mark.parametrize("user", ["", "   "])
@pytest.mark.parametrize("command", ["claim", "complete", "unclaim", "start"])
def test_a_blank_user_exits_2_and_acts_as_nobody_else(cli, tmp_path, command, user):
    bpmn = tmp_path / "p.bpmn"
    bpmn.write_bytes(_one_task())
    cli("init")
    cli("deploy", bpmn)
    iid = json.loads(cli("start", "one", "--json")[1])["id"]
    (task,) = json.loads(cli("tasks", "--instance", iid, "--json")[1])
    target = "one" if command == "start" else task["id"]
    code, out, err = cli(command, target, "--user", user)
    assert code == 2 and "--user" in err and "empty" in err and out == ""
    assert json.loads(cli("show", iid, "--json")[1])["userTasks"][0]["assignee"] is None  # not claimed by 'operator'
    assert len(json.loads(cli("instances", "--json")[1])) == 1


def test_two_files_of_the_same_name_from_two_folders_exit_2(cli, tmp_path):
    cli("init")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.bpmn").write_bytes(_one_task().replace(b'id="one"', f'id="from_{folder}"'.encode()))
    code, out, err = cli("deploy", tmp_path / "a" / "p.bpmn", tmp_path / "b" / "p.bpmn")
    assert code == 2 and "p.bpmn" in err and "same name" in err and out == ""


@pytest.mark.parametrize("args, code, words", [
    (["start", "sample_residence", "--data", "[1]", "--json"], 2, "must be a JSON object"),
    (["start", "sample_residence", "--json", "--data", "{oops"], 2, "not valid JSON"),
    (["claim", "00000000-0000-0000-0000-000000000000", "--json"], 2, "--user"),
    (["instances", "--limit", "-1", "--json"], 2, "--limit"),
    (["users", "add", "--json"], 2, "NAME"),
])
def test_with_json_a_usage_error_is_one_json_document_on_stderr_too(cli, args, code, words):
    cli("init")
    exit_code, out, err = cli(*args)
    error = json.loads(err)["error"]
    assert exit_code == code and out == "" and words in error["message"] and error["code"] == "bad_input"


def test_with_json_an_uninitialised_database_is_a_json_error(cli):
    code, out, err = cli("definitions", "--json")
    assert code == 1 and out == "" and "motcua init" in json.loads(err)["error"]["message"]


def test_a_number_too_long_to_read_in_data_says_so_without_python_advice(cli):
    cli("init")
    code, out, err = cli("start", "sample_residence", "--data", '{"so_tien": ' + "9" * 5000 + "}")
    assert code == 2 and "more than 4300 digits" in err and "sys.set_int_max_str_digits" not in err and out == ""
