"""Who may open the console: analysts and managers (and administrators); other officers get 403, strangers sign in."""
from __future__ import annotations

from engine import accounts, db
from tests.webapp.inbox.test_inbox_pages import sign_in


def test_only_analysts_managers_and_administrators_open_the_console(app, factory):
    with db.transaction(factory) as session:
        accounts.add(session, "phan-tich-1", "mat-khau-dai", groups=["analyst"])
        accounts.add(session, "quan-ly-1", "mat-khau-dai", groups=["manager"])
        accounts.add(session, "can-bo-1", "mat-khau-dai", groups=["mot-cua"])
    assert "/can-bo/dang-nhap" in app.test_client().get("/dieu-hanh/").headers["Location"]
    for name, status in (("phan-tich-1", 200), ("quan-ly-1", 200), ("can-bo-1", 403)):
        client = app.test_client()
        sign_in(client, name, "mat-khau-dai")
        assert client.get("/dieu-hanh/").status_code == status, name
    analyst = app.test_client()
    from tests.webapp.inbox.test_inbox_pages import csrf
    back = analyst.post("/can-bo/dang-nhap?next=/dieu-hanh/ho-so", data={
        "csrf_token": csrf(analyst, "/can-bo/dang-nhap"), "ten": "phan-tich-1", "mat_khau": "mat-khau-dai"})
    assert back.headers["Location"] == "/dieu-hanh/ho-so"  # signing in from a console link goes back there
    assert 'href="/dieu-hanh/"' in analyst.get("/can-bo/").get_data(as_text=True)  # the way in from the inbox
