from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from quanzi.notifications.models import Notification
from quanzi.recommend import push
from quanzi.recommend.models import Preference, PushLog

from .helpers import events, forget

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SH)
NIGHT = datetime(2026, 12, 7, 23, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clean():
    forget()
    yield
    forget()


@pytest.fixture
def shop(make_user, make_product):
    other = make_user()
    tea = make_product(title="绿茶")
    events(other, tea, n=2)
    return tea


def test_nobody_who_did_not_opt_in_is_sent_anything(make_user, shop):
    me = make_user()
    Preference.objects.create(user=me)  # default: recommendations off

    assert push.recommendations_push_run(now=NOON) == 0
    assert not Notification.objects.filter(user=me).exists()
    entry = push.push_send(user_id=me.pk, topic="promotions", key="promo:1", title="x", now=NOON)
    assert (entry.status, entry.reason) == (PushLog.SKIPPED, "not_opted_in")
    assert not Notification.objects.filter(user=me).exists()


def test_an_opted_in_person_gets_one_digest_however_often_the_job_runs(make_user, shop):
    me = make_user()
    Preference.objects.create(user=me, topics={"recommendations": True})

    assert push.recommendations_push_run(now=NOON) == 1
    assert push.recommendations_push_run(now=NOON) == 0
    notes = Notification.objects.filter(user=me, kind="push_recommendations")
    assert notes.count() == 1
    assert notes.get().data["product_ids"] == [shop.pk]


def test_quiet_hours_drop_marketing_and_defer_transactional(make_user):
    me = make_user()
    Preference.objects.create(user=me, topics={"promotions": True}, quiet_start=22, quiet_end=8)

    promo = push.push_send(user_id=me.pk, topic="promotions", key="p", title="sale", now=NIGHT)
    order = push.push_send(user_id=me.pk, topic="orders", key="o", title="shipped", now=NIGHT)

    assert (promo.status, promo.reason) == (PushLog.SKIPPED, "quiet_hours")
    assert (order.status, order.reason) == (PushLog.DEFERRED, "quiet_hours")
    assert order.due_at == datetime(2026, 12, 8, 8, 0, tzinfo=SH)
    assert not Notification.objects.filter(user=me).exists()

    assert push.deferred_deliver(now=datetime(2026, 12, 8, 7, 59, tzinfo=SH)) == 0
    push.deferred_deliver(now=datetime(2026, 12, 8, 8, 1, tzinfo=SH))
    push.deferred_deliver(now=datetime(2026, 12, 8, 8, 2, tzinfo=SH))  # a retry
    assert PushLog.objects.get(key="o").status == PushLog.SENT
    assert Notification.objects.filter(user=me, kind="push_orders").count() == 1


def test_the_daily_cap_stops_marketing_pushes(make_user):
    me = make_user()
    Preference.objects.create(user=me, topics={"promotions": True}, daily_cap=2)

    answers = [
        push.push_send(user_id=me.pk, topic="promotions", key=f"p{n}", title="sale", now=NOON)
        for n in range(3)
    ]

    assert [a.status for a in answers] == [PushLog.SENT, PushLog.SENT, PushLog.SKIPPED]
    assert answers[2].reason == "daily_cap"
    assert Notification.objects.filter(user=me).count() == 2


def test_a_retry_never_sends_twice(make_user):
    me = make_user()
    Preference.objects.create(user=me, topics={"promotions": True})

    for _ in range(3):
        push.push_send(user_id=me.pk, topic="promotions", key="same", title="sale", now=NOON)

    assert Notification.objects.filter(user=me).count() == 1


def test_follow_keywords_choose_what_the_digest_is_about(make_user, make_product):
    other, me = make_user(), make_user()
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    events(other, rice, n=5)
    events(other, tea)
    Preference.objects.create(user=me, topics={"recommendations": True}, follow_keywords=["茶"])

    push.recommendations_push_run(now=NOON)

    note = Notification.objects.get(user=me)
    assert note.data["product_ids"] == [tea.pk]
