"""The ``motcua`` command for operators and analysts.

Every listing or result command takes ``--json`` and then prints one JSON document on stdout. Errors go
to stderr (under ``--json`` as one JSON document, ``{"error": {...}}``, click's usage errors too); the exit code is
2 for bad input and 1 for other failures (engine errors carry their code). Stdout stays empty on an error.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click

from engine import db, deployment, instances, queries, schema, user_tasks
from engine.config import Settings, load_settings
from engine.errors import BadInput, MotcuaError
from engine.runtime import Actor
from webapp.handlers import known_topics


class Context:
    """What every command needs: the settings and, lazily, a database session factory."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._factory = None

    @property
    def factory(self):
        """The session factory, created on first use."""
        if self._factory is None:
            engine = db.make_engine(self.settings.database_url, echo=self.settings.sql_echo)
            click.get_current_context().call_on_close(engine.dispose)
            if schema.current_revision(engine) != schema.head_revision():
                raise click.ClickException("the database is not initialised or is out of date: run 'motcua init'")
            self._factory = db.make_session_factory(engine)
        return self._factory

    def operator(self, user: str | None = None) -> Actor:
        """The trusted operator the CLI acts as (until accounts arrive, the CLI is trusted)."""
        return Actor(user or self.settings.operator, operator=True)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print a result: one JSON document, or the human text."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text)


def handle_errors(fn):
    """Turn engine errors into a message on stderr and the error's exit code."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            _check_text(ctx)
            return fn(*args, **kwargs)
        except MotcuaError as err:
            if ctx.params.get("as_json"):
                click.echo(json.dumps({"error": err.to_dict()}, ensure_ascii=False, indent=2), err=True)
            else:
                click.echo(f"Error: {err.message}", err=True)
            sys.exit(err.exit_code)
    return wrapper


def _check_text(ctx: click.Context) -> None:
    """Refuse an argument holding bytes that are not UTF-8 (a terminal set to another encoding): Python keeps
    them as lone surrogates, which no database column, JSON document or terminal can take."""
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadInput(f"{param.get_error_hint(ctx)} is not UTF-8 text: set the terminal to UTF-8 "
                               "(for Vietnamese, not TCVN3 or VNI) and type it again") from None


def parse_data(text: str | None) -> dict[str, Any]:
    """Parse a ``--data`` JSON object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as err:
        if "int_max_str_digits" in str(err):  # Python's guard against very long numbers, not a JSON error
            raise click.BadParameter(f"a number in it has more than {sys.get_int_max_str_digits()} digits",
                                     param_hint="--data") from None
        raise click.BadParameter(f"not valid JSON: {err}", param_hint="--data") from None
    except RecursionError:
        raise click.BadParameter(f"nested too deeply: at most {instances.MAX_NESTING} levels of lists and objects",
                                 param_hint="--data") from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    return value


def _user_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --user value: a blank one is bad input (it would otherwise fall back to the operator, silently)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty: give the user's name", ctx, param)
    return value


