"""The sandbox for the Python expressions and scripts that BPMN files carry.

Whoever deploys a diagram would otherwise run code as the server (SpiffWorkflow's default engine is a
plain ``eval``). Every expression is parsed, checked against an allow-list of syntax, names,
functions and methods, then rewritten so that the operations that can eat the machine (``**``, ``*``,
``%`` on strings, ``range``, iteration) are bounded at run time. There are no builtins at all: only
the functions listed in :data:`FUNCTIONS` and the helpers given to :class:`SandboxEngine`.

The same check runs at deploy time (:func:`check`), so most refusals happen before a diagram runs.
"""
from __future__ import annotations

import ast
import re
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import calendar_functions, loop_limits, storable
from engine import sandbox_limits as limits
from engine.sandbox_limits import SandboxViolation
from engine.errors import ExpressionRefused

def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
    "float": float, "int": int, "len": len, "list": list, "max": max, "min": min,
    "range": limits.bounded_range, "reversed": reversed, "round": round, "set": set, "sorted": sorted,
    "str": limits.bounded_str, "sum": limits.bounded_sum, "tuple": tuple, "zip": zip,
    "now": _now,
    "today": lambda: _now().date(),
    "days": lambda n: dt.timedelta(days=n),
    "hours": lambda n: dt.timedelta(hours=n),
    "minutes": lambda n: dt.timedelta(minutes=n),
    "parse_datetime": dt.datetime.fromisoformat,
    "parse_date": dt.date.fromisoformat,
    **calendar_functions.FUNCTIONS,
}
"""Functions any expression may call. Working-time helpers are added by the engine."""

METHODS = frozenset({
    # dict
    "get", "keys", "values", "items",
    # str
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "title",
    "capitalize", "casefold", "count", "find", "index", "isdigit", "isalpha", "isalnum", "isnumeric",
    "join",
    # date and time
    "year", "month", "day", "hour", "minute", "second", "weekday", "isoformat", "date", "days",
    "seconds", "total_seconds",
})
"""Attributes and methods an expression may use. ``format`` and ``replace`` are left out on purpose:
the first reaches attributes through its template, the second can grow a string exponentially."""

_ALWAYS = (
    ast.Expression, ast.Module, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Del, ast.Tuple,
    ast.List, ast.Dict, ast.Set, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add, ast.Sub,
    ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitOr, ast.BitAnd, ast.UnaryOp, ast.Not,
    ast.USub, ast.UAdd, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In,
    ast.NotIn, ast.Is, ast.IsNot, ast.IfExp, ast.Subscript, ast.Slice, ast.Call, ast.keyword,
    ast.Attribute, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.JoinedStr, ast.FormattedValue,
)
_STATEMENTS = (ast.Assign, ast.AugAssign, ast.If, ast.Expr, ast.Pass, ast.Delete)

_DESCRIBE = {
    ast.Import: "'import' statements", ast.ImportFrom: "'import' statements",
    ast.Lambda: "lambda functions", ast.FunctionDef: "function definitions",
    ast.AsyncFunctionDef: "function definitions", ast.ClassDef: "class definitions",
    ast.While: "'while' loops", ast.For: "'for' loops (use a comprehension)",
    ast.With: "'with' blocks", ast.Try: "'try' blocks", ast.Raise: "'raise'",
    ast.Global: "'global'", ast.Nonlocal: "'nonlocal'", ast.Yield: "'yield'", ast.Await: "'await'",
    ast.NamedExpr: "':=' assignments", ast.Starred: "'*' unpacking", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.MatMult: "'@'", ast.BitXor: "'^'", ast.Invert: "'~'",
}

