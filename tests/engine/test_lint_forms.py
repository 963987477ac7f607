"""Deploy checks of form files: a form nested past what the checks can walk is a problem, not a crash."""
from __future__ import annotations

import json

import pytest

from engine import lint


def _nested(depth: int) -> bytes:
    leaf: dict = {"type": "string"}
    text = json.dumps(leaf)
    for _ in range(depth):
        text = '{"type": "object", "properties": {"a": ' + text + "}}"
    return text.encode()


@pytest.mark.parametrize("data", [_nested(200), _nested(5_000), b"[" * 100_000 + b"]" * 100_000])
def test_a_form_nested_too_deeply_is_a_problem_naming_the_file(data):
    (problem,) = lint.check_form("forms/deep.json", data)
    assert problem.file == "forms/deep.json" and "nested too deeply" in problem.message


def test_a_form_nested_as_forms_are_passes():
    assert lint.check_form("forms/ok.json", _nested(10)) == []
