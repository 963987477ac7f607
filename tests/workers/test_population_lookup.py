"""The population-lookup handler and the runner that drives it."""
from __future__ import annotations

import datetime as dt

import pytest

from engine import db, instances, queries
from tests.conftest import PROCESSES, deploy_files
from engine import deployment
from workers import citizen_id, population_lookup, runner
from workers.errors import BpmnError
from workers.registry import DEMO_CITIZEN, SyntheticRegistry


@pytest.mark.parametrize("number, reason", [
    ("12345", "12 chữ số"), ("00109901234a", "12 chữ số"), ("999099012345", "Mã tỉnh"),
    ("001999012345", "tương lai"),  # century digit 9: born in 2399
])
def test_invalid_numbers_are_refused_with_the_reason(number, reason):
    with pytest.raises(citizen_id.InvalidCitizenId, match=reason):
        citizen_id.parse(number, today=dt.date(2026, 11, 27))


def test_number_parts():
    parsed = citizen_id.parse("079305001234", today=dt.date(2026, 1, 1))
    assert (parsed.province, parsed.birth_year, parsed.female) == ("Hồ Chí Minh", 2005, True)
    with pytest.raises(citizen_id.InvalidCitizenId, match="năm sinh 2005"):
        citizen_id.parse("079305001234", birth_date=dt.date(2004, 5, 1))


def test_the_synthetic_registry_holds_only_valid_numbers():
    registry = SyntheticRegistry(size=500)
    numbers = registry.numbers()
    assert len(numbers) == 500 and DEMO_CITIZEN in numbers
    for number in numbers:
        profile = registry.lookup(number)
        parsed = citizen_id.parse(number)
        assert int(profile.birth_date[:4]) == parsed.birth_year
        assert (profile.sex == "Nữ") == parsed.female


def test_handler_found_not_found_and_invalid():
    registry = SyntheticRegistry(size=10)
    assert population_lookup.handle({"citizen_id": DEMO_CITIZEN}, registry)["registry_profile"]["full_name"]
    assert population_lookup.handle({"citizen_id": "001099999999"}, registry) == {
        "registry_found": False, "registry_profile": None}
    with pytest.raises(BpmnError) as err:
        population_lookup.handle({"citizen_id": "abc"}, registry)
    assert err.value.code == "INVALID_CITIZEN_ID"


def test_the_runner_completes_the_sample_lookup(factory, operator):
    deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence"]))
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "sample_residence",
                              {"citizen_id": DEMO_CITIZEN, "full_name": "Nguyễn Văn An", "purpose": "Xin việc"}).row.id
    outcomes = runner.run_once(factory, "test-worker")
    assert [(o.topic, o.result) for o in outcomes] == [("population-lookup", "completed")]
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["variables"]["registry_profile"]["full_name"] == "Nguyễn Văn An"
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["Task_review"]


def test_a_failing_handler_loses_nothing(factory, operator):
    deploy_files(factory, deployment.collect_files([PROCESSES / "sample-residence"]))
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "sample_residence", {"citizen_id": DEMO_CITIZEN}).row.id

    def broken(variables):
        raise ConnectionError("registry unreachable")

    (outcome,) = runner.run_once(factory, "w", {"population-lookup": broken})
    assert outcome.result == "failed" and "registry unreachable" in outcome.detail
    with db.transaction(factory) as s:
        (task,) = queries.instance_detail(s, iid)["externalTasks"]
    assert task["retries"] == 2 and task["workerId"] is None and "unreachable" in task["errorMessage"]


def test_the_default_registry_is_a_seeded_table(tmp_path):
    from workers.registry import Profile
    from workers.registry_table import TableRegistry
    table = TableRegistry(tmp_path / "registry.db")
    try:
        assert table.count() == 3000
        assert table.lookup(DEMO_CITIZEN).full_name == "Nguyễn Văn An"
        synthetic = SyntheticRegistry()
        some = synthetic.numbers()[1234]
        assert table.lookup(some) == synthetic.lookup(some)
        assert table.lookup("079305009999") is None
        table.add(Profile("079305009999", "Lê Thị Mai", "2005-01-02", "Nữ", "Hồ Chí Minh", "Quận 1"))
        assert population_lookup.handle({"citizen_id": "079305009999"}, registry=table)["registry_profile"][
            "full_name"] == "Lê Thị Mai"
    finally:
        table.close()
    again = TableRegistry(tmp_path / "registry.db")  # seeded once: the added citizen is still there
    try:
        assert again.count() == 3001
    finally:
        again.close()
