"""Agencies and groups: while a list is empty any well-formed value goes (as before the lists existed); once it is
not, only defined (and enabled) ones, except what an account already has and the built-in ``admin``."""
from __future__ import annotations

import pytest

from engine import account_admin, accounts, agencies, db
from engine.errors import BadInput, Conflict, NotFound


def test_the_lists_bind_accounts_only_once_they_are_defined(factory):
    with db.transaction(factory) as session:
        accounts.add(session, "cu-1", "mat-khau-dai", groups=["mot-cua", "tu-phap"], agency="H12")
        agencies.add_agency(session, "000.00.16.H56", "Công an tỉnh")
        agencies.add_group(session, "mot-cua", "Một cửa")
        with pytest.raises(BadInput, match="no agency with code 'H13'"):
            accounts.add(session, "moi-1", "mat-khau-dai", agency="H13")
        with pytest.raises(BadInput, match="no group named 'tu-phap'"):
            accounts.add(session, "moi-1", "mat-khau-dai", groups=["tu-phap"])
        made = accounts.add(session, "moi-1", "mat-khau-dai", groups=["admin", "mot-cua", "mot-cua"],
                            agency="000.00.16.H56")
        assert made.groups == "admin,mot-cua"
        # what the old account already has stays editable; a new undefined group does not
        kept = account_admin.update(session, "cu-1", groups=["tu-phap", "admin"], display_name="  Cũ  ")
        assert (kept.groups, kept.agency, kept.display_name) == ("admin,tu-phap", "H12", "Cũ")
        with pytest.raises(BadInput, match="no group named 'lanh-dao'"):
            account_admin.update(session, "cu-1", groups=["lanh-dao"])
        agencies.set_agency_disabled(session, "000.00.16.H56", True)
        with pytest.raises(BadInput, match="is disabled"):
            account_admin.update(session, "cu-1", agency="000.00.16.H56")
        assert account_admin.update(session, "moi-1", display_name="Mới").agency == "000.00.16.H56"
        assert account_admin.update(session, "moi-1", agency="").agency is None
        counts = {a["code"]: a["accounts"] for a in agencies.agencies(session)}
        assert counts == {"000.00.16.H56": 0}
        assert {g["name"]: g["accounts"] for g in agencies.groups(session)} == {"admin": 2, "mot-cua": 1}


def test_codes_names_and_titles_are_checked(factory):
    with db.transaction(factory) as session:
        for code in ("", "000..16", "000.16.", "H 56", "Đ56", "1" * 51):
            with pytest.raises(BadInput, match="not an agency code"):
                agencies.add_agency(session, code, "X")
        with pytest.raises(BadInput, match="agency's name is empty"):
            agencies.add_agency(session, "H1", " \n ")
        with pytest.raises(NotFound):
            agencies.add_agency(session, "H1", "X", parent_code="H0")
        assert agencies.add_agency(session, " H1 ", "  Ủy ban   nhân dân ").name == "Ủy ban nhân dân"
        with pytest.raises(Conflict):
            agencies.add_agency(session, "H1", "Y")
        for name in ("Mot-Cua", "-mot", "mot cua", ""):
            with pytest.raises(BadInput, match="not a usable group name"):
                agencies.add_group(session, name, "X")
        with pytest.raises(Conflict):
            agencies.add_group(session, "admin", "X")
        with pytest.raises(NotFound, match="admin is built in"):
            agencies.retitle_group(session, "admin", "X")
        with pytest.raises(BadInput, match="too short"):
            accounts.add(session, "a-1", "1234567")
        with pytest.raises(BadInput, match="display name is longer"):
            accounts.add(session, "a-1", "12345678", display_name="x" * 201)
