"""Deployments whose ids, names and labels do not fit their columns: problems or bad input, never a database error
(PostgreSQL enforces the lengths; SQLite stored them)."""
from __future__ import annotations

import pytest

from engine import db, deployment
from engine.errors import BadInput, DeploymentRefused
from engine.models import Deployment
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import FORMS, deploy_files


def _one(process_id: str = "p", name: str | None = None) -> bytes:
    data = process(linear(start(), user_task("t"), end()), process_id=process_id)
    return data.replace(b'isExecutable="true"', f'isExecutable="true" name="{name}"'.encode()) if name else data


def _refused(factory, files):
    with pytest.raises(DeploymentRefused) as err:
        deploy_files(factory, files)
    return [p for p in err.value.problems if p.severity == "error"]


def test_a_process_id_longer_than_its_column_is_a_problem_with_its_line(factory):
    (problem,) = _refused(factory, [("p.bpmn", _one("p" * 256))])
    assert problem.file == "p.bpmn" and "at most 255" in problem.message and problem.line


def test_a_process_name_longer_than_its_column_is_a_problem(factory):
    (problem,) = _refused(factory, [("p.bpmn", _one("p", "Tên " * 200))])
    assert problem.element_id == "p" and "at most 500" in problem.message


def test_a_file_name_longer_than_its_column_is_a_problem(factory):
    (problem,) = _refused(factory, [("thu-tuc/" + "x" * 300 + ".bpmn", _one())])
    assert "at most 300" in problem.message


def test_a_deployer_name_too_long_is_bad_input(factory):
    with db.transaction(factory) as s:
        with pytest.raises(BadInput, match="at most 100"):
            deployment.deploy(s, [("p.bpmn", _one())], FORMS, deployed_by="u" * 101)


def test_a_long_made_up_name_and_source_are_shortened_to_fit(factory):
    files = [(f"p{i}.bpmn", _one(f"thu_tuc_hanh_chinh_so_{i:02}_cap_xa")) for i in range(12)]  # keys: 390 characters
    with db.transaction(factory) as s:
        result = deployment.deploy(s, files, FORMS, source=", ".join(f"/srv/motcua/processes/{n}" + "/x" * 20
                                                                     for n, _ in files))
    with db.transaction(factory) as s:
        row = s.get(Deployment, result.deployment_id)
        assert len(row.name) == 200 and row.name.endswith("…") and len(row.source) == 500
