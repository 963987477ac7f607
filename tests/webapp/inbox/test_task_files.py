"""Fields of several files on the officers' side (a construction permit's site photos): every file the citizen sent
is listed on the task page with its own download link, for officers of the dossier's agency only; an officer's form
with a several-files field (the inspection report's site photos) takes files that add up across uploads, each with
its own remove button, within the schema's maximum; and files saved for a completion that then fails do not stay on
disk with nothing naming them."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import yaml
from werkzeug.datastructures import FileStorage

from engine import accounts, db, deployment, modification, upload_refs, user_tasks
from engine.models import Dossier
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import VN, at_intake
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in
from webapp.portal import uploads

COMMUNE, JUSTICE = "000.00.00.H56", "000.00.16.H56"
PERMIT = PROCESSES / "construction-permit"
PHOTOS = "anh_hien_trang_tep"  # the citizen's site photos (maxItems 20)
REPORT = "anh_hien_truong"  # the inspection report's site photos (maxItems 30)


def jpeg(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + f"photo {n}".encode()


@pytest.fixture
def permit(app, factory, settings):
    """A construction permit dossier of the commune at intake, with three site photos; its instance id."""
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PERMIT]), FORMS)
        for name in ("chuyen-vien-1", "chuyen-vien-2"):
            accounts.add(session, name, "mat-khau", groups=["mot-cua", "chuyen-vien"], agency=COMMUNE)
        accounts.add(session, "tu-phap-1", "mat-khau", groups=["mot-cua", "chuyen-vien"], agency=JUSTICE)
    form = yaml.safe_load((PERMIT / "scenarios" / "defaults.yaml").read_text(encoding="utf-8"))["start"]["form"]
    photos = [uploads.store(FileStorage(io.BytesIO(jpeg(n)), f"hien-trang-{n}.jpg"), settings, "Ảnh")
              for n in (1, 2, 3)]
    form = {**form, PHOTOS: photos, "loai_cap_phep": "sua_chua_cai_tao"}
    code = at_intake(factory, "cap_gpxd_nha_o", form, COMMUNE, dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN))
    with db.transaction(factory) as session:
        return session.query(Dossier).filter_by(code=code).one().instance_id


def officer(app, name="chuyen-vien-1"):
    client = app.test_client()
    sign_in(client, name, "mat-khau")
    return client


def open_task(client, factory, element: str) -> str:
    with db.transaction(factory) as session:
        from engine.models import UserTask
        return session.query(UserTask).filter_by(activity_id=element).one().id


def test_every_photo_the_citizen_sent_is_listed_and_downloadable_by_the_agencys_officers(app, permit, factory,
                                                                                          settings):
    client = officer(app)
    tid = open_task(client, factory, "tiep_nhan")
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    section = page.split('id="giay-to"')[1].split("</ul>")[0]
    links = re.findall(r'href="(/can-bo/viec/[^"]+/tai-lieu/[^"]+)"', section)
    photo_links = [link for link in links if PHOTOS in link]
    assert len(photo_links) == 3 and len(set(photo_links)) == 3
    for n in (1, 2, 3):
        assert f"hien-trang-{n}.jpg" in section
    assert str(uploads.folder(settings)) not in page and "/uploads/" not in page  # no server path in the page
    for n, link in enumerate(photo_links, start=1):
        with client.get(link) as got:
            assert got.status_code == 200 and got.data == jpeg(n)
    assert officer(app, "tu-phap-1").get(photo_links[0]).status_code == 404  # another agency's officer


def at_inspection(factory, instance_id: str) -> str:
    """Move the dossier's token to the site inspection (an operator's act) and return the inspection task."""
    with db.transaction(factory) as session:
        modification.move(session, instance_id, "tiep_nhan", "kiem_tra_thuc_dia", Actor("ops", operator=True),
                          "Kiểm thử biên bản kiểm tra thực địa")
    return open_task(None, factory, "kiem_tra_thuc_dia")


def post(client, tid, numbers=(), **data):
    files = [(io.BytesIO(jpeg(n)), f"anh-{n}.jpg") for n in numbers]
    return client.post(f"/can-bo/viec/{tid}", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client, f"/can-bo/viec/{tid}"), **data,
                             **({REPORT: files} if files else {})})


ANSWERS = {"ket_qua_kiem_tra": "phu_hop", "mo_ta_hien_trang": "Lô đất đúng ranh giới, chỉ giới theo giấy chứng nhận"}


def variables(factory, instance_id):
    from engine import queries
    with db.transaction(factory) as session:
        return queries.instance_detail(session, instance_id)["variables"]


def names(paths):
    return [Path(p).name for p in paths]


def on_disk(settings) -> list[str]:
    return sorted(p.name for p in uploads.folder(settings).rglob("anh-*.jpg"))


def test_the_inspection_photos_add_up_across_uploads_and_all_reach_the_dossier(app, permit, factory):
    tid = at_inspection(factory, permit)
    client = officer(app)
    assert post(client, tid, [1, 2], ket_qua_kiem_tra="phu_hop").status_code == 400  # the description is missing
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert "anh-1.jpg" in page and "anh-2.jpg" in page and 'name="xoa_tep"' in page
    assert post(client, tid, [3], **ANSWERS).status_code == 302
    assert names(variables(factory, permit)[REPORT]) == ["anh-1.jpg", "anh-2.jpg", "anh-3.jpg"]


def test_an_inspection_photo_is_removed_by_its_own_button_before_completing(app, permit, factory, settings):
    tid = at_inspection(factory, permit)
    client = officer(app)
    post(client, tid, [1, 2, 3], ket_qua_kiem_tra="phu_hop")
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    value = re.search(r'name="xoa_tep" value="([^"]+)">Xóa <span class="visually-hidden">anh-2.jpg', page).group(1)
    removed = post(client, tid, xoa_tep=value)
    assert removed.status_code == 200 and "anh-2.jpg" not in removed.get_data(as_text=True).split("Xử lý")[1]
    assert on_disk(settings) == ["anh-1.jpg", "anh-3.jpg"]  # nothing names it any more: it left the disk
    assert post(client, tid, **ANSWERS).status_code == 302
    assert names(variables(factory, permit)[REPORT]) == ["anh-1.jpg", "anh-3.jpg"]


def test_more_inspection_photos_than_the_form_takes_are_refused_in_vietnamese(app, permit, factory, settings):
    tid = at_inspection(factory, permit)
    client = officer(app)
    post(client, tid, range(1, 29), ket_qua_kiem_tra="phu_hop")
    refused = post(client, tid, [29, 30, 31], **ANSWERS)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "chỉ được tải lên tối đa 30 tệp" in html and "error-summary" in html
    assert "anh-29.jpg" not in on_disk(settings)  # nothing of the refused choice is kept
    assert variables(factory, permit).get(REPORT) is None  # not completed: the officer chooses again
    assert post(client, tid, [29, 30], **ANSWERS).status_code == 302
    assert len(variables(factory, permit)[REPORT]) == 30


def unreferenced(factory, settings) -> list[str]:
    paths = [str(p) for p in uploads.folder(settings).rglob("*") if p.is_file()]
    with db.transaction(factory) as session:
        return sorted(set(paths) - upload_refs.referenced(session, paths))


def test_photos_of_a_completion_another_officer_won_do_not_stay_on_disk(app, permit, factory, settings):
    tid = at_inspection(factory, permit)
    client = officer(app)
    with db.transaction(factory) as session:
        user_tasks.claim(session, tid, Actor("chuyen-vien-2", frozenset({"chuyen-vien"})))
    assert post(client, tid, [1, 2], **ANSWERS).status_code == 409
    assert unreferenced(factory, settings) == [] and on_disk(settings) == []


def test_photos_of_a_completion_the_form_refused_stay_named_until_removed(app, permit, factory, settings):
    tid = at_inspection(factory, permit)
    client = officer(app)
    assert post(client, tid, [1], ket_qua_kiem_tra="khong_phu_hop", **{"mo_ta_hien_trang": "Sai ranh giới lô đất"}
                ).status_code == 400  # the non-conformity must be described
    assert unreferenced(factory, settings) == [] and on_disk(settings) == ["anh-1.jpg"]


def test_photos_of_a_completion_refused_because_the_dossier_is_suspended_are_kept_for_later(app, permit, factory,
                                                                                             settings):
    from engine import instances
    tid = at_inspection(factory, permit)
    client = officer(app)
    client.get(f"/can-bo/viec/{tid}")
    with db.transaction(factory) as session:
        instances.suspend(session, permit, Actor("ops", operator=True))
    refused = post(client, tid, [1], **ANSWERS)
    assert refused.status_code == 409 and "anh-1.jpg" in refused.get_data(as_text=True)
    assert unreferenced(factory, settings) == []
    with db.transaction(factory) as session:
        instances.resume(session, permit, Actor("ops", operator=True))
    assert post(client, tid, **ANSWERS).status_code == 302
    assert names(variables(factory, permit)[REPORT]) == ["anh-1.jpg"]


def test_photos_are_uploaded_without_completing_and_a_colleague_cannot_add_to_a_held_task(app, permit, factory):
    tid = at_inspection(factory, permit)
    client = officer(app)
    kept = post(client, tid, [1], tai_len="1", **ANSWERS)
    assert kept.status_code == 200 and "anh-1.jpg" in kept.get_data(as_text=True)
    assert variables(factory, permit).get(REPORT) is None  # uploaded, not completed
    with db.transaction(factory) as session:
        user_tasks.claim(session, tid, Actor("chuyen-vien-1", frozenset({"chuyen-vien"})))
    assert post(officer(app, "chuyen-vien-2"), tid, [2], tai_len="1").status_code == 409
    assert post(client, tid, **ANSWERS).status_code == 302
    assert names(variables(factory, permit)[REPORT]) == ["anh-1.jpg"]
