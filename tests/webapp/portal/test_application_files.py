"""A field that takes several files (the construction permit's photos of the site): files uploaded in several
steps add up, each has its own remove action, the schema's maximum still holds with a Vietnamese error, and a
file nothing refers to any more leaves the disk."""
from __future__ import annotations

import io
import re

import pytest

from engine import applications, db, deployment
from engine.citizen_models import ApplicationDraft
from tests.conftest import FORMS, PROCESSES
from tests.webapp.portal.test_application import OWNER, sign_in, token

CONSTRUCTION_PERMIT = "1.009994.000.00.00.H56"
FIELD = "anh_hien_trang_tep"  # maxItems 20, on page 5 (Bản vẽ và giấy tờ kèm theo)


def jpeg(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + f"photo {n}".encode()


@pytest.fixture
def portal(client, factory, settings):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "construction-permit"]), FORMS)
    return client


def page_five(client) -> str:
    sign_in(client)
    return client.get(f"/nop-ho-so/{CONSTRUCTION_PERMIT}").headers["Location"].replace("/trang/1", "/trang/5")


def upload(client, url: str, numbers, **data):
    html = client.get(url).get_data(as_text=True)
    files = [(io.BytesIO(jpeg(n)), f"anh-{n}.jpg") for n in numbers]
    return client.post(url, content_type="multipart/form-data",
                       data={"csrf_token": token(html), **data, **({FIELD: files} if files else {})})


def stored(factory) -> list[str]:
    with db.transaction(factory) as session:
        (draft,) = session.query(ApplicationDraft).all()
        return applications.answers(draft).get(FIELD, [])


def names(paths) -> list[str]:
    return [p.rsplit("/", 1)[-1] for p in paths]


def test_files_uploaded_in_two_steps_add_up_and_each_has_a_remove_action(portal, factory):
    url = page_five(portal)
    assert upload(portal, url, [1, 2]).status_code == 400  # other answers of the page are still missing
    assert upload(portal, url, [3]).status_code == 400
    assert names(stored(factory)) == ["anh-1.jpg", "anh-2.jpg", "anh-3.jpg"]
    html = portal.get(url).get_data(as_text=True)
    for n in (1, 2, 3):
        assert f"anh-{n}.jpg" in html
    assert len(re.findall(r'<button[^>]*name="xoa_tep"', html)) == 3
    assert "Xóa <span class=\"visually-hidden\">anh-2.jpg</span>" in html
    assert "chọn tệp khác để thay" not in html


def test_the_same_file_twice_is_listed_once(portal, factory):
    url = page_five(portal)
    upload(portal, url, [1])
    upload(portal, url, [1, 2])
    assert names(stored(factory)) == ["anh-1.jpg", "anh-2.jpg"]


def test_a_file_is_removed_by_its_own_button_and_the_others_stay(portal, factory, settings):
    url = page_five(portal)
    upload(portal, url, [1, 2, 3])
    html = portal.get(url).get_data(as_text=True)
    (value,) = re.findall(r'name="xoa_tep" value="([^"]+)"[^>]*>Xóa <span class="visually-hidden">anh-2.jpg', html)
    removed = portal.post(url, data={"csrf_token": token(html), "xoa_tep": value})
    page = removed.get_data(as_text=True)
    assert removed.status_code == 200 and "Đã xóa tệp anh-2.jpg" in page and "Có lỗi cần sửa" not in page
    assert names(stored(factory)) == ["anh-1.jpg", "anh-3.jpg"]
    again = portal.post(url, data={"csrf_token": token(html), "xoa_tep": value})  # the same click twice
    assert again.status_code == 200 and names(stored(factory)) == ["anh-1.jpg", "anh-3.jpg"]


def test_more_files_than_the_field_takes_are_refused_in_vietnamese_and_the_earlier_ones_stay(portal, factory,
                                                                                           settings):
    url = page_five(portal)
    upload(portal, url, range(1, 19))
    refused = upload(portal, url, [19, 20, 21])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "tối đa 20 tệp" in html and "đã có 18 tệp" in html and "thêm 2 tệp" in html
    assert len(stored(factory)) == 18
    on_disk = {p.name for p in (settings.var_dir / "uploads").rglob("*.jpg")}
    assert "anh-19.jpg" not in on_disk  # nothing half-kept: the citizen chooses again, fewer files
    upload(portal, url, [19, 20])
    assert len(stored(factory)) == 20


def on_disk(settings) -> list[str]:
    return sorted(p.name for p in (settings.var_dir / "uploads").rglob("*") if p.is_file())


def remove(client, url: str, shown_name: str):
    html = client.get(url).get_data(as_text=True)
    (value,) = re.findall(rf'name="xoa_tep" value="([^"]+)"[^>]*>Xóa <span class="visually-hidden">{shown_name}', html)
    return client.post(url, data={"csrf_token": token(html), "xoa_tep": value})


def test_a_removed_file_leaves_the_disk_once_nothing_names_it(portal, settings):
    url = page_five(portal)
    upload(portal, url, [1, 2])
    assert remove(portal, url, "anh-1.jpg").status_code == 200
    assert on_disk(settings) == ["anh-2.jpg"]
    assert not [d for d in (settings.var_dir / "uploads").iterdir() if not any(d.iterdir())]  # no empty folders


def test_a_removed_file_another_citizens_draft_holds_stays_on_disk(portal, factory, settings):
    from tests.webapp.portal.test_application import REGISTRY
    other = REGISTRY.numbers()[1]
    sign_in(portal, other)
    theirs = portal.get(f"/nop-ho-so/{CONSTRUCTION_PERMIT}").headers["Location"].replace("/trang/1", "/trang/5")
    upload(portal, theirs, [1])  # the same photo under the same name: one file on disk for both drafts
    url = page_five(portal)  # signs the owner in
    upload(portal, url, [1, 2])
    remove(portal, url, "anh-1.jpg")
    assert on_disk(settings) == ["anh-1.jpg", "anh-2.jpg"]


def test_a_replaced_single_file_leaves_the_disk(portal, settings):
    url = page_five(portal)
    for n in (1, 2):
        html = portal.get(url).get_data(as_text=True)
        portal.post(url, content_type="multipart/form-data", data={
            "csrf_token": token(html), "document": (io.BytesIO(b"%PDF-1.4 drawing " + bytes([48 + n])), f"ban-ve-{n}.pdf")})
    assert on_disk(settings) == ["ban-ve-2.pdf"]
