"""Reading scenario files: YAML an analyst writes, checked with messages that name the file and the step.

A scenario file (``processes/<p>/scenarios/<name>.yaml``)::

    name: Hồ sơ hợp lệ, trả kết quả đúng hạn
    start:
      at: 2026-12-01 09:00          # local time (Asia/Ho_Chi_Minh); the clock of the scenario starts here
      form: {…}                     # the citizen's application, checked against the start form
    workers:                        # topics answered whenever a task of theirs waits
      notify: {result: {notify_sent: true}}
      document: real                # run the real worker
    steps:
      - worker: population-lookup
        result: {registry_found: true}
      - task: tiep_nhan             # a user task, by element id
        group: mot-cua
        form: {quyet_dinh: tiep_nhan}
      - message: payment_received
        variables: {payment_status: paid}
      - wait: 3 working days        # or: until: 2026-12-08 08:00
      - expect: {status: 4}
    expect:
      path: [tiep_nhan, tham_dinh, phe_duyet, tra_ket_qua]
      status: 10
      variables: {ket_qua: cap}

``defaults.yaml`` in the same folder gives ``start`` and ``workers`` entries every scenario of the folder
shares (a scenario's own entries win, the form field by field; ``workers: {topic: null}`` drops a default so
that the scenario's steps answer that topic).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import BadInput

VIETNAM = dt.timezone(dt.timedelta(hours=7))
DEFAULT_START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM)  # a Tuesday morning
DEFAULTS_FILE = "defaults.yaml"
WAIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(working\s+)?(day|hour|minute)s?\s*$", re.IGNORECASE)
STEP_KINDS = ("task", "worker", "message", "wait", "expect")
EXPECT_KEYS = {"path", "not_reached", "status", "ended", "end", "variables", "waiting", "overdue", "incidents",
               "dossier"}


class ScenarioFileError(BadInput):
    """A scenario file that cannot be read, with the file and the place in it."""


class ScenarioFailed(Exception):
    """A scenario went otherwise than it said: the first difference, in words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Wait:
    """A move of the scenario's clock: an amount of (working) time, or to a moment."""

    amount: float = 0.0
    unit: str = "day"  # day, hour, minute
    working: bool = False
    until: dt.datetime | None = None

    def describe(self) -> str:
        """The move in words, for messages."""
        if self.until is not None:
            return f"until {self.until.isoformat()}"
        return f"{self.amount:g} {'working ' if self.working else ''}{self.unit}s"


@dataclass
class Expect:
    """What a scenario expects, at its end or at a step."""

    path: list[str] | None = None
    not_reached: list[str] = field(default_factory=list)
    status: int | None = None
    ended: bool | None = None
    end: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    waiting: list[str] | None = None
    overdue: bool | None = None
    incidents: list[str] = field(default_factory=list)
    dossier: dict[str, Any] = field(default_factory=dict)  # fields of the dossier's clock (as `motcua show` gives)


@dataclass
class WorkerAnswer:
    """How a worker answers a task: with variables, a BPMN error, a failure, or by running the real handler."""

    result: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # {code, message, variables}
    failure: str | None = None
    real: bool = False


@dataclass
class Step:
    """One thing that happens to the dossier."""

    number: int
    kind: str  # task, worker, message, wait, expect
    target: str | None = None  # the user task's element id, the topic, the message name
    data: dict[str, Any] = field(default_factory=dict)  # the task's form, the message's variables
    user: str | None = None
    group: str | None = None
    element: str | None = None  # for a worker: which service task, when several of a topic wait
    answer: WorkerAnswer | None = None
    wait: Wait | None = None
    expect: Expect | None = None

    def describe(self) -> str:
        """The step in words, for messages."""
        if self.kind == "wait":
            return f"step {self.number} (wait {self.wait.describe()})"
        if self.kind == "expect":
            return f"step {self.number} (expect)"
        return f"step {self.number} ({self.kind} {self.target})"


