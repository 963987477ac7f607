"""Deploying procedures: check the files, then store them as new versions (or find them unchanged).

A deployment is a snapshot: the BPMN, its DMN and every form it references are stored with it, so a
running instance keeps the forms it started with. Identical content deploys as the same version;
changed content as the next one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, deploy_limits, limits, lint, schedules
from engine.errors import BadInput, DeploymentRefused, Problem
from engine.models import Deployment, DeploymentResource, ProcessDefinition
from engine.specs import SPECS

PROCEDURE_FILE = "procedure.toml"


@dataclass
class DeployedDefinition:
    """One process of a deployment and whether this deployment created its version."""

    id: str
    key: str
    version: int
    name: str | None
    created: bool


@dataclass
class DeployResult:
    """What a deployment stored, and the warnings the analyst should read."""

    deployment_id: str | None
    definitions: list[DeployedDefinition] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def collect_files(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """Read BPMN/DMN files and procedure folders into (resource name, content) pairs."""
    files: list[tuple[str, bytes]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".bpmn", ".dmn") or p.name == PROCEDURE_FILE)
            found = [p for p in found if "scenarios" not in p.relative_to(path).parts and not p.is_dir()]
            if not found:
                raise BadInput(f"{path}: no .bpmn or .dmn file in this folder")
            base = path.parent
            files.extend((p.relative_to(base).as_posix(), _read(p)) for p in found)
        elif path.is_file():
            if path.suffix not in (".bpmn", ".dmn", ".xml"):
                raise BadInput(f"{path}: only .bpmn and .dmn files (or procedure folders) can be deployed")
            files.append((path.name, _read(path)))
        else:
            raise BadInput(f"{path}: no such file or folder")
    return files


def _read(path: Path) -> bytes:
    """A file's bytes; :class:`BadInput` naming it when it cannot be read (a broken link, no permission)."""
    try:
        return path.read_bytes()
    except OSError as err:
        raise BadInput(f"{path}: cannot be read ({err.strerror or err})") from None


def _kind(name: str, data: bytes) -> str:
    if name.endswith(".dmn") or (name.endswith(".xml") and b"DMN" in data[:2000]):
        return "dmn"
    if name.endswith(PROCEDURE_FILE):
        return "procedure"
    return "bpmn"


def _forms_referenced(roots) -> set[str]:
    keys = set()
    for root in roots:
        for el in root.iter(f"{lint.B}userTask", f"{lint.B}startEvent"):
            key = el.get(f"{lint.C}formKey")
            if key:
                keys.add(key)
    return keys


def read_form(forms_dir: Path | Sequence[Path], key: str) -> bytes | None:
    """The form file for a form key, from the first folder that has it, or None if none has."""
    if not lint.FORM_KEY.match(key):
        return None
    for folder in ([forms_dir] if isinstance(forms_dir, Path) else forms_dir):
        path = Path(folder) / f"{key}.json"
        if path.is_file():
            return path.read_bytes()
    return None


def _topics(roots) -> dict[str, tuple[str, str, int | None]]:
    found = {}
    for name, root in roots.items():
        for el in root.iter(f"{lint.B}serviceTask", f"{lint.B}sendTask", f"{lint.B}businessRuleTask"):
            topic = (el.get(f"{lint.C}topic") or "").strip()
            if topic and el.get(f"{lint.C}type") == "external":
                found.setdefault(topic, (name, el.get("id"), el.sourceline))
    return found


def unserved_topics(roots, known_topics: set[str] | None) -> list[Problem]:
    """A warning for each topic no handler is registered for: the deployment goes ahead (topics are served by
    workers, which may run elsewhere or in another language), but the analyst should know."""
    if known_topics is None:
        return []
    return [Problem(name, f"no handler in workers/ serves topic '{topic}': its tasks will wait until a worker "
                          "for it polls (see 'motcua topics')", element_id=el_id, line=line, severity="warning")
            for topic, (name, el_id, line) in sorted(_topics(roots).items()) if topic not in known_topics]