class _Checker(ast.NodeVisitor):
    """Walks a parsed expression and raises :class:`ExpressionRefused` at the first thing not allowed."""

    def __init__(self, allowed_calls: frozenset[str], script: bool):
        self.allowed_calls = allowed_calls
        self.allowed_nodes = _ALWAYS + (_STATEMENTS if script else ())

    def refuse(self, node: ast.AST, what: str) -> None:
        raise ExpressionRefused(what, getattr(node, "lineno", None))

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, self.allowed_nodes):
            name = _DESCRIBE.get(type(node), f"'{type(node).__name__}'")
            self.refuse(node, f"{name} are not allowed in an expression")
            return
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(node, f"the name '{node.id}' is not allowed: names starting with '_' are reserved")
        if node.id in _OTHER_LANGUAGES and isinstance(node.ctx, ast.Load):
            self.refuse(node, f"'{node.id}' is how Java or JavaScript write it: Python writes "
                              f"{_OTHER_LANGUAGES[node.id]}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)  # children first: the innermost fault is the telling one
        if node.attr not in METHODS:
            self.refuse(node, f"the attribute '.{node.attr}' is not allowed "
                              f"(allowed: {', '.join(sorted(METHODS))})")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id not in self.allowed_calls:
            self.refuse(node, f"calling '{func.id}' is not allowed "
                              f"(allowed functions: {', '.join(sorted(self.allowed_calls))})")
        elif not isinstance(func, (ast.Name, ast.Attribute)):
            self.refuse(node, "only named functions and allowed methods may be called")
        for kw in node.keywords:
            if kw.arg is None:
                self.refuse(node, "'**' unpacking is not allowed")

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        if node.format_spec is not None:
            self.refuse(node, "a format specification inside an f-string is not allowed")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            self.refuse(node, "'async for' is not allowed")
        self.generic_visit(node)


class _Guard(ast.NodeTransformer):
    """Rewrites operations that can exhaust memory or time into calls to bounded helpers."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        guard = limits.BINARY_GUARDS.get(type(node.op).__name__)
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        guard = limits.BINARY_GUARDS.get(type(node.op).__name__)
        if guard is None:
            return node
        target = node.target
        load = ast.copy_location(type(target)(**{**{f: getattr(target, f) for f in target._fields}, "ctx": ast.Load()}), target)
        call = ast.Call(ast.Name(guard, ast.Load()), [load, node.value], [])
        return ast.copy_location(ast.Assign([target], call), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1 and not node.keywords:
            return ast.copy_location(ast.Call(ast.Name(limits.JOIN_GUARD, ast.Load()), [func.value, *node.args], []),
                                     node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.iter = ast.copy_location(ast.Call(ast.Name(limits.ITER_GUARD, ast.Load()), [node.iter], []), node.iter)
        return node


_OTHER_LANGUAGES = {"true": "True", "false": "False", "null": "None"}
_C_OPERATORS = re.compile(r"&&|\|\||!(?!=)")


def _parse(source: str, script: bool) -> ast.AST:
    if not isinstance(source, str):
        raise ExpressionRefused("the expression is empty")
    text = source.strip() if not script else source
    if not text.strip():
        raise ExpressionRefused("the expression is empty")
    if text.strip().startswith("${") or text.strip().startswith("#{"):
        raise ExpressionRefused("'${...}' is a Java (JUEL) expression; motcua expressions are Python: "
                                "write it without '${' and '}'")
    try:
        return ast.parse(text, mode="exec" if script else "eval")
    except SyntaxError as err:
        hint = "; Python writes && as and, || as or, ! as not" if _C_OPERATORS.search(text) else ""
        raise ExpressionRefused(f"this is not a valid Python expression ({err.msg}){hint}", err.lineno) from None


@functools.lru_cache(maxsize=4096)
def _compile(source: str, script: bool, allowed_calls: frozenset[str]) -> Any:
    juel = source.strip()[2:].removesuffix("}").strip() if isinstance(source, str) and \
        source.strip()[:2] in ("${", "#{") else None
    if juel:  # say what to write instead only when that would run (not for Java such as dateTime().plusDays(3))
        opener = source.strip()[:2]
        try:
            _compile(juel, script, allowed_calls)
        except ExpressionRefused as inner:
            raise ExpressionRefused(f"'{opener}...}}' is a Java (JUEL) expression; motcua expressions are Python, "
                                    f"and '{juel}' is not one motcua runs: {inner}") from None
        raise ExpressionRefused(f"'{opener}...}}' is a Java (JUEL) expression; motcua expressions are Python: write "
                                f"it without '{opener}' and '}}', as {juel}")
    tree = _parse(source, script)
    _Checker(allowed_calls, script).visit(tree)
    tree = ast.fix_missing_locations(_Guard().visit(tree))
    return compile(tree, "<expression>" if not script else "<script>", "exec" if script else "eval")


def check(source: str, script: bool = False, extra_functions: Iterable[str] = ()) -> None:
    """Raise :class:`ExpressionRefused` if the sandbox would refuse ``source``; used at deploy time."""
    _compile(source, script, frozenset(FUNCTIONS) | frozenset(extra_functions))


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs only what the sandbox allows."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None):
        super().__init__({**FUNCTIONS, **(helpers or {})})
        self.allowed_calls = frozenset(self.globals)

    def _namespace(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> dict:
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        # The guards go last so that no variable can replace them.
        namespace.update({"__builtins__": {}, **limits.guard_functions()})
        return namespace

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Evaluate one expression against the task data."""
        code = _compile(expression, False, self.allowed_calls)
        return eval(code, self._namespace(context, external_context))  # noqa: S307 - checked and guarded

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run a script task's statements; the variables it assigns become task data."""
        code = _compile(script, True, self.allowed_calls)
        namespace = self._namespace(context, external_context)
        exec(code, namespace)  # noqa: S102 - checked and guarded
        # the functions are dropped as callables; a variable named like one of them (days, sum) is the task's own
        hidden = (set(external_context or {}) - set(context)) | set(limits.GUARDS) | {"__builtins__"}
        result = {k: v for k, v in namespace.items() if k not in hidden and not callable(v)}
        for name, value in result.items():
            if name not in context or context[name] is not value:
                storable.check(name, value)
        context.clear()
        context.update(result)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> str:
        """Service tasks are done by external workers, never inside the engine."""
        raise SandboxViolation("service tasks are done by external workers")


class SandboxEngine(PythonScriptEngine):
    """The script engine attached to every workflow the engine loads."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None):
        super().__init__(environment=SandboxEnvironment(helpers))

    def evaluate(self, task, expression, external_context=None):
        """Evaluate an expression for a task; one that drives a loop is held to the loop bounds
        (engine.loop_limits)."""
        return loop_limits.checked(task, expression, super().evaluate(task, expression, external_context))

    def create_task_exec_exception(self, task, script, err):
        """The incident a failing script raises. SpiffWorkflow's own version appends the error's first argument as
        text and itself fails on ``KeyError(0)`` or an ``OverflowError``'s (code, text), so the script's error
        would escape as a server error and leave the instance stuck instead of opening an incident."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=line_number, error_line=error_line)

    def validate(self, expression: str) -> None:
        """Check an expression without running it. Text that is not Python at all raises ``SyntaxError``, as
        SpiffWorkflow's DMN engine expects: it then reads a rule's entry as a test (``<= 2``) on the input."""
        ast.parse(expression.strip() if isinstance(expression, str) else "", mode="eval")  # SyntaxError passes up
        _compile(expression, False, self.environment.allowed_calls)
