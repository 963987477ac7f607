"""Saved inbox filters: an officer saves, lists, replaces and deletes their own; another officer neither sees nor
deletes them; names are checked."""
from __future__ import annotations

import pytest

from engine import accounts, db, saved_filters
from engine.errors import BadInput, NotFound


@pytest.fixture
def officers(factory):
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-mot", ["mot-cua"], agency="000.00.00.H56")
        accounts.add(session, "can-bo-2", "mat-khau-hai", ["mot-cua"], agency="000.00.00.H56")


def test_an_officer_saves_lists_replaces_and_deletes_their_filters(factory, officers):
    with db.transaction(factory) as session:
        late = saved_filters.save(session, "can-bo-1", "  Quá hạn   của tôi ", "han=overdue&nguoi_xu_ly=me")
        saved_filters.save(session, "can-bo-1", "Khai sinh", "thu_tuc=dang_ky_khai_sinh")
    assert late["name"] == "Quá hạn của tôi"
    with db.transaction(factory) as session:
        again = saved_filters.save(session, "can-bo-1", "Quá hạn của tôi", "han=overdue")
        assert again["id"] == late["id"]  # the same name replaces the filter
        assert [(f["name"], f["query"]) for f in saved_filters.listing(session, "can-bo-1")] == [
            ("Khai sinh", "thu_tuc=dang_ky_khai_sinh"), ("Quá hạn của tôi", "han=overdue")]
        saved_filters.delete(session, "can-bo-1", late["id"])
        assert [f["name"] for f in saved_filters.listing(session, "can-bo-1")] == ["Khai sinh"]


def test_another_officer_neither_sees_nor_deletes_mine(factory, officers):
    with db.transaction(factory) as session:
        mine = saved_filters.save(session, "can-bo-1", "Của tôi", "nguoi_xu_ly=me")
        saved_filters.save(session, "can-bo-2", "Của tôi", "han=due_soon")  # the same name is theirs to use
    with db.transaction(factory) as session:
        assert [f["query"] for f in saved_filters.listing(session, "can-bo-2")] == ["han=due_soon"]
        with pytest.raises(NotFound):
            saved_filters.delete(session, "can-bo-2", mine["id"])
        with pytest.raises(NotFound):
            saved_filters.delete(session, "can-bo-2", 999_999)
    with db.transaction(factory) as session:
        assert [f["id"] for f in saved_filters.listing(session, "can-bo-1")] == [mine["id"]]


@pytest.mark.parametrize("name, query", [("   ", "han=overdue"), ("x" * 101, "han=overdue"), ("Dài", "a" * 2001)])
def test_a_filter_needs_a_name_and_a_reasonable_size(factory, officers, name, query):
    with db.transaction(factory) as session:
        with pytest.raises(BadInput):
            saved_filters.save(session, "can-bo-1", name, query)


def test_an_officer_keeps_a_bounded_number_of_filters(factory, officers, monkeypatch):
    monkeypatch.setattr(saved_filters, "MAX_PER_ACCOUNT", 2)
    with db.transaction(factory) as session:
        saved_filters.save(session, "can-bo-1", "Một", "han=overdue")
        saved_filters.save(session, "can-bo-1", "Hai", "han=due_soon")
        saved_filters.save(session, "can-bo-1", "Hai", "han=on_time")  # replacing one is not a new one
        with pytest.raises(BadInput):
            saved_filters.save(session, "can-bo-1", "Ba", "han=on_time")
