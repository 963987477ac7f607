"""Deploy checks on a DMN file's shape: what SpiffWorkflow would silently misread or crash on at run time.

Each problem names the file, the element (decision, output or rule id) and its line:

* one decision a file: SpiffWorkflow reads only the first decision of a file, so a second one (or a decision
  requirement, ``requiredDecision``, which motcua does not follow) would never run;
* the hit policies ``PRIORITY`` and ``OUTPUT ORDER`` need the outputs' value lists, which are not read;
* an aggregation (``SUM``, ``MIN``, ``MAX``, ``COUNT``) belongs to ``COLLECT`` and a table of one output;
* every output needs a name (the variable it sets), and two outputs cannot set the same variable;
* every rule has one input entry per input and one output entry per output (else SpiffWorkflow fails with
  ``IndexError``);
* an input entry written in FEEL, as Camunda Modeler's DMN editor suggests, is not Python: a range (``[250..1000]``)
  failed every instance with Python's "invalid syntax", and a list (``"a", "b"``) or ``not("a")`` compared the input
  with a tuple or a boolean and never matched. Each is refused with the Python test to write (:func:`feel_problem`).
"""
from __future__ import annotations

import ast
import re

from lxml import etree

from engine.decisions import AGGREGATIONS
from engine.errors import Problem

UNSUPPORTED_POLICIES = ("PRIORITY", "OUTPUT ORDER")


def shape_problems(name: str, root: etree._Element) -> list[Problem]:
    """Everything wrong with the decisions of the DMN file ``root`` (its ``definitions`` element)."""
    ns = etree.QName(root).namespace

    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    decisions = root.findall(q("decision"))
    problems = [Problem(name, f"a DMN file holds one decision for motcua, and this one has {len(decisions)}: "
                              f"put the decision '{d.get('id')}' in a .dmn file of its own",
                        element_id=d.get("id"), line=d.sourceline) for d in decisions[1:]]
    for required in root.iter(q("requiredDecision")):
        problems.append(Problem(name, f"decision requirements are not followed: motcua evaluates one decision table "
                                      f"by itself, so '{required.get('href')}' would never be evaluated; give the "
                                      "business rule task the inputs it needs instead", line=required.sourceline))
    for table in root.iter(q("decisionTable")):
        problems.extend(_table_problems(name, table, q))
    return problems


def _table_problems(name: str, table: etree._Element, q) -> list[Problem]:
    table_id = table.get("id")
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    aggregation = table.get("aggregation")
    inputs, outputs = table.findall(q("input")), table.findall(q("output"))
    problems = []

    def refuse(message: str, element: etree._Element) -> None:
        problems.append(Problem(name, message, element_id=element.get("id") or table_id, line=element.sourceline))

    if policy in UNSUPPORTED_POLICIES:
        refuse(f"the hit policy {policy} is not supported (it needs the outputs' value lists, which motcua does not "
               "read): use FIRST with the rules in priority order, or COLLECT", table)
    if aggregation and (policy != "COLLECT" or aggregation.upper() not in AGGREGATIONS):
        refuse(f"the aggregation {aggregation} needs the hit policy COLLECT (and is one of "
               f"{', '.join(AGGREGATIONS)})", table)
    if aggregation and len(outputs) != 1:
        refuse(f"the aggregation {aggregation} works on a table of one output; this one has {len(outputs)}", table)
    seen: set[str] = set()
    for output in outputs:
        variable = output.get("name")
        if not variable:
            refuse("this output has no name: its name is the variable it sets (Output name in Camunda Modeler)",
                   output)
        elif variable in seen:
            refuse(f"two outputs set the variable '{variable}': give each output a name of its own", output)
        seen.add(variable or "")
    for row, rule in enumerate(table.findall(q("rule")), start=1):
        given_in, given_out = len(rule.findall(q("inputEntry"))), len(rule.findall(q("outputEntry")))
        if given_in != len(inputs) or given_out != len(outputs):
            refuse(f"rule {row} has {given_in} input and {given_out} output entries, but the table has "
                   f"{len(inputs)} inputs and {len(outputs)} outputs: give every rule one entry per column", rule)
        for entry in rule.findall(q("inputEntry")):
            wrong = feel_problem(entry.findtext(q("text")) or "")
            if wrong:
                refuse(f"rule {row}: {wrong}", entry)
    return problems


_RANGE = re.compile(r"^\s*([\[\](])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\])])\s*$", re.S)
_NOT = re.compile(r"^\s*not\s*\((.*)\)\s*$", re.S)


def feel_problem(text: str) -> str | None:
    """Why an input entry written in FEEL (a range, a list of values, ``not(...)``) would not test the input as
    Camunda does, with the Python test to write instead; None for an entry motcua reads as Camunda would."""
    text = text.strip()
    if (found := _RANGE.match(text)) is not None and not _is_python(text):
        low = "<=" if found[1] == "[" else "<"
        high = "<=" if found[4] == "]" else "<"
        return (f"'{text}' is a FEEL range, which motcua does not read (entries are Python): write "
                f"{found[2]} {low} ? {high} {found[3]}")
    if (found := _NOT.match(text)) is not None and _is_python(found[1]):
        inner = found[1].strip()
        values = inner if isinstance(ast.parse(inner, mode="eval").body, ast.Tuple) else f"{inner},"
        return (f"'{text}' is FEEL's 'none of these', which Python reads as a true or false value that the input never "
                f"equals: write ? not in ({values})")
    if _is_python(text) and isinstance(ast.parse(text, mode="eval").body, ast.Tuple):
        values = text if text.startswith("(") else f"({text})"
        return (f"'{text}' is FEEL's 'any of these', which Python reads as one tuple that the input never equals: "
                f"write ? in {values}")
    return None


def _is_python(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return bool(text.strip())