def check(files: list[tuple[str, bytes]], forms_dir: Path | Sequence[Path], extra_functions: set[str] = frozenset(),
          known_topics: set[str] | None = None) -> tuple:
    """Run every deploy check; return (problems, parsed BPMN trees, DMN files, forms, process keys)."""
    names = [name for name, _ in files]
    if len(names) != len(set(names)):  # as dicts below, one would silently replace the other
        raise DeploymentRefused([Problem(name, "two of the files given have the same name, so one would replace the "
                                               "other: rename one, or deploy them in separate commands")
                                 for name in sorted({n for n in names if names.count(n) > 1})])
    problems: list[Problem] = []
    bpmn = {n: d for n, d in files if _kind(n, d) == "bpmn"}
    dmn = {n: d for n, d in files if _kind(n, d) == "dmn"}
    if not bpmn:
        raise BadInput("nothing to deploy: no BPMN file given")
    for name, data in files:
        if _kind(name, data) == "procedure":
            problems.extend(check_procedure(name, data))
    decisions: set[str] = set()
    for name, data in dmn.items():
        found, dmn_problems = lint.decisions_in(name, data, extra_functions)
        decisions |= found
        problems.extend(dmn_problems)
    roots = {}
    for name, data in bpmn.items():
        file_problems, root = lint.check_bpmn(name, data, lambda key: read_form(forms_dir, key), decisions,
                                              extra_functions)
        problems.extend(file_problems)
        if root is not None:
            roots[name] = root
    forms = {key: read_form(forms_dir, key) for key in _forms_referenced(roots.values())}
    keys = [p.get("id") for r in roots.values() for p in r.findall(f"{lint.B}process") if p.get("isExecutable") == "true"]
    problems.extend(_same_process_ids(roots))
    problems.extend(lint.missing_called_processes(roots))
    problems.extend(deploy_limits.problems([name for name, _ in files], roots))
    if not [p for p in problems if p.severity == "error"]:
        problems.extend(lint.check_with_spiff(bpmn, dmn, keys, roots))
    problems.extend(unserved_topics(roots, known_topics))
    return problems, roots, dmn, forms, keys


def _same_process_ids(roots) -> list[Problem]:
    """A problem at each executable process whose id an earlier one (in this file or another) already has."""
    first: dict[str, str] = {}
    problems = []
    for name, root in roots.items():
        for process in root.findall(f"{lint.B}process"):
            key = process.get("id")
            if process.get("isExecutable") != "true":
                continue
            if key in first:
                problems.append(Problem(name, f"the executable process '{key}' is also defined in {first[key]}: "
                                              "process ids must be unique; rename one (in the modeler, select the "
                                              "process and change its ID)", element_id=key, line=process.sourceline))
            else:
                first[key] = name
    return problems


def _catalogue_entry_dropped(session: Session, latest: ProcessDefinition | None, key: str,
                             files: list[tuple[str, bytes]], resource_name: str) -> Problem | None:
    """The problem when a new version of a procedure that has a catalogue entry comes without one: citizens could
    no longer apply for it and its new dossiers would have no deadline."""
    if latest is None or not SPECS.get(session, latest).procedure:
        return None
    for name, data in files:
        if _kind(name, data) == "procedure" and tomllib.loads(data.decode("utf-8")).get("process_key") == key:
            return None
    return Problem(resource_name, f"version {latest.version} of '{key}' was deployed with its catalogue entry "
                                  f"({PROCEDURE_FILE}: name, agency, deadline); deploy the new version together with "
                                  f"it, or citizens could no longer apply and new dossiers would have no deadline")