@dataclass
class Scenario:
    """A whole scenario."""

    name: str
    file: str
    start_at: dt.datetime = DEFAULT_START
    form: dict[str, Any] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    business_key: str | None = None
    user: str = "cong-dan"
    workers: dict[str, WorkerAnswer] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    expect: Expect = field(default_factory=Expect)
    description: str = ""


def parse_moment(value: Any, where: str) -> dt.datetime:
    """A moment written as ``2026-12-01 09:00`` (Vietnam time unless it has an offset) or a YAML timestamp."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0, 0))
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ScenarioFileError(f"{where}: '{value}' is not a moment; write it as 2026-12-01 09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)


def parse_wait(value: Any, where: str) -> Wait:
    """``3 working days``, ``4 working hours``, ``2 days``, ``30 minutes``, or ``{until: <moment>}``."""
    if isinstance(value, dict) and "until" in value:
        return Wait(until=parse_moment(value["until"], where))
    match = WAIT.match(str(value))
    if not match:
        raise ScenarioFileError(f"{where}: '{value}' is not a wait; write '3 working days', '4 working hours', "
                                "'2 days', '30 minutes' or until: 2026-12-08 08:00")
    return Wait(amount=float(match.group(1)), unit=match.group(3).lower(), working=bool(match.group(2)))


def _mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioFileError(f"{where}: {what} must be a mapping (name: value)")
    return value


def _id_list(value: Any, where: str, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioFileError(f"{where}: {what} must be a list of element ids")
    return list(value)


def parse_expect(value: Any, where: str) -> Expect:
    """The ``expect`` mapping."""
    value = _mapping(value, where, "expect")
    unknown = set(value) - EXPECT_KEYS
    if unknown:
        raise ScenarioFileError(f"{where}: expect does not know {', '.join(sorted(unknown))}; it knows "
                                f"{', '.join(sorted(EXPECT_KEYS))}")
    status = value.get("status")
    if status is not None and (not isinstance(status, int) or not 1 <= status <= 10):
        raise ScenarioFileError(f"{where}: status must be a dossier status from 1 to 10")
    for flag in ("ended", "overdue"):
        if flag in value and not isinstance(value[flag], bool):
            raise ScenarioFileError(f"{where}: {flag} must be true or false")
    return Expect(path=_id_list(value["path"], where, "path") if "path" in value else None,
                  not_reached=_id_list(value.get("not_reached", []), where, "not_reached"),
                  status=status, ended=value.get("ended"), end=value.get("end"),
                  variables=_mapping(value.get("variables"), where, "variables"),
                  waiting=_id_list(value["waiting"], where, "waiting") if "waiting" in value else None,
                  overdue=value.get("overdue"), incidents=_id_list(value.get("incidents", []), where, "incidents"),
                  dossier=_mapping(value.get("dossier"), where, "dossier"))


def parse_answer(value: Any, where: str) -> WorkerAnswer:
    """A worker's answer: ``real``, ``{result: {…}}``, ``{error: CODE | {code, message, variables}}``,
    ``{failure: message}``, or ``{real: true}``."""
    if value == "real" or value is True:
        return WorkerAnswer(real=True)
    value = _mapping(value, where, "a worker's answer")
    error = value.get("error")
    if isinstance(error, str):
        error = {"code": error}
    if error is not None and not (isinstance(error, dict) and error.get("code")):
        raise ScenarioFileError(f"{where}: error needs a code (error: INVALID_FEE)")
    return WorkerAnswer(result=_mapping(value.get("result"), where, "result"), error=error,
                        failure=str(value["failure"]) if value.get("failure") else None, real=bool(value.get("real")))


def parse_step(number: int, raw: Any, file: str) -> Step:
    """One entry of ``steps``."""
    where = f"{file}, step {number}"
    if not isinstance(raw, dict):
        raise ScenarioFileError(f"{where}: a step is a mapping that starts with one of {', '.join(STEP_KINDS)}")
    kinds = [k for k in STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise ScenarioFileError(f"{where}: a step has exactly one of {', '.join(STEP_KINDS)} (it has "
                                f"{', '.join(kinds) or 'none'})")
    kind = kinds[0]
    if kind == "wait":
        return Step(number, kind, wait=parse_wait(raw["wait"] if raw["wait"] is not None else raw, where))
    if kind == "expect":
        return Step(number, kind, expect=parse_expect(raw["expect"], where))
    target = raw[kind]
    if not isinstance(target, str) or not target:
        raise ScenarioFileError(f"{where}: {kind} needs a name (the element id, topic or message name)")
    expect = parse_expect(raw["then"], where) if "then" in raw else None
    if kind == "task":
        return Step(number, kind, target, data=_mapping(raw.get("form"), where, "form"), user=raw.get("user"),
                    group=raw.get("group"), expect=expect)
    if kind == "message":
        return Step(number, kind, target, data=_mapping(raw.get("variables"), where, "variables"), expect=expect)
    return Step(number, kind, target, element=raw.get("element"), answer=parse_answer(raw, where), expect=expect)


def _merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The folder's defaults with a scenario's own entries over them (the form and variables field by field)."""
    merged = {**base, **own}
    for key in ("form", "variables"):
        if isinstance(base.get(key), dict) and isinstance(own.get(key), dict):
            merged[key] = {**base[key], **own[key]}
    return merged


