"""Passwords: Argon2id hashes; an account made with the older scrypt hash still signs in and gets upgraded."""
from __future__ import annotations

import hashlib
import secrets

from engine import accounts, db
from engine.models import Account


def test_passwords_are_argon2id_and_wrong_ones_fail(factory):
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-dai", groups=["mot-cua"], agency="000.00.00.H56")
        stored = session.get(Account, "can-bo-1").password_hash
        assert stored.startswith("$argon2id$") and "mat-khau-dai" not in stored
        assert accounts.by_password(session, "can-bo-1", "mat-khau-dai").groups == frozenset({"mot-cua"})
        assert accounts.by_password(session, "can-bo-1", "sai") is None
        assert accounts.by_password(session, "khong-co", "mat-khau-dai") is None


def test_an_old_scrypt_hash_signs_in_once_and_is_replaced(factory):
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(b"cu", salt=salt, dklen=32, n=2**14, r=8, p=1)
    legacy = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-cu", "tam-thoi")
        session.get(Account, "can-bo-cu").password_hash = legacy
    with db.transaction(factory) as session:
        assert accounts.by_password(session, "can-bo-cu", "cu") is not None
    with db.transaction(factory) as session:
        upgraded = session.get(Account, "can-bo-cu").password_hash
        assert upgraded.startswith("$argon2id$") and accounts.by_password(session, "can-bo-cu", "cu") is not None
        assert accounts.by_password(session, "can-bo-cu", "sai") is None
