"""``motcua users set/disable/enable``, ``motcua agencies`` and ``motcua groups``: what they change, and exit
code 2 with a clear message for bad input, 1 for a conflict."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sqlalchemy import func, select

from engine import accounts, db, deployment, user_tasks
from engine.models import HistoryEvent, UserTask
from engine.runtime import Actor
from engine.specs import SPECS
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_instances import finish_lookup, open_task, start_sample
from webapp.cli import main


@pytest.fixture
def cli(database_url, monkeypatch):
    """Run motcua commands (with ``stdin=`` text) and return (exit code, stdout, stderr)."""
    monkeypatch.setenv("MOTCUA_DATABASE_URL", database_url)
    monkeypatch.setenv("MOTCUA_FORMS_DIR", str(FORMS))
    SPECS.clear()
    runner = CliRunner()

    def run(*args, stdin: str | None = None):
        result = runner.invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def signs_in(database_url: str, name: str, password: str) -> bool:
    engine = db.make_engine(database_url)
    try:
        with db.transaction(db.make_session_factory(engine)) as session:
            return accounts.by_password(session, name, password) is not None
    finally:
        engine.dispose()


def account(cli, name):
    return next(a for a in json.loads(cli("users", "list", "--json")[1]) if a["name"] == name)


def test_agencies_and_groups_are_defined_listed_and_checked(cli):
    cli("init")
    assert "No agencies" in cli("agencies", "list")[1]
    code, out, _ = cli("agencies", "add", "000.00.16.H56", "Công an  tỉnh", "--json")
    assert code == 0 and json.loads(out)["name"] == "Công an tỉnh"
    assert cli("agencies", "add", "000.00.16.H56.P01", "Phòng Hồ sơ", "--parent", "000.00.16.H56")[0] == 0
    code, _, err = cli("agencies", "add", "000.00.16.H56", "Lần hai")
    assert code == 1 and "already exists" in err
    for bad in ("000..16", ".H56", "H56 xã", "x" * 51):
        code, _, err = cli("agencies", "add", bad, "Sai")
        assert code == 2 and "is not an agency code" in err and "000.00.16.H56" in err
    code, _, err = cli("agencies", "add", "000.00.17.H56", "Con", "--parent", "999")
    assert code == 2 and "no agency with code '999'" in err
    assert cli("agencies", "rename", "000.00.16.H56", "Công an cấp tỉnh")[0] == 0
    assert cli("agencies", "rename", "000.00.99.H56", "Không có")[0] == 2
    assert cli("agencies", "disable", "000.00.16.H56.P01")[0] == 0
    listed = json.loads(cli("agencies", "list", "--json")[1])
    assert [(a["code"], a["name"], a["parentCode"], a["disabled"]) for a in listed] == [
        ("000.00.16.H56", "Công an cấp tỉnh", None, False), ("000.00.16.H56.P01", "Phòng Hồ sơ", "000.00.16.H56", True)]

    assert cli("groups", "add", "mot-cua", "Bộ phận Một cửa")[0] == 0
    code, _, err = cli("groups", "add", "Một Cửa", "Sai")
    assert code == 2 and "not a usable group name" in err
    assert cli("groups", "add", "admin", "Lần hai")[0] == 1
    assert cli("groups", "add", "lanh-dao", "  ")[0] == 2
    assert cli("groups", "rename", "mot-cua", "Bộ phận Tiếp nhận và Trả kết quả")[0] == 0
    groups = json.loads(cli("groups", "list", "--json")[1])
    assert [(g["name"], g["title"], g["builtIn"]) for g in groups] == [
        ("admin", "Quản trị hệ thống", True), ("mot-cua", "Bộ phận Tiếp nhận và Trả kết quả", False)]


def test_without_defined_agencies_or_groups_any_well_formed_ones_are_accepted(cli):
    cli("init")
    code, _, err = cli("users", "add", "can-bo-1", "--password-stdin", "--groups", "mot-cua", "--agency", "H12",
                       "--display-name", "Nguyễn Văn A", stdin="mat-khau-dai\n")
    assert code == 0, err
    assert account(cli, "can-bo-1")["agency"] == "H12" and account(cli, "can-bo-1")["displayName"] == "Nguyễn Văn A"
    code, _, err = cli("users", "set", "can-bo-1", "--agency", "H 12")
    assert code == 2 and "is not an agency code" in err


def test_users_set_disable_enable_and_passwords(cli, database_url):
    cli("init")
    cli("agencies", "add", "000.00.00.H56", "Ủy ban nhân dân xã")
    cli("agencies", "add", "000.00.16.H56", "Công an tỉnh")
    cli("groups", "add", "mot-cua", "Một cửa")
    cli("groups", "add", "lanh-dao", "Lãnh đạo")

    code, _, err = cli("users", "add", "can-bo-1", "--password-stdin", stdin="ngan\n")
    assert code == 2 and "too short: at least 8 characters" in err
    code, _, err = cli("users", "add", "can-bo-1", "--password-stdin", "--agency", "000.00.99.H56",
                       stdin="mat-khau-dai\n")
    assert code == 2 and "no agency with code '000.00.99.H56'" in err
    code, _, err = cli("users", "add", "can-bo-1", "--password-stdin", "--groups", "mot-cua,chuyen-vien",
                       stdin="mat-khau-dai\n")
    assert code == 2 and "no group named 'chuyen-vien'" in err
    assert cli("users", "add", "can-bo-1", "--password-stdin", "--groups", "mot-cua,admin",
               "--agency", "000.00.00.H56", stdin="mat-khau-dai\n")[0] == 0

    code, out, _ = cli("users", "set", "can-bo-1", "--groups", "lanh-dao", "--agency", "000.00.16.H56",
                       "--display-name", "Trần Thị B", "--json")
    assert code == 0 and json.loads(out) == {
        "name": "can-bo-1", "displayName": "Trần Thị B", "groups": ["lanh-dao"], "agency": "000.00.16.H56",
        "service": False, "disabled": False, "hasPassword": True, "hasToken": False}
    code, _, err = cli("users", "set", "can-bo-1")
    assert code == 2 and "nothing to change" in err
    assert cli("users", "set", "khong-co", "--groups", "mot-cua")[0] == 2
    cli("agencies", "disable", "000.00.00.H56")
    code, _, err = cli("users", "set", "can-bo-1", "--agency", "000.00.00.H56")
    assert code == 2 and "the agency '000.00.00.H56' is disabled" in err
    assert cli("users", "set", "can-bo-1", "--display-name", "Trần Thị Bình")[0] == 0  # its own agency stays usable
    assert cli("users", "set", "can-bo-1", "--agency", "", "--groups", "")[0] == 0
    assert (account(cli, "can-bo-1")["agency"], account(cli, "can-bo-1")["groups"]) == (None, [])

    code, _, err = cli("users", "set", "can-bo-1", "--password-stdin", stdin="1234567\n")
    assert code == 2 and "too short" in err and signs_in(database_url, "can-bo-1", "mat-khau-dai")
    assert cli("users", "set", "can-bo-1", "--password-stdin", stdin="mat-khau-moi-dai\n")[0] == 0
    assert not signs_in(database_url, "can-bo-1", "mat-khau-dai")
    assert signs_in(database_url, "can-bo-1", "mat-khau-moi-dai")

    code, out, _ = cli("users", "disable", "can-bo-1")
    assert code == 0 and "disabled" in out and account(cli, "can-bo-1")["disabled"] is True
    assert not signs_in(database_url, "can-bo-1", "mat-khau-moi-dai")
    assert "can-bo-1" in cli("users", "list")[1] and "disabled" in cli("users", "list")[1]
    assert cli("users", "enable", "can-bo-1")[0] == 0 and signs_in(database_url, "can-bo-1", "mat-khau-moi-dai")
    assert cli("users", "disable", "khong-co")[0] == 2

    code, _, err = cli("users", "add", "tinh-1", "--groups", "mot-cua")
    assert code == 2 and "needs a password" in err
    assert cli("users", "add", "tinh-1", "--no-password", "--groups", "mot-cua")[0] == 0
    assert not signs_in(database_url, "tinh-1", "")


def test_users_disable_gives_the_accounts_claimed_tasks_back_to_their_groups(cli, database_url):
    cli("init")
    assert cli("users", "add", "can-bo-1", "--password-stdin", "--groups", "mot-cua", stdin="mat-khau-dai\n")[0] == 0
    engine = db.make_engine(database_url)
    try:
        factory = db.make_session_factory(engine)
        with db.transaction(factory) as session:
            deployment.deploy(session, deployment.collect_files([PROCESSES / "sample-residence"]), FORMS)
        start_sample(factory, Actor("operator", operator=True))
        finish_lookup(factory)
        tid = open_task(factory, "mot-cua")["id"]
        with db.transaction(factory) as session:
            user_tasks.claim(session, tid, Actor("can-bo-1", frozenset({"mot-cua"})))
        assert cli("users", "disable", "can-bo-1", "--reason", "Nghỉ việc")[0] == 0
        with db.transaction(factory) as session:
            assert session.get(UserTask, tid).assignee is None
            assert session.scalar(select(func.count()).select_from(HistoryEvent).where(
                HistoryEvent.task_id == tid, HistoryEvent.kind == "task_unclaimed")) == 1
    finally:
        engine.dispose()
