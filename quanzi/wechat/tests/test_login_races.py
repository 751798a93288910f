"""Real parallel first logins on PostgreSQL: one user per unionid, one per identity."""

from __future__ import annotations

import pytest
import requests
from django.db import connection

from quanzi.accounts.models import User
from quanzi.core.testing import race
from quanzi.wechat.identities import identity_login
from quanzi.wechat.models import WECHAT_MINI, WECHAT_MP, Identity, UnionAccount
from quanzi.wechat.tests.conftest import MINI_APPID, MP_APPID
from quanzi.wechat.tests.standin import Person

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("parallel clients are tested on PostgreSQL")


def _login(provider: str, app_id: str, openid: str, unionid: str):
    return lambda: (
        identity_login(provider=provider, app_id=app_id, openid=openid, unionid=unionid)[0].pk
    )


def test_the_mini_program_and_the_official_account_racing_make_one_user(wx):
    for round_ in range(5):
        unionid = f"u-race-{round_}"
        # One person: one openid per app, each app opened three times at once.
        calls = [
            _login(provider, app_id, f"o-{provider}-{round_}", unionid)
            for provider, app_id in ((WECHAT_MINI, MINI_APPID), (WECHAT_MP, MP_APPID))
            for _ in range(3)
        ]
        results = race(calls)
        assert all(isinstance(r, int) for r in results), results
        assert len(set(results)) == 1  # every racer got the same user
        assert UnionAccount.objects.filter(unionid=unionid).count() == 1
        assert Identity.objects.filter(unionid=unionid).count() == 2  # one per app
    assert User.objects.count() == 5


def test_parallel_http_logins_and_an_official_account_login_make_one_account(wx, live_server):
    person = Person(openid="o-par-mini", unionid="u-par")
    codes = [wx.code_for(MINI_APPID, person) for _ in range(3)]
    url = f"{live_server.url}/api/v1/auth/wechat/mini"

    def mini(code):
        response = requests.post(url, json={"code": code}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["user_id"]

    calls = [lambda c=code: mini(c) for code in codes]
    calls += [_login(WECHAT_MP, MP_APPID, "o-par-mp", "u-par")] * 3
    results = race(calls)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert User.objects.count() == 1 and UnionAccount.objects.count() == 1
    assert Identity.objects.count() == 2
