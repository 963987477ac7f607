"""The admin pages' changes are in the audit log under the signed-in administrator's name."""
from __future__ import annotations

from engine import audit, db
from tests.webapp.admin.test_admin_pages import admin, office, post  # noqa: F401  (fixtures)


def test_what_an_administrator_changes_is_audited_under_their_name(admin, office):  # noqa: F811
    assert post(admin, "/quan-tri/co-quan", {"ma": "000.00.16.H56", "ten": "Công an tỉnh"}).status_code == 302
    assert post(admin, "/quan-tri/nhom", {"ten": "tu-phap", "ten_nhom": "Tư pháp"}).status_code == 302
    assert post(admin, "/quan-tri/tai-khoan/can-bo-1/khoa", {}, page="/quan-tri/tai-khoan/can-bo-1").status_code == 302
    with db.transaction(office) as session:
        rows = audit.listing(session, actor="quan-tri")
    assert [(r["action"], r["targetId"]) for r in rows] == [
        ("account_disable", "can-bo-1"), ("group_add", "tu-phap"), ("agency_add", "000.00.16.H56")]
