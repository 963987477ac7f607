"""Playing scenarios: each on a fresh copy of a database where the procedure is deployed, on a clock of its own.

The procedure folder is deployed once into a template SQLite database; each scenario runs on a copy, so
scenarios never see each other's dossiers. The scenario's clock (``time_machine``) starts at its start
moment and runs at normal speed; a ``wait`` step moves it, then due timers fire and due-soon dossiers are
warned, as the scheduler would. Workers named under ``workers`` answer whenever a task of theirs waits.
The first thing that differs from the scenario stops it, with a sentence saying what was expected and
what happened instead.
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import time_machine
from sqlalchemy import select

from engine import (calendar_functions, db, deployment, external_tasks, instances, messages, queries, runtime,
                    schema, timers, user_tasks)
from engine.errors import BadInput, MotcuaError
from engine.forms import validate_form
from engine.models import MessageSubscription, ProcessInstance
from engine.runtime import Actor
from engine.scenarios import checks
from engine.scenarios import coverage
from engine.scenarios.coverage import CoverageReport, DiagramElements, diagram_elements, reached_in
from engine.scenarios.model import Scenario, ScenarioFailed, Step, Wait, WorkerAnswer, load_scenarios
from engine.specs import SPECS

Handler = Callable[[dict[str, Any]], dict[str, Any]]
WORKER = "scenario-worker"
LOCK_MS = 10 * 60 * 1000
MAX_SETTLE_ROUNDS = 200


@dataclass
class ScenarioResult:
    """How a scenario went."""

    scenario: Scenario
    passed: bool
    failure: str | None = None
    path: list[str] = field(default_factory=list)
    status: int | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON."""
        return {"scenario": self.scenario.name, "file": self.scenario.file, "passed": self.passed,
                "failure": self.failure, "path": self.path, "status": self.status, "seconds": round(self.seconds, 3)}


class ProcedureRun:
    """A procedure folder deployed into a template database, ready to play its scenarios."""

    def __init__(self, folder: Path, forms_dir: Path, handlers: dict[str, Handler] | None = None,
                 also_deploy: list[Path] | tuple[Path, ...] = ()):
        self.folder = folder
        self.handlers = handlers or {}
        self.process_key, self.procedure = _process_of(folder)
        self.elements: DiagramElements = diagram_elements(_bpmn_with(folder, self.process_key), self.process_key)
        self.coverage = CoverageReport(self.elements)
        self._workdir = Path(tempfile.mkdtemp(prefix="motcua-scenarios-"))
        self._template = self._workdir / "template.db"
        self._count = 0
        SPECS.clear()  # another procedure of the same key may have been parsed in this process
        engine = db.make_engine(f"sqlite:///{self._template}")
        try:
            schema.upgrade(engine)
            files = deployment.collect_files([folder, *also_deploy])
            with db.transaction(db.make_session_factory(engine)) as session:
                deployment.deploy(session, files, forms_dir, deployed_by="test-process", source=str(folder))
        finally:
            engine.dispose()

    def run(self, scenario: Scenario) -> ScenarioResult:
        """Play one scenario on a fresh copy of the template; count what it reached."""
        self._count += 1
        path = self._workdir / f"scenario-{self._count}.db"
        shutil.copyfile(self._template, path)
        engine = db.make_engine(f"sqlite:///{path}")
        began = time.perf_counter()
        play = _Play(self, scenario, db.make_session_factory(engine))
        try:
            with time_machine.travel(scenario.start_at, tick=True) as clock:
                play.clock = clock
                play.run()
            result = ScenarioResult(scenario, True)
        except ScenarioFailed as failed:
            result = ScenarioResult(scenario, False, failed.message)
        try:
            result.path, result.status = play.path(), play.status()
            self.coverage.add(*play.reached())
        finally:
            engine.dispose()
            path.unlink(missing_ok=True)
        result.seconds = time.perf_counter() - began
        return result

    def close(self) -> None:
        """Remove the template and any copies."""
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> ProcedureRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_procedure(folder: Path, forms_dir: Path, handlers: dict[str, Handler] | None = None,
                  also_deploy: list[Path] | tuple[Path, ...] = (), only: str | None = None
                  ) -> tuple[list[ScenarioResult], CoverageReport]:
    """Play every scenario of a procedure folder (or those whose name or file contains ``only``)."""
    scenarios = [s for s in load_scenarios(folder) if not only or only in s.name or only in s.file]
    with ProcedureRun(folder, forms_dir, handlers, also_deploy) as procedure_run:
        results = [procedure_run.run(s) for s in scenarios]
        return results, procedure_run.coverage


def _process_of(folder: Path) -> tuple[str, dict]:
    toml_path = folder / "procedure.toml"
    if not toml_path.exists():
        raise BadInput(f"{folder}: no procedure.toml (the catalogue entry that names the process)")
    procedure = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    if not procedure.get("process_key"):
        raise BadInput(f"{toml_path}: process_key is missing")
    return procedure["process_key"], procedure


