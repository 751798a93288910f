"""Subscribe messages: sent only with consent, logged with WeChat's answer, retried on a
passing failure and never doubled; each topic comes from where its event happens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from quanzi.core.platform_settings import settings_update
from quanzi.notifications.services import notify
from quanzi.wechat.identities import identity_login
from quanzi.wechat.models import WECHAT_MINI, SubscribeSend
from quanzi.wechat.subscribe import event_push, subscribe_retry
from quanzi.wechat.tests.conftest import MINI_APPID

pytestmark = pytest.mark.django_db

TEMPLATES = {
    topic: {"template_id": f"TPL-{topic}", "fields": {"thing1": "title", "thing2": "body"}}
    for topic in (
        "order_shipped",
        "group_succeeded",
        "group_failed",
        "bargain_done",
        "commission_available",
    )
}


@pytest.fixture
def templates(wx):
    settings_update(patch={"wechat": {"subscribe_templates": TEMPLATES}})
    return TEMPLATES


def _mini_user(openid="o-sub-1"):
    user, _ = identity_login(provider=WECHAT_MINI, app_id=MINI_APPID, openid=openid)
    from conftest import Api
    from quanzi.accounts.services import token_issue

    user.api = Api(token_issue(user=user))
    return user


def _consent(user, topic, *, long_term=False, answer="accept"):
    response = user.api.post(
        "/me/wechat/subscriptions",
        {"results": {f"TPL-{topic}": answer}, "long_term": long_term},
    )
    assert response.status_code == 200, response.content
    return response.json()["remaining"]


def _event(user, ref="group_id:1", topic="group_succeeded"):
    return event_push(topic=topic, user_id=user.pk, ref=ref, values={"title": "拼团成功"})


def test_without_consent_nothing_is_sent_and_the_skip_is_logged(wx, templates):
    user = _mini_user()
    send = _event(user)
    assert send.status == "skipped" and send.reason == "no_consent"
    assert wx.state.sent == []


def test_one_consent_sends_one_message_and_the_same_event_is_never_sent_twice(wx, templates):
    user = _mini_user()
    assert _consent(user, "group_succeeded") == {"TPL-group_succeeded": 1}
    first = _event(user)
    assert first.status == "sent" and first.answer["errcode"] == 0 and first.attempts == 1
    assert _event(user).pk == first.pk  # the same event again: the same row, no send
    assert len(wx.state.sent) == 1
    message = wx.state.sent[0]
    assert message["touser"] == "o-sub-1" and message["template_id"] == "TPL-group_succeeded"
    assert message["data"]["thing1"] == {"value": "拼团成功"}
    other = _event(user, ref="group_id:2")  # another event: the consent was used up
    assert other.status == "skipped" and len(wx.state.sent) == 1


def test_a_long_term_consent_keeps_allowing_and_a_reject_withdraws_it(wx, templates):
    user = _mini_user()
    assert _consent(user, "order_shipped", long_term=True) == {"TPL-order_shipped": -1}
    for ref in ("order_id:1", "order_id:2"):
        assert _event(user, ref=ref, topic="order_shipped").status == "sent"
    _consent(user, "order_shipped", answer="reject")
    assert _event(user, ref="order_id:3", topic="order_shipped").status == "skipped"
    assert len(wx.state.sent) == 2


def test_a_wechat_error_is_retried_by_the_sweep_and_never_doubled(wx, templates):
    user = _mini_user()
    _consent(user, "group_failed")
    wx.fail("/cgi-bin/message/subscribe/send", 45009)
    send = _event(user, topic="group_failed")
    assert send.status == "failed" and send.errcode == 45009 and send.next_try_at
    assert wx.state.sent == []
    assert subscribe_retry() == 0  # not due yet
    later = timezone.now() + timedelta(hours=1)
    assert subscribe_retry(now=later) == 1
    send.refresh_from_db()
    assert send.status == "sent" and send.attempts == 2 and send.answer["errcode"] == 0
    assert subscribe_retry(now=later) == 0
    assert len(wx.state.sent) == 1  # once, and the consent was used once


def test_a_lost_answer_is_not_retried_and_a_refused_template_is_not_retried(wx, templates):
    user = _mini_user()
    _consent(user, "group_failed")
    _consent(user, "group_succeeded")
    wx.fail("/cgi-bin/message/subscribe/send", "timeout")
    lost = _event(user, topic="group_failed")
    assert lost.status == "failed" and lost.reason == "no_answer" and lost.next_try_at is None
    wx.fail("/cgi-bin/message/subscribe/send", 43101)
    refused = _event(user, topic="group_succeeded")
    assert refused.status == "skipped" and refused.reason == "consent_withdrawn"
    assert subscribe_retry(now=timezone.now() + timedelta(days=1)) == 0


def test_no_template_for_a_topic_sends_nothing_and_logs_nothing(wx):
    user = _mini_user()
    assert _event(user) is None and not SubscribeSend.objects.exists()


def test_group_messages_in_the_inbox_are_pushed(wx, templates):
    user = _mini_user()
    _consent(user, "group_succeeded")
    with transaction.atomic():  # as the group's own transaction: pushed after commit
        notify(
            user_id=user.pk,
            kind="group_succeeded",
            title="拼团成功",
            body="你的团已成团",
            data={"group_id": 7, "order_id": 9, "url": "/g/7"},
        )
    send = SubscribeSend.objects.get()
    assert send.key == f"group_succeeded:group_id:7:{user.pk}:TPL-group_succeeded"
    assert send.status == "sent" and send.payload["page"] == "/g/7"
    with transaction.atomic():
        notify(user_id=user.pk, kind="group_member_joined", title="x", body="y", data={})
    assert SubscribeSend.objects.count() == 1  # not a pushed kind


def test_shipping_an_order_pushes_order_shipped(wx, templates, buy, sku, operator):
    user = _mini_user()
    _consent(user, "order_shipped")
    order = buy(user, sku)
    shipped = operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF100"}
    )
    assert shipped.status_code == 200, shipped.content
    send = SubscribeSend.objects.get(topic="order_shipped")
    assert send.status == "sent" and send.payload["data"]["thing1"]["value"] == "顺丰 SF100"


def test_a_bargain_at_its_floor_pushes_bargain_done(wx, templates, make_product, make_user):
    from quanzi.bargain.services import bargain_help, bargain_start, campaign_create

    product = make_product(price=6800)
    campaign = campaign_create(
        sku_id=product.skus.get().pk,
        start_price=6800,
        floor_price=990,
        helpers_min=1,
        helpers_max=1,
        ttl_seconds=3600,
        per_user_limit=1,
        stock=10,
    )
    user = _mini_user()
    _consent(user, "bargain_done")
    bargain = bargain_start(user=user, campaign_id=campaign.pk)
    bargain_help(bargain_id=bargain.pk, helper=make_user())
    send = SubscribeSend.objects.get(topic="bargain_done")
    assert send.status == "sent" and send.key.startswith(f"bargain_done:bargain_id:{bargain.pk}:")
    assert user.notifications.filter(kind="bargain_floor_reached").exists()


def test_settled_commission_pushes_commission_available(wx, templates, make_user, buy, sku):
    from quanzi.accounts.services import referrer_bind
    from quanzi.distribution.tests.conftest import settle
    from quanzi.orders.models import Order

    upline = _mini_user("o-upline")
    _consent(upline, "commission_available")
    buyer = make_user()
    referrer_bind(user=buyer, referrer=upline, source="invite_code")
    order = Order.objects.get(pk=buy(buyer, sku)["id"])
    settle(order)
    send = SubscribeSend.objects.get(topic="commission_available")
    assert send.user_id == upline.pk and send.status == "sent"
    assert send.payload["data"]["thing1"]["value"].startswith("¥")
