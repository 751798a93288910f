"""Real parallel workers on PostgreSQL: the same push decided by many workers at once
(a job run twice, a retry racing the first try) is sent once, and the daily cap holds
when several pushes race."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.notifications.models import Notification
from quanzi.recommend import push
from quanzi.recommend.models import Preference, PushLog

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel workers need PostgreSQL (SQLite runs one writer at a time)")


def _send(user, key):
    def run():
        entry = push.push_send(user_id=user.pk, topic="promotions", key=key, title="sale", now=NOON)
        return entry.status

    return run


def test_eight_workers_on_one_push_send_it_once(make_user):
    me = make_user()
    Preference.objects.create(user=me, topics={"promotions": True})

    race([_send(me, "promo:same") for _ in range(8)])

    assert Notification.objects.filter(user=me).count() == 1
    assert PushLog.objects.get(key="promo:same").status == PushLog.SENT


def test_the_daily_cap_holds_when_pushes_race(make_user):
    me = make_user()
    Preference.objects.create(user=me, topics={"promotions": True}, daily_cap=2)

    results = race([_send(me, f"promo:{n}") for n in range(6)])

    assert Counter(results) == Counter({PushLog.SENT: 2, PushLog.SKIPPED: 4})
    assert Notification.objects.filter(user=me).count() == 2
