"""Text messages: only to people who turned SMS on for the topic, once per event, after
the writer's transaction, through the preferences' gate (quiet hours, log), and never at
the cost of the order or the inbox message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from quanzi.notifications.models import Notification
from quanzi.notifications.services import notify
from quanzi.recommend import push
from quanzi.recommend.models import Preference, PushLog
from quanzi.sms.channel import sms_event, sms_retry
from quanzi.sms.models import SmsSend

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SH)
NIGHT = datetime(2026, 12, 7, 23, 0, tzinfo=SH)
MORNING = datetime(2026, 12, 8, 8, 1, tzinfo=SH)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Set the time the channel and the gate see."""

    class Clock:
        now = NOON

        def set(self, when: datetime) -> None:
            self.now = when

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def _prefs(user, *, sms=(), quiet=(22, 8), **extra):
    return Preference.objects.create(
        user=user,
        sms_topics={t: True for t in sms},
        quiet_start=quiet[0],
        quiet_end=quiet[1],
        **extra,
    )


def _group_succeeded(user, group_id=7):
    with transaction.atomic():  # the group's own transaction: texted after commit
        return notify(
            user_id=user.pk,
            kind="group_succeeded",
            title="拼团成功",
            body="你的团已成团",
            data={"group_id": group_id, "order_id": 9},
        )


def test_without_opting_in_to_sms_nothing_reaches_the_provider(sms, clock, make_user):
    never_saved, saved = make_user(), make_user()
    _prefs(saved, sms=("orders",))  # texts for orders only, not groups

    _group_succeeded(never_saved)
    _group_succeeded(saved)

    assert sms.state.requests == []
    assert not SmsSend.objects.exists()
    reasons = set(PushLog.objects.filter(key__startswith="sms:").values_list("reason", flat=True))
    assert reasons == {"sms_not_opted_in"}
    assert Notification.objects.filter(kind="group_succeeded").count() == 2  # inbox stands


def test_opted_in_one_request_with_the_phone_template_and_values(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("groups",))

    _group_succeeded(user)

    assert len(sms.state.requests) == 1
    request = sms.state.requests[0]
    assert request["headers"]["authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID")
    body = request["body"]
    assert body["PhoneNumberSet"] == [f"+86{user.phone}"]
    assert body["TemplateId"] == "1002"
    assert body["TemplateParamSet"] == ["拼团成功", "你的团已成团"]
    assert (body["SmsSdkAppId"], body["SignName"]) == ("1400000001", "圈子")
    send = SmsSend.objects.get()
    assert (send.status, send.topic, send.attempts) == ("sent", "groups", 1)
    assert send.key == f"groups:group_succeeded:group_id:7:{user.pk}" and send.message_id
    entry = PushLog.objects.get(key=f"sms:{send.key}")
    assert (entry.status, entry.topic) == ("sent", "groups")


def test_a_retried_task_or_the_same_event_again_never_texts_twice(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("groups",))
    _group_succeeded(user)

    _group_succeeded(user)  # the same group's message written again
    again = sms_event(  # the task delivered a second time
        topic="groups",
        user_id=user.pk,
        ref="group_succeeded:group_id:7",
        title="拼团成功",
        body="你的团已成团",
    )

    assert len(sms.state.requests) == 1
    assert again.status == "sent" and SmsSend.objects.count() == 1
    _group_succeeded(user, group_id=8)  # another group is another text
    assert len(sms.state.requests) == 2


def test_throttling_is_retried_by_the_sweep_on_the_same_row_and_never_doubled(
    sms, clock, make_user
):
    user = make_user()
    _prefs(user, sms=("groups",))
    sms.fail("status:LimitExceeded.PhoneNumberOneHourLimit")

    _group_succeeded(user)
    send = SmsSend.objects.get()
    assert (send.status, send.reason, send.error_code) == (
        "failed",
        "throttled",
        "LimitExceeded.PhoneNumberOneHourLimit",
    )
    assert send.next_try_at == NOON + timedelta(seconds=60)
    assert sms_retry(now=NOON + timedelta(seconds=30)) == 0  # not due yet

    clock.set(NOON + timedelta(minutes=2))
    assert sms_retry() == 1
    assert sms_retry() == 0  # sent: nothing left to retry
    send.refresh_from_db()
    assert (send.status, send.attempts) == ("sent", 2)
    assert len(sms.state.requests) == 2 and len(sms.state.sent) == 1


def test_retries_are_bounded(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("groups",))
    sms.fail(*["RequestLimitExceeded"] * 10)

    _group_succeeded(user)
    for minute in range(1, 60 * 24, 30):
        clock.set(NOON + timedelta(minutes=minute))
        sms_retry()

    send = SmsSend.objects.get()
    assert (send.status, send.attempts, send.next_try_at) == ("failed", 5, None)
    assert len(sms.state.requests) == 5


def test_quiet_hours_defer_a_transactional_text_to_their_end(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("groups",), quiet=(22, 8))
    clock.set(NIGHT)

    _group_succeeded(user)
    assert sms.state.requests == []
    entry = PushLog.objects.get(key__startswith="sms:")
    assert (entry.status, entry.reason) == ("deferred", "quiet_hours")
    assert timezone.localtime(entry.due_at, SH).hour == 8

    clock.set(MORNING)
    with transaction.atomic():  # the sweep; the channel's task runs after commit
        assert push.deferred_deliver() == 1
    with transaction.atomic():
        push.deferred_deliver()  # the sweep again: nothing more
    assert len(sms.state.requests) == 1
    assert SmsSend.objects.get().status == "sent"


