"""One-time codes issued by the partner's server (signed requests), used once."""

from __future__ import annotations

import json
import secrets
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Api
from quanzi.partners.models import PartnerCode, PartnerMember
from quanzi.partners.signing import request_headers, rsa_keypair
from quanzi.partners.tests.conftest import SECRET

pytestmark = pytest.mark.django_db


def signed_post(path: str, body: dict, *, kind="hmac", material=SECRET, nonce=None, stamp=None):
    raw = json.dumps(body).encode()
    headers = request_headers(
        kind,
        material,
        partner="bank",
        method="POST",
        path="/api/v1" + path,
        body=raw,
        timestamp=stamp or int(time.time()),
        nonce=nonce or secrets.token_urlsafe(12),
    )
    return Client().post(
        "/api/v1" + path,
        raw,
        content_type="application/json",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    )


def test_the_partner_issues_a_code_and_it_signs_its_user_in_once(bank):
    issued = signed_post("/partners/bank/codes", {"uid": "c-1", "level": "platinum"})
    assert issued.status_code == 201, issued.content
    code = issued.json()["code"]
    assert issued.json()["link"] == f"/p/bank?code={code}"
    first = Api().post("/partners/bank/arrivals", {"code": code})
    assert first.status_code == 200 and first.json()["level"] == "platinum"
    again = Api().post("/partners/bank/arrivals", {"code": code})
    assert again.status_code == 409 and again.json()["code"] == "partner_code_used"
    row = PartnerCode.objects.get(code=code)
    assert row.used_by_id == first.json()["user_id"]
    assert PartnerMember.objects.get(uid="c-1").user_id == row.used_by_id


def test_an_expired_or_unknown_code_is_refused(bank):
    code = signed_post("/partners/bank/codes", {"uid": "c-2", "level": "gold"}).json()["code"]
    PartnerCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = Api().post("/partners/bank/arrivals", {"code": code})
    assert late.status_code == 422 and late.json()["code"] == "partner_code_expired"
    unknown = Api().post("/partners/bank/arrivals", {"code": "nope"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "partner_code_invalid"
    assert PartnerMember.objects.count() == 0


def test_an_unsigned_badly_signed_old_or_replayed_request_is_refused(bank, operator):
    unsigned = operator.api.post("/partners/bank/codes", {"uid": "c-3", "level": "gold"})
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "partner_signature_invalid"
    wrong = signed_post(
        "/partners/bank/codes",
        {"uid": "c-3", "level": "gold"},
        material="someone-else-secret-0123456789-abcdefghij",
    )
    assert wrong.status_code == 401
    old = signed_post(
        "/partners/bank/codes", {"uid": "c-3", "level": "gold"}, stamp=int(time.time()) - 3600
    )
    assert old.status_code == 401 and old.json()["code"] == "partner_signature_expired"
    nonce = secrets.token_urlsafe(12)
    assert (
        signed_post(
            "/partners/bank/codes", {"uid": "c-3", "level": "gold"}, nonce=nonce
        ).status_code
        == 201
    )
    replay = signed_post("/partners/bank/codes", {"uid": "c-3", "level": "gold"}, nonce=nonce)
    assert replay.status_code == 409 and replay.json()["code"] == "partner_token_replayed"
    undeclared = signed_post("/partners/bank/codes", {"uid": "c-3", "level": "diamond"})
    assert undeclared.status_code == 403
    assert PartnerCode.objects.count() == 1


def test_an_rsa_partner_signs_its_requests(bank):
    from quanzi.partners.services import key_rotate

    private, public = rsa_keypair()
    key_rotate(partner_id=bank.pk, kind="rsa", public_key=public, overlap_hours=0)
    ok = signed_post(
        "/partners/bank/codes", {"uid": "r-1", "level": "gold"}, kind="rsa", material=private
    )
    assert ok.status_code == 201
    hmac_now = signed_post("/partners/bank/codes", {"uid": "r-2", "level": "gold"})
    assert hmac_now.status_code == 401


def test_a_signed_in_customer_redeems_a_code_onto_their_account(bank, customer):
    code = signed_post("/partners/bank/codes", {"uid": "c-4", "level": "gold"}).json()["code"]
    answer = customer.api.post("/partners/bank/arrivals", {"code": code})
    assert answer.status_code == 200 and answer.json()["user_id"] == customer.pk
    assert answer.json()["token"] is None


def test_token_and_code_together_or_neither_is_refused(bank):
    assert Api().post("/partners/bank/arrivals", {}).status_code == 422
    both = Api().post("/partners/bank/arrivals", {"token": "a.b", "code": "c"})
    assert both.status_code == 422
