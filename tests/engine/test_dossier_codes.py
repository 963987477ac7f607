"""Dossier codes {agency}-{yyMMdd}-{NNNN}: one sequence per agency and Vietnamese day, unique under concurrency."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine import db, dossier_codes
from engine.errors import BadInput

VN = dt.timezone(dt.timedelta(hours=7))
AGENCY = "000.00.00.H56"


def take(factory, agency=AGENCY, at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN)):
    with db.transaction(factory) as session:
        return dossier_codes.next_code(session, agency, at)


def test_codes_count_per_agency_and_day_in_vietnam_time(factory):
    assert [take(factory) for _ in range(3)] == [f"{AGENCY}-261201-000{i}" for i in (1, 2, 3)]
    assert take(factory, "000.00.16.H56") == "000.00.16.H56-261201-0001"
    # 17:30 UTC on 1 December is 00:30 on 2 December in Vietnam: a new day, a new sequence
    assert take(factory, at=dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.timezone.utc)) == f"{AGENCY}-261202-0001"
    assert take(factory, at=dt.datetime(2026, 12, 1, 16, 59, tzinfo=dt.timezone.utc)) == f"{AGENCY}-261201-0004"


def test_a_rolled_back_submission_gives_its_number_back(factory):
    session = factory()
    try:
        assert dossier_codes.next_code(session, AGENCY, dt.datetime(2026, 12, 1, 9, tzinfo=VN)).endswith("-0001")
    finally:
        session.rollback()
        session.close()
    assert take(factory).endswith("-0001")


@pytest.mark.parametrize("agency", ["", "H56; DROP TABLE dossier", "../etc", "a" * 80])
def test_a_malformed_agency_code_is_refused(factory, agency):
    with pytest.raises(BadInput):
        take(factory, agency)


def test_concurrent_submissions_never_share_a_number(factory):
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def submit():
        start.wait(timeout=30)
        try:
            for _ in range(20):
                code = take(factory)
                with lock:
                    codes.append(code)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(codes) == [f"{AGENCY}-261201-{n:04d}" for n in range(1, 121)]