def check_procedure(name: str, data: bytes) -> list[Problem]:
    """Problems in a catalogue entry (``procedure.toml``) that would stop its dossiers' clocks."""
    try:
        entry = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        return [Problem(name, f"this is not valid TOML: {err}")]
    deadline = entry.get("deadline")
    if deadline is None:
        return []
    if not isinstance(deadline, dict) or deadline.get("unit") not in ("working_days", "working_hours", "days"):
        return [Problem(name, 'deadline needs unit = "working_days", "working_hours" or "days"')]
    problems = []
    for channel in ("online", "counter"):
        amount = deadline.get(channel)
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0):
            problems.append(Problem(name, f"deadline.{channel} must be a positive number, not {amount!r}"))
    if deadline.get("online") is None:
        problems.append(Problem(name, "deadline.online is required (the counter channel falls back to it)"))
    if deadline.get("clock", "pause") not in ("pause", "restart"):
        problems.append(Problem(name, 'deadline.clock must be "pause" or "restart"'))
    cutoff = deadline.get("cutoff")
    if cutoff is not None and not (isinstance(cutoff, str) and len(cutoff) == 5 and cutoff[2] == ":"
                                   and cutoff.replace(":", "").isdigit()):
        problems.append(Problem(name, f'deadline.cutoff must be a time such as "15:00", not {cutoff!r}'))
    return problems


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def deploy(session: Session, files: list[tuple[str, bytes]], forms_dir: Path | Sequence[Path],
           deployed_by: str | None = None, name: str | None = None, source: str | None = None,
           extra_functions: set[str] = frozenset(), known_topics: set[str] | None = None,
           reason: str | None = None) -> DeployResult:
    """Check and store a deployment; raise :class:`DeploymentRefused` with every problem found.

    ``known_topics``, when given, are the topics a handler serves; other topics deploy with a warning. A deployment
    that creates versions is written to the audit log as ``deployed_by``'s, with ``reason``.
    """
    limits.check_length("the deployer's name", deployed_by, deploy_limits.DEPLOYED_BY_MAX)
    limits.check_length("the deployment's name", name, deploy_limits.DEPLOYMENT_NAME_MAX)
    problems, roots, dmn, forms, keys = check(files, forms_dir, extra_functions, known_topics)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DeploymentRefused(problems)
    warnings = [p for p in problems if p.severity == "warning"]
    now = dt.datetime.now(dt.timezone.utc)
    result = DeployResult(deployment_id=None, warnings=warnings)
    new_defs: list[tuple[str, str, str, str | None]] = []
    bpmn_data = dict(files)
    for resource_name, root in roots.items():
        file_forms = _forms_referenced([root])
        for process in root.findall(f"{lint.B}process"):
            if process.get("isExecutable") != "true":
                continue
            key = process.get("id")
            digest = _digest(bpmn_data[resource_name], *(dmn[n] for n in sorted(dmn)),
                             *(k.encode() + b"\0" + forms[k] for k in sorted(file_forms)),
                             *(data for name, data in sorted(files) if _kind(name, data) == "procedure"))
            latest = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                     .order_by(ProcessDefinition.version.desc()).limit(1)).first()
            if latest is not None and latest.sha256 == digest:
                result.definitions.append(DeployedDefinition(latest.id, key, latest.version, latest.name, False))
            else:
                new_defs.append((key, resource_name, digest, process.get("name")))
                lost = _catalogue_entry_dropped(session, latest, key, files, resource_name)
                if lost is not None:
                    problems.append(lost)
    if [p for p in problems if p.severity == "error"]:
        raise DeploymentRefused(problems)
    if not new_defs:
        return result
    made_up = deploy_limits.label(", ".join(sorted({k for k, *_ in new_defs})), deploy_limits.DEPLOYMENT_NAME_MAX)
    deployment = Deployment(id=str(uuid.uuid4()), name=name or made_up, deployed_by=deployed_by, deployed_at=now,
                            source=deploy_limits.label(source, deploy_limits.SOURCE_MAX))
    session.add(deployment)
    for resource_name, data in files:
        session.add(DeploymentResource(deployment_id=deployment.id, name=resource_name,
                                       kind=_kind(resource_name, data), content=data))
    for key, data in sorted(forms.items()):
        session.add(DeploymentResource(deployment_id=deployment.id, name=f"forms/{key}.json", kind="form",
                                       content=data))
    session.flush()
    for key, resource_name, digest, process_name in new_defs:
        version = (session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
                   or 0) + 1
        definition = ProcessDefinition(id=f"{key}:{version}", key=key, version=version, name=process_name,
                                       deployment_id=deployment.id, resource_name=resource_name, sha256=digest,
                                       deployed_at=now)
        session.add(definition)
        schedules.replace(session, key, definition.id, schedules.timer_start(key, {resource_name: bpmn_data[resource_name]}),
                          now)
        result.definitions.append(DeployedDefinition(definition.id, key, version, process_name, True))
    session.flush()
    result.deployment_id = deployment.id
    audit.record(session, deployed_by, "deploy", "deployment", deployment.id, reason, name=deployment.name,
                 source=source, definitions=[d.id for d in result.definitions if d.created])
    return result
