"""A start form (JSON Schema with ``x-ui`` hints) as pages of questions, and a page's answers read back.

Each ``x-ui.groups`` group is one page (GOV.UK: one question group per page); fields keep ``x-ui.order``.
Widgets: text, email, textarea, number, select, radios, a yes/no checkbox, a date as day / month / year, a
list (one item per line), rows of a table (array of objects, with "add a row"), a file or several files.
``hidden`` fields are the server's (code, channel) and never shown. Values are read back typed as the schema
says (text in NFC); what cannot be read (a date that does not exist, letters in a number) is kept as typed
and reported.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine import forms

LOCKED_PREFILL = {"citizen.citizen_id"}  # comes from the signed-in identity: never typed by the citizen
# 1500, 1.500 or 1 500 (dots and spaces group thousands), never 1.5
WHOLE_NUMBER = re.compile(r"-?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,3}( [0-9]{3})+)")
MAX_ROWS = 50  # rows read back from one table field, whatever the page's hidden row count says


@dataclass
class Field:
    """One question of a page."""

    name: str
    title: str
    widget: str  # text, email, textarea, number, select, radios, checkbox, date, list, rows, file, files
    schema: dict
    required: bool = False
    hint: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    columns: list["Field"] = field(default_factory=list)  # rows: the columns of each row
    locked: bool = False
    accept: tuple[str, ...] = forms.FILE_TYPES  # file, files: the kinds taken (MIME types, forms.accepted_types)


@dataclass
class Page:
    """A group of questions."""

    key: str
    title: str
    fields: list[Field]


def _widget(prop: dict) -> str:
    ui = prop.get("x-ui") or {}
    kind, widget = prop.get("type"), ui.get("widget")
    if widget == "hidden":
        return "hidden"
    if kind == "array":
        items = prop.get("items") or {}
        if items.get("type") == "object":
            return "rows"
        return "files" if widget == "file" or (items.get("x-ui") or {}).get("widget") == "file" else "list"
    if widget in ("file", "textarea", "select", "radios", "checkbox"):
        return widget
    if kind == "boolean":
        return "checkbox"
    if "enum" in prop:
        return "radios" if len(prop["enum"]) <= 4 else "select"
    if prop.get("format") == "date" or widget == "date":
        return "date"
    if kind in ("integer", "number"):
        return "number"
    return "email" if prop.get("format") == "email" else "text"


def _options(prop: dict) -> list[tuple[str, str]]:
    labels = (prop.get("x-ui") or {}).get("labels") or {}
    return [(str(v), str(labels.get(str(v), v))) for v in prop.get("enum", [])]


def _field(name: str, prop: dict, required: set[str]) -> Field:
    ui = prop.get("x-ui") or {}
    widget = _widget(prop)
    columns = []
    if widget == "rows":
        items = prop.get("items") or {}
        inner_required = set(items.get("required") or [])
        columns = [_field(n, p, inner_required) for n, p in (items.get("properties") or {}).items()]
    return Field(name=name, title=prop.get("title") or name, widget=widget, schema=prop, required=name in required,
                 hint=ui.get("help") or prop.get("description"), options=_options(prop), columns=columns,
                 locked=ui.get("prefill") in LOCKED_PREFILL, accept=forms.accepted_types(prop))


def pages(schema: dict) -> list[Page]:
    """The form as pages, in order; fields outside every group go on a last page."""
    props = schema.get("properties") or {}
    ui = schema.get("x-ui") or {}
    order = [n for n in ui.get("order", []) if n in props] + [n for n in props if n not in ui.get("order", [])]
    required = set(schema.get("required") or [])
    groups: dict[str, list[Field]] = {}
    for name in order:
        built = _field(name, props[name], required)
        if built.widget != "hidden":
            groups.setdefault((props[name].get("x-ui") or {}).get("group") or "", []).append(built)
    titles = ui.get("groups") or {}
    keys = [k for k in titles if k in groups] + [k for k in groups if k not in titles]
    return [Page(key or "khac", titles.get(key, "Thông tin khác"), groups[key]) for key in keys]


def _number(text: str, kind: str) -> Any:
    text = text.strip()
    if kind == "integer":
        if WHOLE_NUMBER.fullmatch(text):
            return int(text.replace(".", "").replace(" ", ""))
        return text  # kept as typed; the schema's type check reports it
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text
    return number if math.isfinite(number) else text  # "nan", "inf": kept as typed, so the type check reports them


def _date(form: MultiDict, name: str) -> Any:
    parts = [form.get(f"{name}-{p}", "").strip() for p in ("ngay", "thang", "nam")]
    if not any(parts):
        return None
    try:
        return dt.date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
    except ValueError:
        return "-".join(parts)  # not a real date: the format check reports it, the typed parts stay


def read(fields: list[Field], form: MultiDict) -> dict[str, Any]:
    """The page's answers, typed (files are read separately)."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.locked or f.widget in ("file", "files"):
            continue
        # one spelling for Vietnamese (NFC): decomposed input would count extra characters and be stored as typed
        raw = unicodedata.normalize("NFC", form.get(f.name, ""))
        if f.widget == "checkbox":
            values[f.name] = form.get(f.name) == "true" if f.name in form else None
        elif f.widget == "number":
            values[f.name] = _number(raw, f.schema.get("type", "number")) if raw.strip() else None
        elif f.widget == "date":
            values[f.name] = _date(form, f.name)
        elif f.widget == "list":
            values[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.widget == "rows":
            values[f.name] = _rows(f, form)
        else:
            values[f.name] = raw.strip() or None
    return values


def _row_count(text: str) -> int:
    # the count is a hidden field the page sets, so anything else was tampered with: read no more than the bound
    text = text.strip()
    return min(int(text), MAX_ROWS) if text.isascii() and text.isdigit() else 0


def _rows(f: Field, form: MultiDict) -> list[dict[str, Any]]:
    rows = []
    for i in range(_row_count(form.get(f"{f.name}-dong", ""))):
        row = read(f.columns, MultiDict({c.name: form.get(f"{f.name}-{i}-{c.name}", "") for c in f.columns}
                                        | {f"{c.name}-{p}": form.get(f"{f.name}-{i}-{c.name}-{p}", "")
                                           for c in f.columns for p in ("ngay", "thang", "nam")}))
        row = {k: v for k, v in row.items() if v not in (None, "", [])}
        if row:
            rows.append(row)
    return rows


def row_errors(errors: dict[str, str], name: str, index: int) -> dict[str, str]:
    """The errors of one row of a table field, by column (``nganh_nghe.0.ma_nganh`` is row 0's ``ma_nganh``)."""
    prefix = f"{name}.{index}."
    return {key.removeprefix(prefix).split(".")[0]: message for key, message in errors.items()
            if key.startswith(prefix)}


def date_parts(value: Any) -> tuple[str, str, str]:
    """(day, month, year) of a stored date, to show it again."""
    try:
        day = dt.date.fromisoformat(str(value))
        return str(day.day), str(day.month), str(day.year)
    except ValueError:
        parts = str(value or "").split("-")
        return tuple((parts + ["", "", ""])[:3]) if len(parts) == 3 else ("", "", "")


def shown(f: Field, value: Any) -> str:
    """An answer as the check-your-answers page says it."""
    if value in (None, "", []):
        return "Chưa trả lời"
    if f.widget == "checkbox":
        return "Có" if value else "Không"
    if f.widget in ("radios", "select"):
        return dict(f.options).get(str(value), str(value))
    if f.widget == "date":
        d, m, y = date_parts(value)
        return f"{int(d):02d}/{int(m):02d}/{y}" if d.isdigit() and m.isdigit() else str(value)
    if f.widget in ("list", "files"):
        return "; ".join(str(v).rsplit("/", 1)[-1] for v in value)
    if f.widget == "file":
        return str(value).rsplit("/", 1)[-1]
    if f.widget == "rows":
        return "; ".join(", ".join(str(v) for v in row.values()) for row in value)
    return str(value)
