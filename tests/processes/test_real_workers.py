"""Birth registration played with the real notify worker against a real SMTP server and the real document worker:
the procedure's templates and variables fit together, reminders for officers reach the office mailbox, not the
citizen, and the late dossier's apology is rendered as Form 04."""
from __future__ import annotations

import shutil

import yaml

from engine.scenarios import run_procedure
from tests.conftest import FORMS, PROCESSES
from tests.workers.notify_support import smtp_server  # noqa: F401  (the fixture)
from workers.runner import HANDLERS


def test_the_citizen_and_the_office_get_the_procedures_mails(smtp_server, monkeypatch, tmp_path):  # noqa: F811
    mailbox, settings = smtp_server
    monkeypatch.setenv("MOTCUA_SMTP_HOST", settings.host)
    monkeypatch.setenv("MOTCUA_SMTP_PORT", str(settings.port))
    monkeypatch.setenv("MOTCUA_OFFICE_EMAIL", "motcua@xa.example.vn")
    monkeypatch.setenv("MOTCUA_VAR_DIR", str(tmp_path / "var"))
    folder = tmp_path / "birth-registration"
    shutil.copytree(PROCESSES / "birth-registration", folder)
    defaults_path = folder / "scenarios" / "defaults.yaml"
    defaults = yaml.safe_load(defaults_path.read_text(encoding="utf-8"))
    defaults["workers"]["notify"] = "real"
    defaults["workers"]["document"] = "real"
    defaults_path.write_text(yaml.safe_dump(defaults, allow_unicode=True), encoding="utf-8")
    for path in (folder / "scenarios").glob("*.yaml"):
        if path.name not in ("defaults.yaml", "01-happy-path.yaml", "07-late-dossier.yaml"):
            path.unlink()
    results, _ = run_procedure(folder, FORMS, dict(HANDLERS))
    assert [r.failure for r in results] == [None, None]
    sent = [(recipients, mailbox.parsed(i)["Subject"]) for i, (recipients, _) in enumerate(mailbox.messages)]
    citizen = ["lan.nguyen@example.vn"]
    code = "000.00.00.H56-261201-0001"
    assert (citizen, f"Hồ sơ {code} đã được tiếp nhận") in sent
    assert (citizen, f"Hồ sơ {code} đã có kết quả") in sent
    assert (["motcua@xa.example.vn"], f"Nhắc việc: hồ sơ {code} sắp đến hạn giải quyết") in sent
    assert (citizen, f"Văn bản xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}") in sent
    assert (citizen, f"Thông báo dừng giải quyết hồ sơ {code}") in sent
    assert all(recipients == citizen for recipients, subject in sent if not subject.startswith("Nhắc việc"))
    assert (tmp_path / "var" / "documents" / f"{code}-mau-04.pdf").stat().st_size > 0  # the leader's apology
