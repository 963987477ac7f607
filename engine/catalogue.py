"""The catalogue of procedures citizens can apply for: the newest deployed version of each procedure that has
a catalogue entry (``procedure.toml``), searchable without accents, filtered by agency, field and level.

Search folds Vietnamese the way people type it on a phone: "dang ky khai sinh", "Đăng ký khai sinh",
"DANG KY KHAI SINH" and "đăng kí khai sinh" all find the same procedure; "hoà" finds "hòa" (see :func:`fold`).
Every word of the query must appear in the procedure's name, code, field, agency or result; matches in the name
rank first.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import ProcessDefinition
from engine.specs import SPECS

LEVELS = {"toan-trinh": "Toàn trình", "mot-phan": "Một phần"}


# "kí"/"ký", "lí"/"lý", "kĩ"/"kỹ", "qui"/"quy": after these consonants i and y are spellings of one vowel when it is the
# whole rest of the word (both are in use; the school rules of 1984 and 2018 and habit differ). Only that case:
# "tai"/"tay", "thui"/"thuy", "khi" stay different words. Written i, not y: a query word is matched as a substring,
# so "ki" typed as the start of "kinh" must stay "ki".
_I_OR_Y = re.compile(r"\b(qu|[hklmnstv])y\b")


def fold(text: Any) -> str:
    """The form searches compare, for the query and the text searched alike: lower case, spaces collapsed, without
    diacritics (đ → d) — so the old and new tone placement ("hoà"/"hòa", "thuỷ"/"thủy", "khoẻ"/"khỏe") and composed
    or decomposed input are the same — and with y written i where the two are spelling variants ("ký" → "ki")."""
    decomposed = unicodedata.normalize("NFD", str(text or "").replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _I_OR_Y.sub(r"\1i", " ".join(plain.lower().split()))


@dataclass(frozen=True)
class Procedure:
    """One catalogue entry, with the process that runs it."""

    code: str
    name: str
    process_key: str
    definition_id: str
    entry: dict[str, Any] = field(hash=False, compare=False)
    haystack: str = field(default="", hash=False, compare=False)
    name_folded: str = field(default="", hash=False, compare=False)

    @property
    def level_label(self) -> str:
        """Toàn trình / Một phần."""
        return LEVELS.get(self.entry.get("level", ""), self.entry.get("level", ""))

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON, with the process it starts."""
        return {**self.entry, "code": self.code, "name": self.name, "processKey": self.process_key,
                "definitionId": self.definition_id, "levelLabel": self.level_label}


def _procedure(definition: ProcessDefinition, entry: dict[str, Any]) -> Procedure:
    name, code = str(entry.get("name") or definition.name or definition.key), str(entry.get("code") or definition.key)
    words = [name, code, entry.get("name_en"), entry.get("field"), entry.get("agency_name"), entry.get("result")]
    return Procedure(code=code, name=name, process_key=definition.key, definition_id=definition.id, entry=entry,
                     haystack=fold(" ".join(str(w) for w in words if w)), name_folded=fold(name))


def procedures(session: Session) -> list[Procedure]:
    """Every procedure in the catalogue (the newest version of each process with a catalogue entry), by name."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version))).all()
    found = []
    for definition in rows:
        entry = SPECS.get(session, definition).procedure
        # built-in processes (the apology) and samples marked catalogue = false are not applied for
        if entry and entry.get("level") in LEVELS and entry.get("catalogue", True) is not False:
            found.append(_procedure(definition, entry))
    return sorted(found, key=lambda p: p.name_folded)


def search(entries: list[Procedure], query: str = "", agency: str | None = None, field_name: str | None = None,
           level: str | None = None) -> list[Procedure]:
    """The entries that match every word of ``query`` (accents ignored) and the filters; name matches first."""
    words = fold(query).split()
    matches = [p for p in entries
               if all(w in p.haystack for w in words)
               and (not agency or p.entry.get("agency") == agency)
               and (not field_name or fold(p.entry.get("field")) == fold(field_name))
               and (not level or p.entry.get("level") == level)]
    phrase = " ".join(words)
    return sorted(matches, key=lambda p: (phrase not in p.name_folded, not all(w in p.name_folded for w in words),
                                          p.name_folded))


def facets(entries: list[Procedure]) -> dict[str, list[tuple[str, str]]]:
    """The values the filters offer: agencies (code, name), fields and levels."""
    agencies = sorted({(p.entry.get("agency", ""), p.entry.get("agency_name") or p.entry.get("agency", ""))
                       for p in entries if p.entry.get("agency")}, key=lambda a: fold(a[1]))
    fields = sorted({p.entry["field"] for p in entries if p.entry.get("field")}, key=fold)
    return {"agencies": agencies, "fields": [(f, f) for f in fields],
            "levels": [(key, label) for key, label in LEVELS.items()]}


def find(session: Session, code: str) -> Procedure:
    """The procedure with this code; :class:`NotFound` otherwise."""
    for procedure in procedures(session):
        if procedure.code == code:
            return procedure
    raise NotFound(f"no procedure {code} in the catalogue")


def start_form(session: Session, procedure: Procedure) -> dict | None:
    """The application form (JSON Schema) of the procedure's process, as deployed with it."""
    parsed = SPECS.get(session, SPECS.definition(session, procedure.definition_id))
    return parsed.forms.get(parsed.start_form_key) if parsed.start_form_key else None
