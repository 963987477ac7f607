"""Application drafts: a citizen discards their own draft (its row goes, the uploads it named are handed back), nobody
else's; a submitted application is a dossier and is not discarded; the limit on open drafts says where to go."""
from __future__ import annotations

import pytest

from engine import applications, catalogue, db
from engine.citizen_models import ApplicationDraft
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