def _bpmn_with(folder: Path, key: str) -> bytes:
    for path in sorted(folder.glob("*.bpmn")):
        data = path.read_bytes()
        if f'id="{key}"'.encode() in data:
            return data
    raise BadInput(f"{folder}: no .bpmn file has the process '{key}' that procedure.toml names")


class _Play:
    """One scenario being played."""

    def __init__(self, procedure_run: ProcedureRun, scenario: Scenario, factory):
        self.run_of = procedure_run
        self.scenario = scenario
        self.factory = factory
        self.clock = None
        self.instance_id: str | None = None
        self.expected_incidents = set(scenario.expect.incidents).union(
            *(s.expect.incidents for s in scenario.steps if s.expect is not None))

    # -- the scenario ---------------------------------------------------------------------------------
    def run(self) -> None:
        self.start()
        self.settle(None)
        for step in self.scenario.steps:
            self.do(step)
            self.settle(step)
            if step.expect is not None:
                self.check(step.expect, f"{step.describe()}: ")
        self.check(self.scenario.expect, "at the end: ")

    def start(self) -> None:
        s = self.scenario
        variables = {**s.variables, **(s.form or {})}
        key = s.business_key or _dossier_code(self.run_of.procedure, s.start_at)
        with db.transaction(self.factory) as session:
            try:
                if s.form is not None:
                    parsed = SPECS.get(session, instances.find_definition(session, self.run_of.process_key))
                    validate_form(parsed.forms.get(parsed.start_form_key), s.form)
                loaded = instances.start(session, Actor(s.user), self.run_of.process_key, variables, key)
            except MotcuaError as err:
                raise ScenarioFailed(f"start: the application was refused: {err.message}") from None
            self.instance_id = loaded.row.id

    def do(self, step: Step) -> None:
        if step.kind == "task":
            self.complete_task(step)
        elif step.kind == "worker":
            self.work(step)
        elif step.kind == "message":
            self.send(step)
        elif step.kind == "wait":
            self.clock.move_to(self.moment_after(step.wait))

    def complete_task(self, step: Step) -> None:
        with db.transaction(self.factory) as session:
            waiting = [t for t in queries.user_tasks(session, limit=1000) if t["taskDefinitionKey"] == step.target]
            if not waiting:
                raise ScenarioFailed(f"{step.describe()}: the user task '{step.target}' is not waiting; "
                                     f"{self.waiting_text(session)}")
            task = next((t for t in waiting if t["processInstanceId"] == self.instance_id), waiting[0])
            group = step.group or next(iter(task["candidateGroups"]), None)
            actor = Actor(step.user or f"{group or 'can-bo'}.officer", frozenset([group] if group else []))
            try:
                user_tasks.complete(session, task["id"], actor, step.data)
            except MotcuaError as err:
                raise ScenarioFailed(f"{step.describe()}: completing '{task['name']}' was refused: {err.message}") \
                    from None

    def work(self, step: Step) -> None:
        with db.transaction(self.factory) as session:
            locked = external_tasks.fetch_and_lock(session, WORKER, {step.target: LOCK_MS}, max_tasks=100)
            chosen = [t for t in locked if not step.element or t.activity_id == step.element]
            chosen.sort(key=lambda t: t.instance_id != self.instance_id)
            for other in locked:
                if not chosen or other is not chosen[0]:
                    external_tasks.unlock(session, other.id)
            if not chosen:
                what = f"at '{step.element}' " if step.element else ""
                raise ScenarioFailed(f"{step.describe()}: no '{step.target}' task is waiting {what}for a worker; "
                                     f"{self.waiting_text(session)}")
        self.answer(chosen[0], step.answer, step.describe())

    def send(self, step: Step) -> None:
        with db.transaction(self.factory) as session:
            try:
                messages.correlate(session, step.target, Actor("scenario", operator=True),
                                   instance_id=self.instance_id, variables=step.data)
            except MotcuaError as err:
                raise ScenarioFailed(f"{step.describe()}: {err.message}; {self.waiting_text(session)}") from None

    def moment_after(self, wait: Wait) -> dt.datetime:
        if wait.until is not None:
            return wait.until
        now = runtime.now()
        if wait.working:
            calendar = calendar_functions.calendar()
            if wait.unit == "day":
                return calendar.add_working_days(now, wait.amount)
            return calendar.add_working_hours(now, wait.amount if wait.unit == "hour" else wait.amount / 60)
        return now + dt.timedelta(**{f"{wait.unit}s": wait.amount})

    # -- workers and housekeeping ---------------------------------------------------------------------
    def answer(self, task, answer: WorkerAnswer, where: str) -> None:
        """Answer a locked external task as the scenario says (the real handler runs outside a transaction)."""
        result, error, failure = answer.result, answer.error, answer.failure
        if answer.real:
            handler = self.run_of.handlers.get(task.topic)
            if handler is None:
                raise ScenarioFailed(f"{where}: no real worker serves the topic '{task.topic}'")
            try:
                result = handler(dict(task.variables)) or {}
            except Exception as err:  # the handler's BPMN error (it has a code) or its failure
                code = getattr(err, "code", None)
                if isinstance(code, str) and code:
                    error = {"code": code, "message": getattr(err, "message", str(err)),
                             "variables": getattr(err, "variables", None)}
                else:
                    failure = f"{type(err).__name__}: {err}"
        with db.transaction(self.factory) as session:
            try:
                if error is not None:
                    external_tasks.bpmn_error(session, task.id, WORKER, error["code"], error.get("message"),
                                              error.get("variables"))
                elif failure is not None:
                    external_tasks.failure(session, task.id, WORKER, failure, retries=0)
                else:
                    external_tasks.complete(session, task.id, WORKER, result)
            except MotcuaError as err:
                raise ScenarioFailed(f"{where}: the worker's answer to '{task.activity_id}' was refused: "
                                     f"{err.message}") from None

    def settle(self, step: Step | None) -> None:
        """Do what the scheduler and the background workers would do, until nothing more happens."""
        for _ in range(MAX_SETTLE_ROUNDS):
            busy = bool(timers.fire_due(self.factory)) | bool(timers.warn_due_soon(self.factory))
            for topic, answer in self.scenario.workers.items():
                with db.transaction(self.factory) as session:
                    locked = external_tasks.fetch_and_lock(session, WORKER, {topic: LOCK_MS}, max_tasks=100)
                for task in locked:
                    self.answer(task, answer, f"worker '{topic}' (from workers:)")
                    busy = True
            if not busy:
                break
        where = f"{step.describe()}: " if step is not None else "after the start: "
        with db.transaction(self.factory) as session:
            for incident in queries.incidents(session):
                if incident["activityId"] not in self.expected_incidents:
                    raise ScenarioFailed(f"{where}an incident opened at '{incident['activityId']}': "
                                         f"{incident['incidentMessage']}")

    # -- what happened ----------------------------------------------------------------------------------
    def waiting_text(self, session) -> str:
        """Where the dossier waits, in words."""
        return checks.waiting_text(self.waiting(session), self.instance_status(session))

    def waiting(self, session) -> list[tuple[str, str]]:
        """(element id, description) of everything the scenario's dossier waits for."""
        out: list[tuple[str, str]] = []
        for t in queries.user_tasks(session, limit=1000):
            mine = "" if t["processInstanceId"] == self.instance_id else f" (in {t['processKey']})"
            out.append((t["taskDefinitionKey"], f"user task '{t['taskDefinitionKey']}' ({t['name']}) for "
                                                f"{', '.join(t['candidateGroups']) or t['assignee'] or 'anyone'}{mine}"))
        for t in queries.external_tasks(session, limit=1000):
            out.append((t["activityId"], f"a '{t['topicName']}' worker at '{t['activityId']}'"))
        for m in session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == self.instance_id)):
            if m.activity_id not in self.run_of.elements.listeners:
                out.append((m.activity_id, f"message '{m.message_name}' at '{m.activity_id}'"))
        row = session.get(ProcessInstance, self.instance_id)
        if row is not None and row.next_timer_at is not None:
            due = f"due {row.next_timer_at.astimezone(checks.VIETNAM):%Y-%m-%d %H:%M}"
            catches = coverage.timer_catches(runtime.loaded_from(session, row).wf)
            out.extend((element, f"the timer '{element}' ({due})") for element in catches)
            if not catches:
                out.append(("", f"a timer {due}"))
        return out

    def instance_status(self, session) -> str | None:
        row = session.get(ProcessInstance, self.instance_id) if self.instance_id else None
        return row.status if row is not None else None

    def check(self, expect, prefix: str) -> None:
        with db.transaction(self.factory) as session:
            detail = queries.instance_detail(session, self.instance_id)
            waiting = self.waiting(session)
        difference = checks.first_difference(expect, detail, waiting, self.run_of.elements)
        if difference:
            raise ScenarioFailed(prefix + difference)

    def path(self) -> list[str]:
        if self.instance_id is None:
            return []
        with db.transaction(self.factory) as session:
            return checks.path_of(queries.instance_detail(session, self.instance_id))

    def status(self) -> int | None:
        if self.instance_id is None:
            return None
        with db.transaction(self.factory) as session:
            dossier = queries.instance_detail(session, self.instance_id).get("dossier")
            return dossier["status"] if dossier else None

    def reached(self) -> tuple[set[str], set[str]]:
        if self.instance_id is None:
            return set(), set()
        session = self.factory()
        try:
            loaded = runtime.load(session, self.instance_id)
            return reached_in(loaded.wf, self.run_of.elements)
        finally:
            session.rollback()
            session.close()


def _dossier_code(procedure: dict, at: dt.datetime) -> str:
    """A dossier code as the portal gives it: agency, date, sequence."""
    return f"{procedure.get('agency', 'MOTCUA')}-{at.astimezone(checks.VIETNAM):%y%m%d}-0001"