def user_option(help_text: str, required: bool = False):
    """The ``--user`` option: who acts; never blank."""
    return click.option("--user", required=required, callback=_user_name, help=help_text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
reason_option = click.option("--reason", help="Why (kept in the audit log: motcua audit).")


class _Motcua(click.Group):
    """The top command: with ``--json`` anywhere on the line, click's own errors (a missing option, a bad value) are
    printed as one JSON document on stderr too, as the engine's errors are."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Note whether ``--json`` was asked for before the subcommand parses its own options."""
        ctx.meta[_JSON_ASKED] = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; a click error under ``--json`` becomes ``{"error": {...}}`` on stderr."""
        try:
            return super().invoke(ctx)
        except click.ClickException as err:
            if not ctx.meta.get(_JSON_ASKED):
                raise
            error = {"type": type(err).__name__, "code": "bad_input" if err.exit_code == 2 else "internal",
                     "message": err.format_message()}
            click.echo(json.dumps({"error": error}, ensure_ascii=False, indent=2), err=True)
            ctx.exit(err.exit_code)


_JSON_ASKED = "motcua.json"


@click.group(cls=_Motcua)
@click.pass_context
def main(ctx: click.Context) -> None:
    """motcua: run administrative procedures as BPMN processes."""
    ctx.obj = Context(load_settings())


@main.command()
@json_option
@click.pass_obj
def init(obj: Context, as_json: bool) -> None:
    """Create or upgrade the database (Alembic migrations)."""
    engine = db.make_engine(obj.settings.database_url)
    revision = schema.upgrade(engine)
    engine.dispose()
    emit({"database": engine.url.render_as_string(hide_password=True), "revision": revision}, as_json,
         f"Database ready at revision {revision}: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@user_option("Who deploys (recorded with the deployment and in the audit log).")
@reason_option
@json_option
@click.pass_obj
@handle_errors
def deploy(obj: Context, paths: tuple[Path, ...], user: str | None, reason: str | None, as_json: bool) -> None:
    """Deploy BPMN/DMN files or procedure folders (a folder of folders deploys each)."""
    groups = _procedure_groups(paths)
    results = []
    with db.transaction(obj.factory) as session:
        for name, group in groups:
            files = deployment.collect_files(group)
            result = deployment.deploy(session, files, obj.settings.forms_dir, deployed_by=user or obj.settings.operator,
                                       name=name, source=", ".join(str(p) for p in group),
                                       known_topics=known_topics(), reason=reason)
            results.append(result)
    data = {"deployments": [{"id": r.deployment_id, "definitions": [d.__dict__ for d in r.definitions],
                             "warnings": [w.__dict__ for w in r.warnings]} for r in results]}
    lines = []
    for r in results:
        for d in r.definitions:
            lines.append(f"{'deployed' if d.created else 'unchanged'}  {d.id}  {d.name or ''}")
        lines.extend(f"warning: {w}" for w in r.warnings)
    emit(data, as_json, "\n".join(lines))


def _procedure_groups(paths: tuple[Path, ...]) -> list[tuple[str | None, list[Path]]]:
    """A folder whose subfolders are procedures (like processes/) deploys each procedure on its own; it is bad input
    when no subfolder has a diagram, or when a procedure folder (with procedure.toml) has none."""
    groups: list[tuple[str | None, list[Path]]] = []
    loose: list[Path] = []
    for path in paths:
        subdirs = sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
        if path.is_dir() and not any(path.glob("*.bpmn")) and subdirs:
            procedures = [sub for sub in subdirs if any(sub.rglob("*.bpmn"))]
            if not procedures:
                raise BadInput(f"{path}: no .bpmn file in this folder or its subfolders")
            for sub in subdirs:
                if sub not in procedures and (sub / deployment.PROCEDURE_FILE).exists():
                    raise BadInput(f"{sub}: this procedure folder has a {deployment.PROCEDURE_FILE} but no .bpmn file")
            groups.extend((sub.name, [sub]) for sub in procedures)
        else:
            loose.append(path)
    if loose:
        groups.append((None, loose))
    return groups


@main.command()
@click.option("--key", help="Only this process key.")
@json_option
@click.pass_obj
@handle_errors
def definitions(obj: Context, key: str | None, as_json: bool) -> None:
    """List deployed process definitions."""
    with db.transaction(obj.factory) as session:
        rows = queries.definitions(session, key)
    emit(rows, as_json, "\n".join(f"{d['id']:<40} running {d['runningInstances']:<5} {d['name'] or ''}" for d in rows)
         or "No definitions: deploy some with 'motcua deploy processes/'.")


@main.command()
@click.argument("key")
@click.option("--data", help="Start variables as a JSON object.")
@click.option("--business-key", help="The business key (the dossier code).")
@user_option("Who starts it.")
@click.option("--form", is_flag=True, help="Check the data against the start event's form (as the portal does).")
@json_option
@click.pass_obj
@handle_errors
def start(obj: Context, key: str, data: str | None, business_key: str | None, user: str | None, form: bool,
          as_json: bool) -> None:
    """Start an instance of the newest version of KEY."""
    variables = parse_data(data)
    with db.transaction(obj.factory) as session:
        loaded = instances.start(session, obj.operator(user), key, variables, business_key, from_form=form)
        detail = queries.instance_detail(session, loaded.row.id)
    emit(detail, as_json, _instance_text(detail))


@main.command("instances")
@click.option("--key", help="Only instances of this process key.")
@click.option("--status", type=click.Choice(["active", "suspended", "completed", "terminated"]))
@click.option("--business-key")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=0), help="At most this many rows.")
@json_option
@click.pass_obj
@handle_errors
def list_instances(obj: Context, key, status, business_key, limit, as_json: bool) -> None:
    """List process instances, newest first."""
    with db.transaction(obj.factory) as session:
        rows = queries.instances(session, key, status, business_key, limit)
    emit(rows, as_json, "\n".join(f"{r['id']}  {r['status']:<10} {r['processKey']:<25} {r['businessKey'] or ''}"
                                  + (f"  incidents: {r['openIncidents']}" if r["openIncidents"] else "")
                                  for r in rows) or "No instances.")


@main.command()
@click.argument("instance_id")
@json_option
@click.pass_obj
@handle_errors
def show(obj: Context, instance_id: str, as_json: bool) -> None:
    """Show an instance: variables, open tasks, incidents, history."""
    with db.transaction(obj.factory) as session:
        detail = queries.instance_detail(session, instance_id)
    emit(detail, as_json, _instance_text(detail, history=True))


def _instance_text(d: dict, history: bool = False) -> str:
    lines = [f"Instance {d['id']} ({d['processKey']}, {d['definitionId']}): {d['status']}",
             f"  business key: {d['businessKey'] or '-'}   version: {d['version']}",
             f"  variables: {json.dumps(d['variables'], ensure_ascii=False)}"]
    for t in d["userTasks"]:
        lines.append(f"  user task {t['id']}  {t['name']}  groups={','.join(t['candidateGroups'])}"
                     f"  assignee={t['assignee'] or '-'}  due={t['due'] or '-'}")
    for t in d["externalTasks"]:
        lines.append(f"  external task {t['id']}  topic={t['topicName']}  ({t['activityId']})")
    for i in d["incidents"]:
        if not i["resolvedAt"]:
            lines.append(f"  INCIDENT at {i['activityId']}: {i['incidentMessage']}")
    if history:
        lines.append("  history:")
        lines.extend(f"    {h['at'][:19]}  {h['kind']:<24} {h['activityId'] or ''}  {h['userId'] or ''}"
                     for h in d["history"])
    return "\n".join(lines)


@main.command()
@click.option("--group", help="Tasks whose candidate groups include this one.")
@click.option("--assignee", help="Tasks assigned to this user.")
@click.option("--instance", "instance_id", help="Tasks of this instance.")
@click.option("--overdue", is_flag=True, help="Only tasks past their due date.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=0), help="At most this many rows.")
@json_option
@click.pass_obj
@handle_errors
def tasks(obj: Context, group, assignee, instance_id, overdue, limit, as_json: bool) -> None:
    """List open user tasks, soonest due first."""
    with db.transaction(obj.factory) as session:
        rows = queries.user_tasks(session, group, assignee, instance_id, limit, overdue=overdue)
    emit(rows, as_json, "\n".join(f"{t['id']}  {t['name']:<30} {','.join(t['candidateGroups']):<15} "
                                  f"assignee={t['assignee'] or '-':<10} {t['businessKey'] or ''}"
                                  f"{'  OVERDUE' if t['overdue'] else ''}" for t in rows)
         or "No open tasks.")


@main.command()
@click.argument("task_id")
@user_option("Who claims the task.", required=True)
@json_option
@click.pass_obj
@handle_errors
def claim(obj: Context, task_id: str, user: str, as_json: bool) -> None:
    """Claim a user task for USER."""
    with db.transaction(obj.factory) as session:
        row = user_tasks.claim(session, task_id, obj.operator(user), user)
        data = queries.user_task_dict(row)
    emit(data, as_json, f"Task {task_id} claimed by {user}.")


@main.command()
@click.argument("task_id")
@user_option("Who gives the task back.", required=True)
@json_option
@click.pass_obj
@handle_errors
def unclaim(obj: Context, task_id: str, user: str, as_json: bool) -> None:
    """Give a claimed user task back to its groups."""
    with db.transaction(obj.factory) as session:
        row = user_tasks.unclaim(session, task_id, obj.operator(user))
        data = queries.user_task_dict(row)
    emit(data, as_json, f"Task {task_id} is unclaimed.")


@main.command()
@click.argument("task_id")
@user_option("Who completes the task.", required=True)
@click.option("--data", help="The task's form data as a JSON object.")
@json_option
@click.pass_obj
@handle_errors
def complete(obj: Context, task_id: str, user: str, data: str | None, as_json: bool) -> None:
    """Complete a user task with its form data."""
    variables = parse_data(data)
    with db.transaction(obj.factory) as session:
        loaded = user_tasks.complete(session, task_id, obj.operator(user), variables)
        detail = queries.instance_detail(session, loaded.row.id)
    emit(detail, as_json, f"Task {task_id} completed.\n" + _instance_text(detail))


def _lifecycle(name: str, action, help_text: str):
    @click.argument("instance_id")
    @click.option("--reason", help="Why (kept in the history and the audit log).")
    @json_option
    @click.pass_obj
    @handle_errors
    def command(obj: Context, instance_id: str, reason: str | None, as_json: bool) -> None:
        with db.transaction(obj.factory) as session:
            action(session, instance_id, obj.operator(), reason=reason)
            detail = queries.instance_detail(session, instance_id)
        emit(detail, as_json, f"Instance {instance_id} is {detail['status']}.")
    command.__doc__ = help_text
    return main.command(name)(command)


_lifecycle("suspend", instances.suspend, "Suspend an instance.")
_lifecycle("resume", instances.resume, "Resume a suspended instance.")
_lifecycle("terminate", instances.terminate, "End an instance now, cancelling its open tasks.")


from webapp import cli_agencies, cli_process, cli_serve, cli_users, cli_worker  # noqa: E402,F401  (they add their commands to main)
from webapp import cli_audit  # noqa: E402,F401  (it adds its command to main)
