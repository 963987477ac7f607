"""Application drafts: a citizen discards their own draft (its row goes, the uploads it named are handed back), nobody
else's; a submitted application is a dossier and is not discarded; the limit on open drafts says where to go."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import applications, catalogue, db
from engine.citizen_models import ApplicationDraft
from engine.models import ProcessInstance
from engine.errors import Conflict, NotFound
from tests.conftest import FORMS, PROCESSES

OWNER, OTHER = "001099012345", "001099054321"
UPLOADED = "/var/uploads/ab/" + "ab" * 32 + "/giay-chung-sinh.pdf"


@pytest.fixture
def procedure(factory):
    from engine import deployment
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    with db.transaction(factory) as session:
        found = next(p for p in catalogue.procedures(session) if p.process_key)
        return catalogue.find(session, found.code)


def new_draft(factory, procedure, owner=OWNER, answers=None) -> str:
    with db.transaction(factory) as session:
        return applications.start(session, owner, procedure, answers or {}).id


def test_the_owner_discards_a_draft_and_gets_back_the_files_it_named(factory, procedure):
    draft_id = new_draft(factory, procedure, answers={"giay_chung_sinh": UPLOADED, "ho_ten_tre": "An",
                                                      "anh": [UPLOADED, "/khong/phai/tep-tai-len.pdf"]})
    with db.transaction(factory) as session:
        assert applications.discard(session, draft_id, OWNER) == [UPLOADED]
    with db.transaction(factory) as session:
        assert session.get(ApplicationDraft, draft_id) is None
        assert applications.open_drafts(session, OWNER) == []


def test_another_citizens_draft_is_not_found_and_stays(factory, procedure):
    draft_id = new_draft(factory, procedure)
    with db.transaction(factory) as session, pytest.raises(NotFound):
        applications.discard(session, draft_id, OTHER)
    with db.transaction(factory) as session:
        assert session.get(ApplicationDraft, draft_id) is not None


def test_a_submitted_application_is_a_dossier_and_is_not_discarded(factory, procedure):
    draft_id = new_draft(factory, procedure)
    with db.transaction(factory) as session:
        session.get(ApplicationDraft, draft_id).submitted_code = "H00.01-261127-0001"
    with db.transaction(factory) as session, pytest.raises(Conflict, match="H00.01-261127-0001"):
        applications.discard(session, draft_id, OWNER)
    with db.transaction(factory) as session:
        assert session.get(ApplicationDraft, draft_id) is not None


def test_too_many_open_drafts_is_its_own_error_and_discarding_one_makes_room(factory, procedure, monkeypatch):
    monkeypatch.setattr(applications, "MAX_OPEN_DRAFTS", 2)
    first = new_draft(factory, procedure)
    new_draft(factory, procedure)
    with db.transaction(factory) as session, pytest.raises(applications.TooManyDrafts):
        applications.start(session, OWNER, procedure, {})
    with db.transaction(factory) as session:
        applications.discard(session, first, OWNER)
    assert new_draft(factory, procedure)


def _valid_draft(factory, procedure) -> str:
    from tests.engine.test_inbox import BIRTH
    return new_draft(factory, procedure, answers={k: v for k, v in BIRTH.items()
                                                  if k not in ("citizen_id", "procedure_name")})


def _postgresql_only(factory):
    if factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: these requests cannot interleave there")


def test_a_submission_that_read_the_draft_before_a_discard_committed_is_not_found_not_a_server_error(
        factory, procedure):
    _postgresql_only(factory)
    draft_id = _valid_draft(factory, procedure)
    with factory() as submitting:
        draft = applications.get(submitting, draft_id, OWNER)  # the submit request has read the draft ...
        with db.transaction(factory) as discarding:  # ... when the citizen's other tab discards it
            applications.discard(discarding, draft_id, OWNER)
        with pytest.raises(NotFound, match="discarded"):
            applications.submit(submitting, draft, procedure)
        submitting.rollback()
    with db.transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_two_submissions_of_one_draft_make_one_dossier(factory, procedure):
    _postgresql_only(factory)
    draft_id = _valid_draft(factory, procedure)
    with factory() as second:
        late = applications.get(second, draft_id, OWNER)  # a double click: both requests have read the draft
        with db.transaction(factory) as first:
            code = applications.submit(first, applications.get(first, draft_id, OWNER), procedure)
        assert applications.submit(second, late, procedure) == code
        second.commit()
    with db.transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
