"""Transactional pushes of another channel (WeChat subscribe messages of orders, groups,
bargains, commissions) pass the same gate: preferences, quiet hours, one log row per
message, never twice."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from quanzi.core.platform_settings import settings_update
from quanzi.recommend import push
from quanzi.recommend.models import Preference, PushLog
from quanzi.wechat.models import SubscribeSend
from quanzi.wechat.subscribe import event_push
from quanzi.wechat.tests.conftest import _wechat_server, wx  # noqa: F401 - fixtures
from quanzi.wechat.tests.test_subscribe import TEMPLATES, _consent, _mini_user

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SH)
NIGHT = datetime(2026, 12, 7, 23, 0, tzinfo=SH)
MORNING = datetime(2026, 12, 8, 8, 30, tzinfo=SH)

pytestmark = pytest.mark.django_db


@pytest.fixture
def templates(wx):  # noqa: F811
    settings_update(patch={"wechat": {"subscribe_templates": TEMPLATES}})


def _shipped(user, order_id=7):
    return event_push(
        topic="order_shipped",
        user_id=user.pk,
        ref=f"order_id:{order_id}",
        values={"title": "顺丰 SF1"},
    )


def test_a_person_who_turned_orders_off_gets_no_shipping_message(wx, templates):  # noqa: F811
    user = _mini_user()
    _consent(user, "order_shipped", long_term=True)
    Preference.objects.create(user=user, topics={"orders": False}, quiet_start=0, quiet_end=0)

    assert _shipped(user) is None
    assert wx.state.sent == [] and not SubscribeSend.objects.exists()
    entry = PushLog.objects.get(user=user)
    assert (entry.topic, entry.status, entry.reason) == ("orders", "skipped", "opted_out")


def test_a_sent_message_is_logged_once_and_a_retry_never_doubles_it(wx, templates):  # noqa: F811
    user = _mini_user()
    _consent(user, "order_shipped", long_term=True)
    Preference.objects.create(user=user, quiet_start=0, quiet_end=0)

    first = _shipped(user)
    again = _shipped(user)  # the observer's task retried
    assert first.status == "sent" and again.pk == first.pk
    assert len(wx.state.sent) == 1
    assert PushLog.objects.filter(user=user, status="sent", topic="orders").count() == 1


def test_quiet_hours_defer_the_message_and_the_sweep_sends_it_after(
    wx,  # noqa: F811
    templates,
    monkeypatch,
):
    user = _mini_user()
    _consent(user, "group_succeeded", long_term=True)
    Preference.objects.create(user=user, quiet_start=22, quiet_end=8)
    call = {"topic": "group_succeeded", "user_id": user.pk, "ref": "group_id:3"}
    key = "group_succeeded:group_id:3:x"

    assert (
        push.channel_gate(user_id=user.pk, topic="group_succeeded", key=key, call=call, now=NIGHT)
        is False
    )
    entry = PushLog.objects.get(user=user)
    assert (entry.status, entry.reason, entry.topic) == ("deferred", "quiet_hours", "groups")
    # Asked again before the end of the quiet hours: still no.
    assert (
        push.channel_gate(user_id=user.pk, topic="group_succeeded", key=key, call=call, now=NIGHT)
        is False
    )

    handed_back = []
    monkeypatch.setattr(push, "enqueue", lambda path, **kw: handed_back.append((path, kw)))
    assert push.deferred_deliver(now=MORNING) == 1
    assert handed_back == [("quanzi.wechat.subscribe.event_push", call)]
    # The channel asks again in the morning: sent, once.
    assert push.channel_gate(
        user_id=user.pk, topic="group_succeeded", key=key, call=call, now=MORNING
    )
    assert push.channel_gate(
        user_id=user.pk, topic="group_succeeded", key=key, call=call, now=MORNING
    )
    entry.refresh_from_db()
    assert entry.status == "sent" and PushLog.objects.filter(user=user).count() == 1


def test_marketing_pushes_already_decided_and_other_topics_pass():
    assert push.channel_gate(user_id=1, topic="promotions", key="k", call={"ref": "push:5"})
    assert push.channel_gate(user_id=1, topic="something_else", key="k2", call={"ref": "x"})
    assert not PushLog.objects.exists()
