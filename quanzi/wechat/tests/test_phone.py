"""Binding the phone shared with getPhoneNumber: by code or by the encrypted payload;
a number on another account is a 409 for the operator, tampered data a 422."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import Api
from quanzi.accounts.models import User
from quanzi.wechat.tests.conftest import MINI_APPID
from quanzi.wechat.tests.standin import Person

pytestmark = pytest.mark.django_db


def _logged_in(wx, openid="o-phone-1"):
    person = Person(openid=openid)
    code = wx.code_for(MINI_APPID, person)
    body = Api().post("/auth/wechat/mini", {"code": code}).json()
    return Api(body["token"]), body["user_id"], person


def _encrypt(session_key: str, payload: dict) -> tuple[str, str]:
    """What the WeChat client hands the mini-program: AES-128-CBC with the session key."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(json.dumps(payload).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(data) + encryptor.finalize()
    return base64.b64encode(encrypted).decode(), base64.b64encode(iv).decode()


def _phone_payload(phone: str, appid: str = MINI_APPID) -> dict:
    return {
        "phoneNumber": phone,
        "purePhoneNumber": phone,
        "countryCode": "86",
        "watermark": {"appid": appid, "timestamp": 1700000000},
    }


def test_the_phone_number_code_binds_the_phone(wx):
    api, user_id, _ = _logged_in(wx)
    wx.state.phone_codes["pc-1"] = "13812345678"
    response = api.post("/me/phone/wechat", {"code": "pc-1"})
    assert response.status_code == 200, response.content
    assert response.json() == {"user_id": user_id, "phone": "13812345678"}
    assert api.get("/me").json()["phone"] == "13812345678"
    again = api.post("/me/phone/wechat", {"code": "pc-1"})  # a code works once
    assert again.status_code == 422 and again.json()["code"] == "invalid_wechat_code"


def test_the_encrypted_payload_is_decrypted_with_the_session_key(wx):
    api, user_id, person = _logged_in(wx)
    data, iv = _encrypt(person.session_key, _phone_payload("13912345678"))
    response = api.post("/me/phone/wechat", {"encrypted_data": data, "iv": iv})
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=user_id).phone == "13912345678"


def test_tampered_or_foreign_encrypted_data_is_refused(wx):
    api, user_id, person = _logged_in(wx)
    data, iv = _encrypt(person.session_key, _phone_payload("13912345670"))
    raw = bytearray(base64.b64decode(data))
    raw[-1] ^= 0x55
    tampered = base64.b64encode(bytes(raw)).decode()
    for body in (
        {"encrypted_data": tampered, "iv": iv},
        {"encrypted_data": "not base64!", "iv": iv},
        {"encrypted_data": data, "iv": base64.b64encode(os.urandom(16)).decode()},
    ):
        response = api.post("/me/phone/wechat", body)
        assert response.status_code == 422, (body, response.content)
        assert response.json()["code"] == "invalid_encrypted_data"
    foreign, iv2 = _encrypt(person.session_key, _phone_payload("13912345670", "wxother00000001"))
    response = api.post("/me/phone/wechat", {"encrypted_data": foreign, "iv": iv2})
    assert response.status_code == 422 and response.json()["code"] == "invalid_encrypted_data"
    missing = api.post("/me/phone/wechat", {})
    assert missing.status_code == 422 and missing.json()["code"] == "phone_payload_missing"
    assert User.objects.get(pk=user_id).phone.startswith("x")


def test_a_phone_on_another_account_is_a_409_not_a_takeover(wx, make_user):
    owner = make_user(phone="13700000001")
    api, user_id, _ = _logged_in(wx)
    wx.state.phone_codes["pc-2"] = "13700000001"
    response = api.post("/me/phone/wechat", {"code": "pc-2"})
    assert response.status_code == 409
    assert response.json()["code"] == "phone_taken"
    assert response.json()["detail"] == {"other_user_id": owner.pk, "merge": "operator"}
    assert User.objects.get(pk=user_id).phone.startswith("x")
    assert User.objects.get(pk=owner.pk).phone == "13700000001"


def test_the_operator_merges_the_wechat_account_into_the_phone_account(wx, make_user, operator):
    owner = make_user(phone="13700000002")
    api, wechat_user_id, person = _logged_in(wx, "o-merge-1")
    body = {"from_user_id": wechat_user_id, "to_user_id": owner.pk}
    assert api.post("/admin/wechat/merges", body).status_code == 403
    merged = operator.api.post("/admin/wechat/merges", body)
    assert merged.status_code == 200 and merged.json() == {"moved": 1}
    assert api.get("/me").status_code == 401  # the WeChat-made account is closed
    again = Api().post("/auth/wechat/mini", {"code": wx.code_for(MINI_APPID, person)}).json()
    assert again["user_id"] == owner.pk and again["is_new"] is False
    # A phone account is never merged away.
    back = operator.api.post(
        "/admin/wechat/merges", {"from_user_id": owner.pk, "to_user_id": wechat_user_id}
    )
    assert back.status_code == 409 and back.json()["code"] == "not_a_wechat_account"
