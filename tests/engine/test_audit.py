"""The audit log: each administrative action writes exactly one row with who, what and why, in the transaction of
the change (a change rolled back leaves no row); the log can be filtered."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from engine import (account_admin, accounts, agencies, audit, db, deployment, dossier_actions, external_tasks,
                    instances)
from engine.audit_models import AuditEvent
from engine.errors import BadInput, InstanceNotActive
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_dossier_actions import JUSTICE, LEADER, dossier  # noqa: F401  (the dossier fixture)
from tests.engine.test_external_tasks import WITH_ERROR_PATH, lock, started

ANALYST = Actor("phan-tich-1", frozenset({"analyst"}), operator=True)


def audit_count(factory) -> int:
    with db.transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def one_audited(factory, command) -> dict:
    """Run ``command(session)`` in one transaction and return the single audit row it wrote."""
    with db.transaction(factory) as session:
        before = session.scalar(select(func.max(AuditEvent.id))) or 0
        command(session)
    with db.transaction(factory) as session:
        rows = audit.listing(session, limit=10)
    new = [r for r in rows if r["id"] > before]
    assert len(new) == 1, new
    return new[0]


def test_a_deployment_that_creates_versions_is_audited_once_and_an_unchanged_one_not_at_all(factory):
    files = deployment.collect_files([PROCESSES / "sample-residence"])
    row = one_audited(factory, lambda s: deployment.deploy(s, files, FORMS, deployed_by="phan-tich-1",
                                                            source="processes/sample-residence", reason="Bản đầu tiên"))
    assert (row["actor"], row["action"], row["targetKind"], row["reason"]) == (
        "phan-tich-1", "deploy", "deployment", "Bản đầu tiên")
    assert row["details"]["definitions"] == ["sample_residence:1"]
    assert row["details"]["source"] == "processes/sample-residence"
    count = audit_count(factory)
    with db.transaction(factory) as session:
        assert deployment.deploy(session, files, FORMS).deployment_id is None
    assert audit_count(factory) == count


def test_suspend_resume_and_terminate_are_audited_with_the_reason(factory, operator):
    instance_id = started(factory, operator)
    for action, command, reason in (("instance_suspend", instances.suspend, "Chờ xác minh"),
                                    ("instance_resume", instances.resume, "Đã xác minh"),
                                    ("instance_terminate", instances.terminate, "Công dân rút hồ sơ")):
        row = one_audited(factory, lambda s: command(s, instance_id, ANALYST, reason=reason))
        assert (row["actor"], row["action"], row["targetKind"], row["targetId"], row["reason"]) == (
            "phan-tich-1", action, "instance", instance_id, reason)
        assert row["details"]["processKey"] == "p"
    count = audit_count(factory)
    with pytest.raises(InstanceNotActive):  # a refused command writes nothing
        with db.transaction(factory) as session:
            instances.terminate(session, instance_id, ANALYST, reason="lần hai")
    assert audit_count(factory) == count


def test_retrying_an_incident_is_audited_as_such_and_other_retries_as_retries_set(factory, operator):
    instance_id = started(factory, operator, WITH_ERROR_PATH)
    (task,) = lock(factory)
    with db.transaction(factory) as session:
        external_tasks.failure(session, task.id, "w1", "cổng thanh toán không trả lời", retries=0)
    row = one_audited(factory, lambda s: external_tasks.set_retries(s, task.id, 2, ANALYST, reason="Cổng đã chạy lại"))
    assert (row["actor"], row["action"], row["targetKind"], row["targetId"], row["reason"]) == (
        "phan-tich-1", "incident_retry", "external_task", task.id, "Cổng đã chạy lại")
    assert row["details"]["instanceId"] == instance_id and len(row["details"]["incidents"]) == 1
    row = one_audited(factory, lambda s: external_tasks.set_retries(s, task.id, 3, None))
    assert (row["actor"], row["action"], row["details"]["incidents"]) == ("system", "retries_set", [])


def test_account_changes_are_audited_and_no_secret_is_written(factory):
    rows = [
        one_audited(factory, lambda s: accounts.add(s, "can-bo-9", "mat-khau-dai-9", ["mot-cua"], "H56",
                                                    by="quan-tri", reason="Cán bộ mới")),
        one_audited(factory, lambda s: account_admin.update(s, "can-bo-9", groups=["mot-cua", "lanh-dao"],
                                                            by="quan-tri", reason="Bổ nhiệm")),
        one_audited(factory, lambda s: account_admin.set_password(s, "can-bo-9", "mat-khau-moi-9", by="quan-tri")),
        one_audited(factory, lambda s: account_admin.set_disabled(s, "can-bo-9", True, by="quan-tri",
                                                                  reason="Nghỉ việc")),
        one_audited(factory, lambda s: account_admin.set_disabled(s, "can-bo-9", False, by="quan-tri")),
        one_audited(factory, lambda s: accounts.add(s, "bot-9", service=True, by="quan-tri")),
    ]
    token_row = None

    def issue(session):
        nonlocal token_row
        token_row = accounts.issue_token(session, "bot-9", by="quan-tri", reason="Xoay vòng khóa")
    row = one_audited(factory, issue)
    assert [(r["action"], r["targetId"]) for r in rows + [row]] == [
        ("account_add", "can-bo-9"), ("account_change", "can-bo-9"), ("password_set", "can-bo-9"),
        ("account_disable", "can-bo-9"), ("account_enable", "can-bo-9"), ("account_add", "bot-9"),
        ("token_issue", "bot-9")]
    assert {r["actor"] for r in rows + [row]} == {"quan-tri"}
    assert rows[0]["reason"] == "Cán bộ mới" and rows[0]["details"]["groups"] == ["mot-cua"]
    assert rows[1]["details"] == {"groups": {"from": ["mot-cua"], "to": ["lanh-dao", "mot-cua"]}}
    assert rows[3]["reason"] == "Nghỉ việc"
    with db.transaction(factory) as session:
        stored = " ".join(f"{e.reason} {e.details}" for e in session.scalars(select(AuditEvent)))
    assert "mat-khau" not in stored and token_row not in stored


def test_agency_and_group_changes_are_audited(factory):
    actions = [one_audited(factory, command)["action"] for command in (
        lambda s: agencies.add_agency(s, "000.00.16.H56", "Công an tỉnh", by="quan-tri"),
        lambda s: agencies.rename_agency(s, "000.00.16.H56", "Công an tỉnh Một", by="quan-tri"),
        lambda s: agencies.set_agency_disabled(s, "000.00.16.H56", True, by="quan-tri", reason="Sáp nhập"),
        lambda s: agencies.set_agency_disabled(s, "000.00.16.H56", False, by="quan-tri"),
        lambda s: agencies.add_group(s, "tu-phap", "Tư pháp", by="quan-tri"),
        lambda s: agencies.retitle_group(s, "tu-phap", "Công chức tư pháp", by="quan-tri"))]
    assert actions == ["agency_add", "agency_rename", "agency_disable", "agency_enable", "group_add", "group_retitle"]
    with db.transaction(factory) as session:
        (renamed,) = audit.listing(session, action="agency_rename")
        (retitled,) = audit.listing(session, action="group_retitle", target_kind="group", target_id="tu-phap")
    assert renamed["details"] == {"from": "Công an tỉnh", "to": "Công an tỉnh Một"}
    assert retitled["details"] == {"from": "Tư pháp", "to": "Công chức tư pháp"}


def test_a_leaders_permission_and_a_forwarding_are_audited(factory, dossier):  # noqa: F811
    code, instance_id = dossier
    row = one_audited(factory, lambda s: dossier_actions.allow_another_supplement(
        s, instance_id, LEADER, "Giấy chứng sinh bị mờ", "lanh-dao"))
    assert (row["actor"], row["action"], row["targetKind"], row["targetId"], row["reason"]) == (
        "lanh-dao-1", "supplement_allowed", "dossier", instance_id, "Giấy chứng sinh bị mờ")
    assert row["details"] == {"code": code, "allowed": 2}
    desk = Actor("can-bo-1", frozenset({"mot-cua"}))
    row = one_audited(factory, lambda s: dossier_actions.forward(s, instance_id, JUSTICE, desk,
                                                                 "Thuộc thẩm quyền của Sở Tư pháp"))
    assert (row["actor"], row["action"], row["details"]["to"]) == ("can-bo-1", "dossier_forwarded", JUSTICE)


def test_a_rolled_back_change_leaves_no_audit_row(factory):
    count = audit_count(factory)
    with pytest.raises(RuntimeError):
        with db.transaction(factory) as session:
            agencies.add_agency(session, "000.00.16.H56", "Công an tỉnh", by="quan-tri")
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == count + 1  # same transaction
            raise RuntimeError("the caller fails after the change")
    with pytest.raises(BadInput):
        with db.transaction(factory) as session:
            accounts.add(session, "can-bo-8", "ngan", by="quan-tri")  # refused: no row either
    assert audit_count(factory) == count
    with db.transaction(factory) as session:
        assert agencies.agency(session, "000.00.16.H56") is None


def test_the_log_is_listed_newest_first_and_filtered(factory):
    start = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.timezone.utc)
    for hours, (actor, code) in enumerate((("quan-tri", "H1"), ("quan-tri-2", "H2"), ("quan-tri", "H3"))):
        with time_machine.travel(start + dt.timedelta(hours=hours), tick=False):
            with db.transaction(factory) as session:
                agencies.add_agency(session, code, f"Cơ quan {code}", by=actor)
    with db.transaction(factory) as session:
        assert [r["targetId"] for r in audit.listing(session)] == ["H3", "H2", "H1"]
        assert [r["targetId"] for r in audit.listing(session, actor="quan-tri")] == ["H3", "H1"]
        assert [r["targetId"] for r in audit.listing(session, since=start + dt.timedelta(minutes=30))] == ["H3", "H2"]
        assert [r["targetId"] for r in audit.listing(session, until=start + dt.timedelta(minutes=30))] == ["H1"]
        assert [r["targetId"] for r in audit.listing(session, limit=1, offset=1)] == ["H2"]
        assert audit.listing(session, action="deploy") == []
        assert audit.listing(session)[0]["at"] == (start + dt.timedelta(hours=2)).isoformat()
        with pytest.raises(BadInput):
            audit.listing(session, limit=0)
