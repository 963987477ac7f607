"""The run-time bounds of the sandbox: the operations and functions an expression could use to exhaust memory or
time, replaced by versions that refuse to go beyond a limit.

engine.sandbox rewrites ``**``, ``*``, ``%``, ``+``, ``.join()`` and comprehension loops into calls to the
functions here (:data:`GUARDS`), and gives expressions the bounded ``range``, ``str`` and ``sum``. The limits are
generous for a procedure's data (fees, dates, lists of documents) and far below what would stall a server.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

MAX_EXPONENT = 10_000           # largest integer exponent of **
MAX_INT_BITS = 100_000          # largest integer a * or ** may produce, in bits
MAX_SEQUENCE = 1_000_000        # longest string or list a *, + or join may produce, or str() may write
MAX_RANGE = 1_000_000           # longest range()
MAX_ITERATIONS = 1_000_000      # loop steps (comprehensions) one evaluation may take
_SEQUENCES = (str, bytes, list, tuple)


class SandboxViolation(Exception):
    """An expression went beyond what the sandbox allows while running."""


def bounded_range(*args: int) -> range:
    """``range``, at most :data:`MAX_RANGE` numbers long."""
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SandboxViolation(f"range of {len(r):,} numbers is larger than the sandbox allows ({MAX_RANGE:,})")
    return r


def bounded_str(value: Any = "") -> str:
    """``str``, refused for a value whose text would hold more than :data:`MAX_SEQUENCE` items or characters."""
    _count(value, [MAX_SEQUENCE])
    return str(value)


def _count(value: Any, budget: list[int]) -> None:
    """Spend the budget on the items (and characters) of ``value``, nested containers included."""
    if isinstance(value, (str, bytes)):
        budget[0] -= len(value)
    elif isinstance(value, (list, tuple, set, frozenset, dict)):
        budget[0] -= len(value)
        if budget[0] >= 0:
            for item in (value.items() if isinstance(value, dict) else value):
                _count(item, budget)
                if budget[0] < 0:
                    break
    if budget[0] < 0:
        raise SandboxViolation(f"the text of this value would be longer than the sandbox allows ({MAX_SEQUENCE:,})")


def bounded_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    """``sum`` of numbers (adding lists or strings with it takes quadratic time: use ``+`` or ``join``)."""
    if not isinstance(start, (int, float, Decimal)) or isinstance(start, bool):
        raise SandboxViolation("sum() adds numbers only in the sandbox; put lists together with + and strings "
                               "with ''.join(...)")
    return sum(iterable, start)


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        if b > MAX_EXPONENT or (b > 0 and abs(a) > 1 and abs(a).bit_length() * b > MAX_INT_BITS):
            raise SandboxViolation(f"the power {a} ** {b} is larger than the sandbox allows")
    return a ** b


def _mul(a: Any, b: Any) -> Any:
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(n, int):
            if len(seq) * n > MAX_SEQUENCE:
                raise SandboxViolation(f"repeating a sequence {n:,} times is larger than the sandbox allows")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise SandboxViolation("the product is larger than the sandbox allows")
    return a * b


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and len(a) + len(b) > MAX_SEQUENCE:
        raise SandboxViolation(f"joining these would make a sequence longer than the sandbox allows ({MAX_SEQUENCE:,})")
    return a + b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        raise SandboxViolation("'%' formatting of strings is not allowed; use an f-string")
    return a % b


def _join(separator: Any, items: Any) -> Any:
    if not isinstance(separator, (str, bytes)):
        return separator.join(items)  # not a string: the object's own join, if it has one
    items = list(items) if not isinstance(items, (list, tuple)) else items
    total = len(separator) * max(len(items) - 1, 0)
    for item in items:
        total += len(item) if isinstance(item, (str, bytes)) else 0
        if total > MAX_SEQUENCE:
            raise SandboxViolation(f"the joined text would be longer than the sandbox allows ({MAX_SEQUENCE:,})")
    return separator.join(items)


def make_iter_guard() -> Callable[[Iterable[Any]], Iterable[Any]]:
    """A loop guard for one evaluation: together, its loops take at most :data:`MAX_ITERATIONS` steps."""
    budget = [MAX_ITERATIONS]

    def guarded(iterable: Iterable[Any]) -> Iterable[Any]:
        for item in iterable:
            budget[0] -= 1
            if budget[0] < 0:
                raise SandboxViolation(f"the expression took more than the {MAX_ITERATIONS:,} loop steps the sandbox allows")
            yield item

    return guarded


BINARY_GUARDS = {"Pow": "__sandbox_pow", "Mult": "__sandbox_mul", "Mod": "__sandbox_mod", "Add": "__sandbox_add"}
JOIN_GUARD = "__sandbox_join"
ITER_GUARD = "__sandbox_iter"
GUARDS = (*BINARY_GUARDS.values(), JOIN_GUARD, ITER_GUARD)


def guard_functions() -> dict[str, Callable[..., Any]]:
    """The guard functions by the names the rewritten code calls, for one evaluation."""
    return {"__sandbox_pow": _pow, "__sandbox_mul": _mul, "__sandbox_mod": _mod, "__sandbox_add": _add,
            JOIN_GUARD: _join, ITER_GUARD: make_iter_guard()}
