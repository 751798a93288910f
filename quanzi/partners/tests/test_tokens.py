"""Signed arrival tokens: valid, expired, replayed, forged, wrong key, wrong level,
rotated keys, HMAC and RSA, and the one-uid-one-user link."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import Api
from quanzi.partners.models import PartnerMember, PartnerNonce
from quanzi.partners.signing import b64url, rsa_keypair, token_make
from quanzi.partners.tests.conftest import SECRET, arrive, claims

pytestmark = pytest.mark.django_db


def test_a_valid_token_signs_a_new_partner_user_in_and_a_second_arrival_finds_the_same_account(
    bank, token
):
    first = arrive(Api(), token())
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["created"] is True and body["linked"] is True
    assert body["level"] == "gold" and body["level_name"] == "金卡"
    me = Api(body["token"]).get("/me")
    assert me.status_code == 200 and me.json()["id"] == body["user_id"]

    again = arrive(Api(), token(level="platinum")).json()
    assert again["user_id"] == body["user_id"] and again["created"] is False
    member = PartnerMember.objects.get(partner=bank, uid="u-1001")
    assert member.level_id == bank.platinum.pk
    assert PartnerMember.objects.filter(partner=bank).count() == 1


def test_a_signed_in_customer_links_their_own_account(bank, token, customer):
    answer = arrive(customer.api, token(uid="u-7"))
    assert answer.status_code == 200
    assert answer.json()["user_id"] == customer.pk and answer.json()["token"] is None
    links = customer.api.get("/me/partners").json()
    assert links[0]["partner"] == "bank" and links[0]["active"] is True


def test_one_partner_uid_never_maps_to_two_users(bank, token, make_user):
    alice, bob = make_user(), make_user()
    assert arrive(alice.api, token(uid="u-9")).status_code == 200
    stolen = arrive(bob.api, token(uid="u-9"))
    assert stolen.status_code == 409 and stolen.json()["code"] == "partner_uid_linked"
    # and alice cannot hold a second uid of the same partner
    second = arrive(alice.api, token(uid="u-10"))
    assert second.status_code == 409 and second.json()["code"] == "partner_user_linked"
    assert list(PartnerMember.objects.values_list("uid", "user_id")) == [("u-9", alice.pk)]


def test_an_expired_token_is_refused_and_the_skew_is_tolerated(bank, token):
    now = int(time.time())
    late = arrive(Api(), token(iat=now - 400, exp=now - 100))
    assert late.status_code == 422
    assert late.json()["detail"]["reason"] == "expired"
    within_skew = arrive(Api(), token(iat=now - 330, exp=now - 30))  # skew is 60 s
    assert within_skew.status_code == 200
    future = arrive(Api(), token(iat=now + 200, exp=now + 400))
    assert future.json()["detail"]["reason"] == "not_yet_valid"
    too_long = arrive(Api(), token(iat=now, exp=now + bank.token_max_age + 1))
    assert too_long.json()["detail"]["reason"] == "lifetime"
    assert PartnerMember.objects.count() == 1


def test_a_replayed_token_is_refused(bank, token):
    once = token()
    assert arrive(Api(), once).status_code == 200
    replay = arrive(Api(), once)
    assert replay.status_code == 409 and replay.json()["code"] == "partner_token_replayed"
    assert PartnerNonce.objects.count() == 1


def test_a_forged_payload_fails_the_signature(bank, token):
    real = token(level="gold")
    _, signature = real.split(".")
    forged_payload = b64url(
        __import__("json").dumps(claims(level="platinum"), separators=(",", ":")).encode()
    )
    answer = arrive(Api(), f"{forged_payload}.{signature}")
    assert answer.status_code == 422
    assert answer.json()["detail"]["reason"] == "signature"
    for garbage in ("abc", "a.b.c", "!!!.???", "e30.AAAA"):
        bad = arrive(Api(), garbage)
        assert bad.status_code == 422 and bad.json()["code"] == "partner_token_invalid"
    assert PartnerMember.objects.count() == 0


def test_a_token_signed_with_another_key_or_for_another_partner_is_refused(bank, token):
    wrong = arrive(Api(), token(material="not-the-bank-secret-0123456789-abcdefghij"))
    assert wrong.json()["detail"]["reason"] == "signature"
    other_partner = arrive(Api(), token(partner="carrier"))
    assert other_partner.json()["detail"]["reason"] == "partner"
    unknown = arrive(Api(), token(), code="nobody")
    assert unknown.status_code == 404


def test_a_level_the_partner_did_not_declare_is_refused(bank, token):
    answer = arrive(Api(), token(level="diamond"))
    assert answer.status_code == 403 and answer.json()["code"] == "partner_level_not_allowed"
    assert PartnerMember.objects.count() == 0


def test_a_suspended_partner_admits_no_one(bank, token):
    from quanzi.partners.services import partner_update

    partner_update(partner_id=bank.pk, data={"status": "suspended"})
    answer = arrive(Api(), token())
    assert answer.status_code == 403 and answer.json()["code"] == "partner_suspended"


def test_a_rotated_key_overlaps_then_retires(bank, token):
    from quanzi.partners.models import PartnerKey
    from quanzi.partners.services import key_rotate

    new_secret = "the-new-bank-secret-after-rotation-000000"
    key_rotate(partner_id=bank.pk, kind="hmac", secret=new_secret, overlap_hours=24)
    assert arrive(Api(), token(material=new_secret, uid="a")).status_code == 200
    assert arrive(Api(), token(material=SECRET, uid="b")).status_code == 200  # overlap
    # the overlap ends
    PartnerKey.objects.filter(status="previous").update(retires_at=timezone.now() - timedelta(1))
    old = arrive(Api(), token(material=SECRET, uid="c"))
    assert old.status_code == 422 and old.json()["detail"]["reason"] == "signature"
    # a rotation without overlap refuses the old key at once
    newest = "the-newest-bank-secret-no-overlap-0000000"
    key_rotate(partner_id=bank.pk, kind="hmac", secret=newest, overlap_hours=0)
    assert arrive(Api(), token(material=new_secret, uid="d")).status_code == 422
    assert arrive(Api(), token(material=newest, uid="e")).status_code == 200
    assert PartnerKey.objects.filter(partner=bank, status="current").count() == 1


def test_rsa_signed_tokens(bank, token):
    from quanzi.partners.services import key_rotate

    private, public = rsa_keypair()
    key_rotate(partner_id=bank.pk, kind="rsa", public_key=public, overlap_hours=0)
    good = arrive(Api(), token_make("rsa", private, claims(uid="r-1")))
    assert good.status_code == 200, good.content
    other_private, _ = rsa_keypair()
    bad = arrive(Api(), token_make("rsa", other_private, claims(uid="r-2")))
    assert bad.status_code == 422 and bad.json()["detail"]["reason"] == "signature"
    # the HMAC secret no longer signs anything
    assert arrive(Api(), token(uid="r-3")).status_code == 422


def test_an_rsa_key_must_be_a_real_public_key(bank, operator):
    answer = operator.api.post(
        f"/admin/partners/{bank.pk}/keys", {"kind": "rsa", "public_key": "-----BEGIN nothing"}
    )
    assert answer.status_code == 422 and answer.json()["code"] == "partner_key_invalid"
    short = operator.api.post(f"/admin/partners/{bank.pk}/keys", {"kind": "hmac", "secret": "x"})
    assert short.status_code == 422


def test_an_arrival_stores_the_level_with_its_expiry_and_a_lower_level_replaces_it(bank, token):
    body = arrive(Api(), token(level="platinum")).json()
    member = PartnerMember.objects.get(user_id=body["user_id"])
    assert member.level_id == bank.platinum.pk
    assert member.level_expires_at > timezone.now() + timedelta(days=bank.level_days - 1)
    arrive(Api(), token(level="gold"))
    member.refresh_from_db()
    assert member.level_id == bank.gold.pk


def test_a_partner_token_never_signs_anyone_in_to_an_operator_account(bank, token, operator):
    assert arrive(operator.api, token(uid="staff")).status_code == 200  # linked by the operator
    answer = arrive(Api(), token(uid="staff"))
    assert answer.status_code == 403 and answer.json()["code"] == "partner_sign_in_refused"
    # signed in, the operator still arrives
    assert arrive(operator.api, token(uid="staff")).status_code == 200
