"""A birth certificate signed with a real certificate (a test CA made here) is uploaded through the portal, the
real esign-verify worker checks the stored file, and the citizen reads the result; a tampered copy turns into
an automatic supplement request the citizen sees with its reason."""
from __future__ import annotations

import re

import pytest

from engine import db, external_tasks, queries
from tests.webapp.portal.test_application import OWNER, fill_everything, portal, sign_in, token  # noqa: F401
from tests.workers.test_esign_verify import SIGNER_NAME, pki, signed  # noqa: F401  (fixtures)
from workers import esign_verify


def submit(client, certificate: bytes) -> str:
    check_url = fill_everything(client, certificate)
    html = client.get(check_url).get_data(as_text=True)
    done = client.post(check_url.replace("/kiem-tra", "/nop"), data={"csrf_token": token(html)})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    return re.search(r'<strong class="panel__code">([^<]+)</strong>', page).group(1)


def check_signature(factory, root) -> None:
    """The population look-up (a stand-in answer), then the real signature worker on the uploaded file."""
    with db.transaction(factory) as session:
        for task in external_tasks.fetch_and_lock(session, "w", {"population-lookup": 60000}, 5):
            external_tasks.complete(session, task.id, "w", {"registry_found": True})
    with db.transaction(factory) as session:
        (task,) = external_tasks.fetch_and_lock(session, "w", {"esign-verify": 60000}, 5)
        external_tasks.complete(session, task.id, "w", esign_verify.handle(task.variables, trust_roots=[root]))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_validly_signed_upload_is_shown_valid_with_its_signer(portal, factory, pki, signed):  # noqa: F811
    sign_in(portal)
    code = submit(portal, signed)
    check_signature(factory, pki["root"])
    page = portal.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Hợp lệ</strong>" in page and f"do {SIGNER_NAME} ký lúc" in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_tampered_upload_becomes_a_supplement_request_with_its_reason(portal, factory, pki, signed):  # noqa: F811
    sign_in(portal)
    tampered = signed.replace(b"1.000.000", b"9.000.000")
    code = submit(portal, tampered)
    check_signature(factory, pki["root"])
    for topic in ("document", "notify"):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 5):
                external_tasks.complete(session, task.id, "w", {})
    page = portal.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Không hợp lệ</strong>" in page and "Yêu cầu bổ sung giấy tờ" in page
    assert "Giấy tờ có chữ ký số không hợp lệ" in page
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=code)
        assert queries.instance_detail(session, instance["id"])["dossier"]["status"] == 5
