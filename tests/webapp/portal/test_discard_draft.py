"""Discarding an application draft: "Xóa bản nháp" beside each draft in "Hồ sơ của tôi" and on the draft's own pages
leads to a confirmation page (what goes, the procedure, when it was started); the POST (with its CSRF token) deletes
the draft and its files nothing else names, and the list says so. Only the owner may (anyone else: 404); a submitted
application is a dossier, withdrawn through its own page; the limit on open drafts links to where drafts are
discarded."""
from __future__ import annotations

import re

from engine import applications, db
from engine.citizen_models import ApplicationDraft
from tests.webapp.portal.test_application import (OWNER, PDF, REGISTRY, fill_everything, portal, post,  # noqa: F401
                                                  sign_in, start, token)


def draft_id(url: str) -> str:
    return re.search(r"/don/([0-9a-f-]{36})/", url).group(1)


def drafts(factory, owner=OWNER) -> list[str]:
    with db.transaction(factory) as session:
        return [d.id for d in applications.open_drafts(session, owner)]


def test_a_draft_is_discarded_from_my_dossiers_after_a_confirmation(portal, factory):
    sign_in(portal)
    draft = draft_id(start(portal))
    listing = portal.get("/ho-so-cua-toi").get_data(as_text=True)
    assert f'href="/don/{draft}/xoa"' in listing and "Xóa bản nháp" in listing
    confirm = portal.get(f"/don/{draft}/xoa")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "<h1" in html and "Đăng ký khai sinh" in html
    assert re.search(r"\d{2}/\d{2}/\d{4}", html)  # when it was started
    assert '<button class="button button--warning" type="submit">Xóa bản nháp</button>' in html
    assert "Quay lại" in html and 'name="csrf_token"' in html
    assert drafts(factory) == [draft]  # looking at the page deletes nothing
    answer = portal.post(f"/don/{draft}/xoa", data={"csrf_token": token(html)})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/ho-so-cua-toi")
    after = portal.get("/ho-so-cua-toi").get_data(as_text=True)
    assert 'role="status"' in after and "Đã xóa bản nháp hồ sơ Đăng ký khai sinh" in after
    assert draft not in after and drafts(factory) == []
    assert "Đã xóa bản nháp" not in portal.get("/ho-so-cua-toi").get_data(as_text=True)  # said once
    assert portal.get(f"/don/{draft}/trang/1").status_code == 404


def test_without_the_csrf_token_nothing_is_deleted(portal, factory):
    sign_in(portal)
    draft = draft_id(start(portal))
    assert portal.post(f"/don/{draft}/xoa", data={}).status_code == 400
    assert drafts(factory) == [draft]


def test_another_citizen_gets_404_and_the_draft_stays(portal, factory):
    sign_in(portal)
    draft = draft_id(start(portal))
    html = portal.get(f"/don/{draft}/xoa").get_data(as_text=True)
    sign_in(portal, REGISTRY.numbers()[1])
    assert portal.get(f"/don/{draft}/xoa").status_code == 404
    assert portal.post(f"/don/{draft}/xoa", data={"csrf_token": token(html)}).status_code == 404
    assert drafts(factory) == [draft]


def test_the_drafts_own_pages_offer_to_discard_it(portal):
    sign_in(portal)
    first = start(portal)
    draft = draft_id(first)
    assert f'href="/don/{draft}/xoa?tu=1"' in portal.get(first).get_data(as_text=True)
    back = portal.get(f"/don/{draft}/xoa?tu=1").get_data(as_text=True)
    assert f'href="/don/{draft}/trang/1">Quay lại' in back  # "Quay lại" leads back where the citizen was
    check = fill_everything(portal)
    assert f'href="/don/{draft}/xoa?tu=kiem-tra"' in portal.get(check).get_data(as_text=True)
    back = portal.get(f"/don/{draft}/xoa?tu=kiem-tra").get_data(as_text=True)
    assert f'href="/don/{draft}/kiem-tra">Quay lại' in back
    back = portal.get(f"/don/{draft}/xoa?tu=//evil.example").get_data(as_text=True)
    assert 'href="/ho-so-cua-toi">Quay lại' in back  # anything else: back to the list


def test_a_discarded_drafts_file_leaves_the_disk(portal, factory, settings):
    sign_in(portal)
    check = fill_everything(portal)
    draft = draft_id(check)
    assert len(list((settings.var_dir / "uploads").rglob("*.pdf"))) == 1
    html = portal.get(f"/don/{draft}/xoa").get_data(as_text=True)
    assert portal.post(f"/don/{draft}/xoa", data={"csrf_token": token(html)}).status_code == 303
    assert list((settings.var_dir / "uploads").rglob("*.pdf")) == []


def test_a_submitted_application_is_not_discarded_but_withdrawn_as_a_dossier(portal, factory):
    sign_in(portal)
    check = fill_everything(portal)
    draft = draft_id(check)
    html = portal.get(check).get_data(as_text=True)
    assert portal.post(check.replace("/kiem-tra", "/nop"), data={"csrf_token": token(html)}).status_code == 302
    with db.transaction(factory) as session:
        code = session.get(ApplicationDraft, draft).submitted_code
    shown = portal.get(f"/don/{draft}/xoa")
    assert shown.status_code == 303 and shown.headers["Location"].endswith(f"/ho-so/{code}")
    posted = portal.post(f"/don/{draft}/xoa", data={"csrf_token": token(html)})
    assert posted.status_code == 303 and posted.headers["Location"].endswith(f"/ho-so/{code}")
    with db.transaction(factory) as session:
        assert session.get(ApplicationDraft, draft).submitted_code == code
    listing = portal.get("/ho-so-cua-toi").get_data(as_text=True)
    assert code in listing and "/xoa" not in listing


def test_the_limit_on_open_drafts_links_to_where_one_is_discarded(portal, monkeypatch):
    monkeypatch.setattr(applications, "MAX_OPEN_DRAFTS", 1)
    sign_in(portal)
    start(portal)
    html = portal.get("/thu-tuc", query_string={"q": "chứng thực"}).get_data(as_text=True)
    other = re.search(r'href="/thu-tuc/([^"]+)">', html).group(1)
    refused = portal.get(f"/nop-ho-so/{other}")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "abandon" not in page
    assert 'href="/ho-so-cua-toi"' in page and "Xóa bản nháp" in page
