"""Agencies and officers' groups: the places and roles accounts belong to.

An agency is known by its code in the national list of agency e-identifiers (``000.00.16.H56``: dot-separated
letters and digits, as procedure.toml's ``agency`` and the dossier codes use them). A group is the name BPMN
candidate groups use (``mot-cua``, ``chuyen-vien``, ``lanh-dao``) with a title people read.

Both lists are optional. While no agency is defined, an account may name any well-formed agency code (the
behaviour before these lists existed); once one is, an account's agency must be one of the enabled agencies.
Groups follow the same rule, except that ``admin`` (the administrators, see :mod:`engine.accounts`) is always
known. A code or group an account already has is kept when the account is edited, so defining the lists later
never makes existing accounts uneditable.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, runtime
from engine.errors import BadInput, Conflict, NotFound
from engine.models import Account
from engine.office_models import Agency, OfficeGroup

AGENCY_CODE = re.compile(r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$")
AGENCY_CODE_MAX = 50  # account.agency holds 50 characters
GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
ADMIN = "admin"
ADMIN_TITLE = "Quản trị hệ thống"
TITLE_MAX = 300


def check_agency_code(code: str) -> str:
    """The code, stripped, if it is well formed; otherwise :class:`BadInput` saying what a code looks like."""
    code = (code or "").strip()
    if not code or len(code) > AGENCY_CODE_MAX or not AGENCY_CODE.match(code):
        raise BadInput(f"'{code}' is not an agency code: letters and digits in groups separated by dots, "
                       f"at most {AGENCY_CODE_MAX} characters, e.g. 000.00.16.H56")
    return code


def check_group_name(name: str) -> str:
    """The group name, stripped, if it is usable; otherwise :class:`BadInput`."""
    name = (name or "").strip()
    if not GROUP_NAME.match(name):
        raise BadInput(f"'{name}' is not a usable group name: 1-100 lower-case letters, digits, '.', '_' or '-' "
                       "(as BPMN candidate groups name it), e.g. mot-cua")
    return name


def _title(text: str, what: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise BadInput(f"the {what} is empty")
    if len(text) > TITLE_MAX:
        raise BadInput(f"the {what} is longer than {TITLE_MAX} characters")
    return text


def _agency(session: Session, code: str) -> Agency:
    agency = session.get(Agency, (code or "").strip())
    if agency is None:
        raise NotFound(f"no agency with code '{code}'")
    return agency


def add_agency(session: Session, code: str, name: str, parent_code: str | None = None, *, by: str | None = None,
               reason: str | None = None) -> Agency:
    """Define an agency; its parent, when given, must already be defined. Audited as ``agency_add`` by ``by``."""
    code = check_agency_code(code)
    name = _title(name, "agency's name")
    if session.get(Agency, code) is not None:
        raise Conflict(f"an agency with code '{code}' already exists")
    parent = _agency(session, parent_code).code if parent_code and parent_code.strip() else None
    agency = Agency(code=code, name=name, parent_code=parent, disabled=False, created_at=runtime.now())
    session.add(agency)
    session.flush()
    audit.record(session, by, "agency_add", "agency", code, reason, name=name, parentCode=parent)
    return agency


def rename_agency(session: Session, code: str, name: str, *, by: str | None = None,
                  reason: str | None = None) -> Agency:
    """Give an agency a new name (its code never changes: dossier codes carry it). Audited as ``agency_rename``."""
    agency = _agency(session, code)
    before = agency.name
    agency.name = _title(name, "agency's name")
    session.flush()
    audit.record(session, by, "agency_rename", "agency", agency.code, reason, **{"from": before, "to": agency.name})
    return agency


def set_agency_disabled(session: Session, code: str, disabled: bool, *, by: str | None = None,
                        reason: str | None = None) -> Agency:
    """Disable an agency (no account may be moved to it; its accounts keep working) or enable it again. Audited
    as ``agency_disable`` or ``agency_enable``."""
    agency = _agency(session, code)
    was = agency.disabled
    agency.disabled = disabled
    session.flush()
    audit.record(session, by, "agency_disable" if disabled else "agency_enable", "agency", agency.code, reason,
                 wasDisabled=was)
    return agency


def agency(session: Session, code: str) -> dict | None:
    """One agency, or None."""
    found = session.get(Agency, (code or "").strip())
    return None if found is None else {"code": found.code, "name": found.name, "parentCode": found.parent_code,
                                       "disabled": found.disabled}


def agencies(session: Session) -> list[dict]:
    """Every agency by code, with its parent, state and number of accounts."""
    counts = dict(session.execute(select(Account.agency, func.count()).where(Account.agency.is_not(None))
                                  .group_by(Account.agency)).all())
    return [{"code": a.code, "name": a.name, "parentCode": a.parent_code, "disabled": a.disabled,
             "accounts": counts.get(a.code, 0)}
            for a in session.scalars(select(Agency).order_by(Agency.code))]


def add_group(session: Session, name: str, title: str, *, by: str | None = None,
              reason: str | None = None) -> OfficeGroup:
    """Define a group (``admin`` is built in and cannot be defined again). Audited as ``group_add``."""
    name = check_group_name(name)
    title = _title(title, "group's title")
    if name == ADMIN or session.get(OfficeGroup, name) is not None:
        raise Conflict(f"a group named '{name}' already exists")
    group = OfficeGroup(name=name, title=title, created_at=runtime.now())
    session.add(group)
    session.flush()
    audit.record(session, by, "group_add", "group", name, reason, title=title)
    return group


def retitle_group(session: Session, name: str, title: str, *, by: str | None = None,
                  reason: str | None = None) -> OfficeGroup:
    """Give a group a new title (its name never changes: the processes' candidate groups carry it). Audited as
    ``group_retitle``."""
    group = session.get(OfficeGroup, (name or "").strip())
    if group is None:
        raise NotFound(f"no group named '{name}'" + (" (admin is built in)" if name == ADMIN else ""))
    before = group.title
    group.title = _title(title, "group's title")
    session.flush()
    audit.record(session, by, "group_retitle", "group", group.name, reason, **{"from": before, "to": group.title})
    return group


def group(session: Session, name: str) -> dict | None:
    """One defined group (not the built-in ``admin``), or None."""
    found = session.get(OfficeGroup, (name or "").strip())
    return None if found is None else {"name": found.name, "title": found.title}


def groups(session: Session) -> list[dict]:
    """Every group by name, the built-in ``admin`` first, with the number of accounts in each."""
    counts: dict[str, int] = {}
    for value in session.scalars(select(Account.groups).where(Account.groups != "")):
        for name in value.split(","):
            counts[name] = counts.get(name, 0) + 1
    rows = [{"name": ADMIN, "title": ADMIN_TITLE, "builtIn": True, "accounts": counts.get(ADMIN, 0)}]
    return rows + [{"name": g.name, "title": g.title, "builtIn": False, "accounts": counts.get(g.name, 0)}
                   for g in session.scalars(select(OfficeGroup).order_by(OfficeGroup.name))]


def check_account_agency(session: Session, code: str | None, current: str | None = None) -> str | None:
    """The agency an account may be given: None (no agency), its current one, any well-formed code while no
    agency is defined, or else an enabled defined agency; otherwise :class:`BadInput`."""
    if code is None or not code.strip():
        return None
    code = check_agency_code(code)
    if code == current or session.scalar(select(func.count()).select_from(Agency)) == 0:
        return code
    agency = session.get(Agency, code)
    if agency is None:
        raise BadInput(f"no agency with code '{code}': define it first (motcua agencies add)")
    if agency.disabled:
        raise BadInput(f"the agency '{code}' is disabled")
    return code


def check_account_groups(session: Session, names: list[str], current: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The sorted, distinct groups an account may be given: well-formed names that are defined (or ``admin``,
    or already the account's) once any group is defined; otherwise :class:`BadInput` naming the unknown ones."""
    wanted = sorted({check_group_name(n) for n in names if n and n.strip()})
    new = [n for n in wanted if n not in current and n != ADMIN]
    if new and session.scalar(select(func.count()).select_from(OfficeGroup)) > 0:
        known = set(session.scalars(select(OfficeGroup.name).where(OfficeGroup.name.in_(new))))
        unknown = [n for n in new if n not in known]
        if unknown:
            raise BadInput(f"no group named {', '.join(repr(n) for n in unknown)}: define it first (motcua groups add)")
    return wanted
