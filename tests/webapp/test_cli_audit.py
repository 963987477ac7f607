"""``motcua audit``: what the administrative commands wrote, filtered by action, actor, target and time."""
from __future__ import annotations

import json

from tests.conftest import PROCESSES
from tests.webapp.test_cli_users import cli  # noqa: F401  (the fixture)


def test_the_commands_actions_are_listed_with_who_and_why(cli, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MOTCUA_OPERATOR", "van-hanh-1")
    assert cli("init")[0] == 0
    assert cli("deploy", PROCESSES / "sample-residence", "--user", "phan-tich-1", "--reason", "Bản đầu tiên")[0] == 0
    assert cli("agencies", "add", "000.00.16.H56", "Công an tỉnh", "--reason", "Khai báo cơ quan")[0] == 0
    assert cli("users", "add", "bot-1", "--service", "--reason", "Worker gửi thư")[0] == 0
    code, out, _ = cli("audit", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["action"], r["actor"], r["reason"]) for r in rows] == [
        ("token_issue", "van-hanh-1", "Worker gửi thư"), ("account_add", "van-hanh-1", "Worker gửi thư"),
        ("agency_add", "van-hanh-1", "Khai báo cơ quan"), ("deploy", "phan-tich-1", "Bản đầu tiên")]
    assert "mct_" not in out  # the token itself is never in the log
    code, out, _ = cli("audit", "--json", "--action", "deploy")
    assert [r["details"]["definitions"] for r in json.loads(out)] == [["sample_residence:1"]]
    code, out, _ = cli("audit", "--json", "--actor", "phan-tich-1", "--target", "deployment")
    assert [r["action"] for r in json.loads(out)] == ["deploy"]
    code, out, _ = cli("audit", "--json", "--target", "agency:000.00.16.H56", "--since", "2000-01-01")
    assert [r["action"] for r in json.loads(out)] == ["agency_add"]
    assert json.loads(cli("audit", "--json", "--since", "2999-01-01T00:00+07:00")[1]) == []
    code, out, _ = cli("audit")
    assert code == 0 and "agency_add" in out and "agency:000.00.16.H56" in out and "Khai báo cơ quan" in out
    code, _, err = cli("audit", "--since", "hôm qua")
    assert code == 2 and "ISO 8601" in err
