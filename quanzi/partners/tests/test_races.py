"""Real parallel clients on PostgreSQL: one token used by many at once, one code
redeemed by many at once, and a new partner user arriving twice at the same moment."""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import Api
from quanzi.core.testing import race
from quanzi.partners.models import PartnerCode, PartnerMember, PartnerNonce
from quanzi.partners.tests.conftest import arrive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def test_one_token_used_by_16_clients_at_once_admits_exactly_one(bank, token):
    once = token(uid="race-1")
    answers = race([lambda: arrive(Api(), once) for _ in range(16)])
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and codes.count(409) == 15, codes
    assert all(
        a.json()["code"] == "partner_token_replayed" for a in answers if a.status_code == 409
    )
    assert PartnerNonce.objects.count() == 1
    assert PartnerMember.objects.filter(uid="race-1").count() == 1


def test_one_code_redeemed_by_16_clients_at_once_admits_exactly_one(bank):
    from quanzi.partners.arrivals import code_issue

    code = code_issue(partner=bank, uid="race-2", level="gold").code
    answers = race(
        [lambda: Api().post("/partners/bank/arrivals", {"code": code}) for _ in range(16)]
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and codes.count(409) == 15, codes
    row = PartnerCode.objects.get(code=code)
    assert row.used_by_id == PartnerMember.objects.get(uid="race-2").user_id


def test_a_new_partner_user_arriving_with_8_tokens_at_once_gets_one_account(bank, token):
    from quanzi.accounts.models import User

    before = User.objects.count()
    tokens = [token(uid="race-3") for _ in range(8)]
    answers = race([lambda t=t: arrive(Api(), t) for t in tokens])
    assert all(a.status_code == 200 for a in answers), [a.content for a in answers]
    users = {a.json()["user_id"] for a in answers}
    assert len(users) == 1
    assert sum(a.json()["created"] for a in answers) == 1
    assert User.objects.count() == before + 1