def test_quiet_hours_drop_a_promotion(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("promotions",), quiet=(22, 8), topics={"promotions": True})
    clock.set(NIGHT)

    with transaction.atomic():  # a promotion's inbox message, texted after commit
        notify(
            user_id=user.pk,
            kind="push_promotions",
            title="双十二",
            body="全场八折",
            data={"push_key": "promo:12"},
        )
    clock.set(MORNING)
    with transaction.atomic():
        assert push.deferred_deliver() == 0

    assert sms.state.requests == []
    entry = PushLog.objects.get(key__startswith="sms:")
    assert (entry.status, entry.reason) == ("skipped", "quiet_hours")


def test_a_promotion_goes_as_a_text_to_an_opted_in_person_once_and_counts_once(
    sms, clock, make_user
):
    user = make_user()
    _prefs(user, sms=("promotions",), topics={"promotions": True}, daily_cap=2)

    for n in range(3):
        push.push_send(user_id=user.pk, topic="promotions", key=f"promo:{n}", title=f"促销{n}")

    # Two promotions pass the cap of two; each one is texted once (the text is the
    # same message as its inbox push and does not use up the cap a second time).
    assert [r["body"]["TemplateParamSet"] for r in sms.state.requests] == [
        ["促销0", "-"],
        ["促销1", "-"],
    ]
    assert PushLog.objects.get(key="promo:2").reason == "daily_cap"


def test_a_rejected_template_is_logged_the_order_ships_and_nothing_is_retried(
    sms, clock, make_user, buy, sku, operator
):
    user = make_user()
    _prefs(user, sms=("orders",))
    order = buy(user, sku)
    sms.fail("FailedOperation.TemplateIncorrectOrUnapproved")

    shipped = operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF100"}
    )

    assert shipped.status_code == 200, shipped.content
    assert user.api.get(f"/orders/{order['id']}").json()["status"] == "shipped"
    send = SmsSend.objects.get()
    assert (send.status, send.reason, send.error_code, send.next_try_at) == (
        "failed",
        "rejected",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        None,
    )
    assert send.params == ["顺丰 SF100", "SF100"] and send.template_code == "1001"
    clock.set(NOON + timedelta(days=1))
    assert sms_retry() == 0 and len(sms.state.requests) == 1


def test_a_provider_error_leaves_the_inbox_message_and_the_writer_alone(sms, clock, make_user):
    user = make_user()
    _prefs(user, sms=("groups",))
    sms.fail("http500")

    note = _group_succeeded(user)

    assert Notification.objects.filter(pk=note.pk).exists()
    send = SmsSend.objects.get()
    assert (send.status, send.reason) == ("failed", "unreachable")
    assert send.next_try_at is not None  # no answer at all: tried again later


def test_an_unreachable_provider_is_retried(sms, clock, make_user, settings):
    user = make_user()
    _prefs(user, sms=("groups",))
    settings.QUANZI_SMS_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there

    _group_succeeded(user)
    send = SmsSend.objects.get()
    assert (send.status, send.reason, send.error_code) == (
        "failed",
        "unreachable",
        "ClientNetworkError",
    )

    settings.QUANZI_SMS_ENDPOINT = sms.url
    clock.set(NOON + timedelta(minutes=5))
    assert sms_retry() == 1
    send.refresh_from_db()
    assert send.status == "sent" and len(sms.state.sent) == 1


def test_an_account_without_a_phone_number_gets_no_text(sms, clock, make_user):
    from quanzi.accounts.services import user_register_external

    user = user_register_external(nickname="微信用户")
    _prefs(user, sms=("groups",))

    _group_succeeded(user)

    assert sms.state.requests == [] and not SmsSend.objects.exists()


def test_no_provider_configured_means_no_text_and_no_log(sms, clock, make_user, settings):
    settings.QUANZI_SMS_PROVIDER = ""
    user = make_user()
    _prefs(user, sms=("groups",))

    _group_succeeded(user)

    assert sms.state.requests == []
    assert not SmsSend.objects.exists()
    assert not PushLog.objects.filter(key__startswith="sms:").exists()


def test_the_console_provider_logs_the_text_instead_of_sending_it(sms, clock, make_user, settings):
    settings.QUANZI_SMS_PROVIDER = "console"
    settings.QUANZI_SMS_TEMPLATES = ""
    user = make_user()
    _prefs(user, sms=("groups",))

    _group_succeeded(user)

    send = SmsSend.objects.get()
    assert (send.status, send.provider, send.template_code) == ("sent", "console", "groups")
    assert send.message_id.startswith("console-") and sms.state.requests == []


def test_a_settled_commission_is_texted_to_the_earner(sms, clock, make_user, buy, sku):
    from quanzi.accounts.services import referrer_bind
    from quanzi.distribution.tests.conftest import settle
    from quanzi.orders.models import Order

    upline, buyer = make_user(), make_user()
    _prefs(upline, sms=("commissions",))
    referrer_bind(user=buyer, referrer=upline, source="invite_code")
    order = Order.objects.get(pk=buy(buyer, sku)["id"])

    settle(order)

    send = SmsSend.objects.get(topic="commissions")
    assert send.user_id == upline.pk and send.status == "sent"
    assert send.params[0].startswith("¥") and sms.state.sent[0]["TemplateId"] == "1004"
