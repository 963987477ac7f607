"""engine/config.py: what the environment switches on, and what it refuses to start with."""
from __future__ import annotations

import pytest

from engine.config import STANDIN_HASH_SECRET, STANDIN_TMN_CODE, load_settings

REAL = {"MOTCUA_VNPAY_URL": "https://pay.vnpay.vn/vpcpay.html", "MOTCUA_VNPAY_TMN_CODE": "TINH0001",
        "MOTCUA_VNPAY_HASH_SECRET": "issued-by-vnpay",
        "MOTCUA_VNPAY_API_URL": "https://pay.vnpay.vn/merchant_webapi/api/transaction"}


def test_payments_are_off_without_a_gateway_or_the_stand_in_and_the_public_secret_is_not_loaded():
    settings = load_settings({})
    assert not settings.payments_available and not settings.payment_standin
    assert STANDIN_HASH_SECRET not in (settings.vnpay_hash_secret, settings.vnpay_tmn_code)


def test_the_payment_stand_in_is_an_explicit_opt_in():
    settings = load_settings({"MOTCUA_VNPAY_STANDIN": "1"})
    assert settings.payments_available and settings.payment_standin
    assert (settings.vnpay_tmn_code, settings.vnpay_hash_secret) == (STANDIN_TMN_CODE, STANDIN_HASH_SECRET)


def test_a_real_gateway_wins_over_the_stand_in():
    settings = load_settings({**REAL, "MOTCUA_VNPAY_STANDIN": "1"})
    assert settings.payments_available and not settings.payment_standin
    assert settings.vnpay_hash_secret == "issued-by-vnpay"


@pytest.mark.parametrize("change, named", [
    ({"MOTCUA_VNPAY_HASH_SECRET": ""}, "MOTCUA_VNPAY_HASH_SECRET"),
    ({"MOTCUA_VNPAY_HASH_SECRET": STANDIN_HASH_SECRET}, "MOTCUA_VNPAY_HASH_SECRET"),
    ({"MOTCUA_VNPAY_TMN_CODE": ""}, "MOTCUA_VNPAY_TMN_CODE"),
    ({"MOTCUA_VNPAY_TMN_CODE": STANDIN_TMN_CODE}, "MOTCUA_VNPAY_TMN_CODE"),
    ({"MOTCUA_VNPAY_API_URL": ""}, "MOTCUA_VNPAY_API_URL"),  # the payment checks would ask the stand-in
])
def test_a_real_gateway_without_its_own_terminal_and_secret_refuses_to_start(change, named):
    with pytest.raises(ValueError, match=named):
        load_settings({**REAL, **change})


@pytest.mark.parametrize("value", ["-1", "11", "two"])
def test_the_number_of_trusted_proxies_must_be_a_small_count(value):
    with pytest.raises(ValueError, match="MOTCUA_TRUSTED_PROXIES"):
        load_settings({"MOTCUA_TRUSTED_PROXIES": value})


def test_no_proxy_is_trusted_unless_configured():
    assert load_settings({}).trusted_proxies == 0
    assert load_settings({"MOTCUA_TRUSTED_PROXIES": "2"}).trusted_proxies == 2


def test_the_portals_client_is_registered_with_its_own_callback_by_default():
    settings = load_settings({"MOTCUA_PUBLIC_URL": "https://dvc.example/"})
    assert settings.oidc_registered_redirect_uris == ("https://dvc.example/dang-nhap/xong",)


def test_the_registered_redirect_uris_are_read_exactly_as_listed():
    settings = load_settings({"MOTCUA_OIDC_REDIRECT_URIS": " https://dvc.example/dang-nhap/xong,\n"
                                                           "http://127.0.0.1:5000/dang-nhap/xong "})
    assert settings.oidc_registered_redirect_uris == ("https://dvc.example/dang-nhap/xong",
                                                      "http://127.0.0.1:5000/dang-nhap/xong")


@pytest.mark.parametrize("value", ["/dang-nhap/xong", "dvc.example/dang-nhap/xong", "ftp://dvc.example/x",
                                   "https://dvc.example/dang-nhap/xong#x", "https:///dang-nhap/xong"])
def test_a_redirect_uri_that_is_not_an_absolute_http_address_refuses_to_start(value):
    with pytest.raises(ValueError, match="MOTCUA_OIDC_REDIRECT_URIS"):
        load_settings({"MOTCUA_OIDC_REDIRECT_URIS": value})
