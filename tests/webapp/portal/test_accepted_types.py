"""A file question takes only the kinds of file its form declares (``x-ui.accept``), checked on the server by the
file's content, not its name: anything else is refused with a Vietnamese message naming the kinds it takes, the
page's other answers are kept, and nothing of the refused file is stored. The page's file input and hint say the
same kinds."""
from __future__ import annotations

from engine import applications, db
from engine.citizen_models import ApplicationDraft
from tests.webapp.portal.test_application import PDF, portal, post, sign_in, start  # noqa: F401

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF photo of a birth certificate"


def kept(factory) -> dict:
    with db.transaction(factory) as session:
        (draft,) = session.query(ApplicationDraft).all()
        return applications.answers(draft)


def test_a_jpeg_where_the_form_asks_for_a_pdf_is_refused_and_the_page_is_kept(portal, factory, settings):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/4")  # "document" (Giấy chứng sinh): accept application/pdf
    answer = post(portal, url, {"so_ban_sao": "3"}, {"document": (JPEG, "giay-chung-sinh.pdf")})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Có lỗi cần sửa" in html
    assert "phải là PDF; tệp đã chọn là JPEG" in html and "JPEG hoặc PNG" not in html
    assert 'value="3"' in html and kept(factory)["so_ban_sao"] == 3  # nothing else on the page is lost
    assert "document" not in kept(factory)
    assert not list((settings.var_dir / "uploads").rglob("*.*"))


def test_a_pdf_where_the_form_asks_for_a_pdf_is_taken(portal, factory):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/4")
    assert post(portal, url, {"so_ban_sao": "3"}, {"document": (PDF, "gcs.pdf")}).status_code == 302
    assert kept(factory)["document"].endswith("gcs.pdf")


def test_the_file_input_and_its_hint_name_the_declared_kinds(portal):
    sign_in(portal)
    html = portal.get(start(portal).replace("/trang/1", "/trang/4")).get_data(as_text=True)
    assert 'type="file" accept=".pdf,application/pdf"' in html
    assert "PDF, tối đa 10 MB" in html and "PDF, JPEG hoặc PNG" not in html
