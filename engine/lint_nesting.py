"""Deploy-time check of how deep embedded subprocesses are drawn inside one another.

At run time a task nested more than :data:`engine.loop_limits.MAX_SUBPROCESS_DEPTH` subprocesses deep fails with an
incident (the limit stops a call activity calling its own process without end). Embedded subprocesses drawn that deep
are known from the file alone, so the diagram is refused at deploy rather than every instance failing at its start.
"""
from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.loop_limits import MAX_SUBPROCESS_DEPTH

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SUBPROCESSES = (f"{B}subProcess", f"{B}transaction", f"{B}adHocSubProcess")


def problems(process: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(subprocess, message) for each outermost subprocess that is the (limit + 1)th nested in ``process``."""
    stack = [(child, 0) for child in process]
    while stack:
        el, depth = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if el.tag in _SUBPROCESSES:
            depth += 1
            if depth > MAX_SUBPROCESS_DEPTH:
                yield el, (f"this subprocess is nested {depth} deep: at most {MAX_SUBPROCESS_DEPTH} subprocesses may "
                           "be drawn inside one another (its tasks could never run); flatten some of them")
                continue
        stack.extend((child, depth) for child in el)