def parse_scenario(raw: Any, file: str, defaults: dict[str, Any] | None = None) -> Scenario:
    """A scenario from its parsed YAML (and the folder's defaults)."""
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ScenarioFileError(f"{file}: a scenario is a mapping with at least a name and steps")
    defaults = defaults or {}
    start = _merged(_mapping(defaults.get("start"), file, "start"), _mapping(raw.get("start"), file, "start"))
    workers_raw = {**_mapping(defaults.get("workers"), file, "workers"), **_mapping(raw.get("workers"), file, "workers")}
    steps = raw.get("steps") or []
    if not isinstance(steps, list):
        raise ScenarioFileError(f"{file}: steps must be a list")
    form = start.get("form")
    return Scenario(
        name=str(raw["name"]), file=file, description=str(raw.get("description") or ""),
        start_at=parse_moment(start["at"], f"{file}, start") if start.get("at") else DEFAULT_START,
        form=_mapping(form, file, "start.form") if form is not None else None,
        variables=_mapping(start.get("variables"), file, "start.variables"),
        business_key=start.get("business_key"), user=str(start.get("user") or "cong-dan"),
        workers={topic: parse_answer(answer, f"{file}, workers.{topic}") for topic, answer in workers_raw.items()
                 if answer is not None},  # null: this scenario answers the topic in its steps
        steps=[parse_step(i, step, file) for i, step in enumerate(steps, start=1)],
        expect=parse_expect(raw.get("expect"), f"{file}, expect"))


def _read_yaml(path: Path) -> Any:
    data = path.read_bytes()
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ScenarioFileError(f"{path.name}, line {line}: not UTF-8 text: save the file as UTF-8 in the editor "
                                "(not TCVN3, VNI or Windows-1258)") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ScenarioFileError(f"{path.name}{line}: not valid YAML: {getattr(err, 'problem', err)}") from None


def load_scenarios(folder: Path) -> list[Scenario]:
    """Every scenario of a procedure folder (``<folder>/scenarios/*.yaml``), by file name."""
    scenario_dir = folder / "scenarios"
    if not scenario_dir.is_dir():
        return []
    defaults_path = scenario_dir / DEFAULTS_FILE
    defaults = _read_yaml(defaults_path) if defaults_path.exists() else {}
    return [parse_scenario(_read_yaml(path), path.name, _mapping(defaults, DEFAULTS_FILE, "defaults"))
            for path in sorted(scenario_dir.glob("*.yaml")) if path.name != DEFAULTS_FILE]
