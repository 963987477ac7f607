"""The admin pages' form checks: the engine's rules (:mod:`engine.accounts`, :mod:`engine.agencies`), each failure
told in Vietnamese next to its field. Each check puts its message in ``errors[field]`` and returns the clean value."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine import accounts, agencies
from engine.errors import BadInput

NAME_RULE = "Tên đăng nhập gồm 2–100 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới hoặc gạch ngang"
CODE_RULE = (f"Mã cơ quan gồm chữ và số, các nhóm cách nhau bởi dấu chấm, tối đa {agencies.AGENCY_CODE_MAX} ký tự, "
             "ví dụ 000.00.16.H56")
GROUP_RULE = ("Tên nhóm gồm 1–100 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới hoặc gạch ngang, "
              "ví dụ mot-cua")


def account_name(errors: dict, value: str) -> str:
    """A new account's name."""
    value = (value or "").strip()
    if not value:
        errors["ten"] = "Nhập tên đăng nhập"
    elif not accounts.NAME.match(value):
        errors["ten"] = NAME_RULE
    return value


def display_name(errors: dict, value: str) -> str | None:
    """A display name (empty: none)."""
    try:
        return accounts.clean_display_name(value)
    except BadInput:
        errors["ten_hien_thi"] = f"Tên hiển thị dài quá {accounts.DISPLAY_NAME_MAX} ký tự"
        return None


def password(errors: dict, first: str, second: str, optional: bool = False) -> str | None:
    """A new password typed twice; empty is allowed only when ``optional``."""
    if not first and optional and not second:
        return None
    if not first:
        errors["mat_khau"] = "Nhập mật khẩu"
    elif len(first) < accounts.PASSWORD_MIN:
        errors["mat_khau"] = f"Mật khẩu phải có ít nhất {accounts.PASSWORD_MIN} ký tự"
    elif len(first) > accounts.PASSWORD_MAX:
        errors["mat_khau"] = f"Mật khẩu dài quá {accounts.PASSWORD_MAX} ký tự"
    elif first != second:
        errors["mat_khau_2"] = "Hai lần nhập mật khẩu không khớp"
    return first


def account_agency(errors: dict, db: Session, value: str, current: str | None = None) -> str | None:
    """The agency of an account (empty: none)."""
    value = (value or "").strip()
    if value and (not agencies.AGENCY_CODE.match(value) or len(value) > agencies.AGENCY_CODE_MAX):
        errors["co_quan"] = CODE_RULE
        return None
    try:
        return agencies.check_account_agency(db, value, current)
    except BadInput:
        errors["co_quan"] = f"Cơ quan “{value}” chưa được khai báo hoặc đã ngừng hoạt động"
        return None


def account_groups(errors: dict, db: Session, values: list[str], current: list[str] | None = None) -> list[str]:
    """The groups of an account: the ticked ones and those typed in, comma-separated."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    wrong = [n for n in names if not agencies.GROUP_NAME.match(n)]
    if wrong:
        errors["nhom"] = f"“{wrong[0]}”: {GROUP_RULE[0].lower()}{GROUP_RULE[1:]}"
        return []
    try:
        return agencies.check_account_groups(db, names, current or [])
    except BadInput:
        known = {g["name"] for g in agencies.groups(db)} | set(current or [])
        errors["nhom"] = "Nhóm chưa được khai báo: " + ", ".join(n for n in names if n not in known)
        return []


def agency_code(errors: dict, value: str) -> str:
    """A new agency's code."""
    value = (value or "").strip()
    try:
        return agencies.check_agency_code(value)
    except BadInput:
        errors["ma"] = "Nhập mã cơ quan" if not value else CODE_RULE
        return value


def group_name(errors: dict, value: str) -> str:
    """A new group's name."""
    value = (value or "").strip()
    try:
        return agencies.check_group_name(value)
    except BadInput:
        errors["ten"] = "Nhập tên nhóm" if not value else GROUP_RULE
        return value


def title(errors: dict, field: str, value: str, what: str) -> str:
    """A name or title people read (an agency's name, a group's title)."""
    value = " ".join((value or "").split())
    if not value:
        errors[field] = f"Nhập {what}"
    elif len(value) > agencies.TITLE_MAX:
        errors[field] = f"{what[0].upper()}{what[1:]} dài quá {agencies.TITLE_MAX} ký tự"
    return value
