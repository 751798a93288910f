"""Real parallel workers on PostgreSQL: the same event's text handled by several workers
at once (a task delivered twice, the retry sweep on two workers) reaches the provider
once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from quanzi.core.testing import race
from quanzi.recommend.models import Preference
from quanzi.sms.channel import sms_event, sms_retry
from quanzi.sms.models import SmsSend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel workers need PostgreSQL (SQLite runs one writer at a time)")


def _event(user):
    def run():
        send = sms_event(
            topic="groups", user_id=user.pk, ref="group_succeeded:group_id:5", title="拼团成功"
        )
        return send.status if send is not None else None

    return run


def test_six_workers_on_one_event_text_it_once(sms, make_user):
    user = make_user()
    Preference.objects.create(user=user, sms_topics={"groups": True}, quiet_start=0, quiet_end=0)
    sms.state.delay = 0.2  # each answer takes a while: the others arrive meanwhile

    race([_event(user) for _ in range(6)])

    assert len(sms.state.requests) == 1
    assert SmsSend.objects.get().status == "sent"


def test_the_retry_sweep_on_four_workers_sends_a_due_text_once(sms, make_user):
    user = make_user()
    Preference.objects.create(user=user, sms_topics={"groups": True}, quiet_start=0, quiet_end=0)
    sms.fail("RequestLimitExceeded")
    assert _event(user)() == "failed"
    SmsSend.objects.update(next_try_at=timezone.now() - timedelta(seconds=1))
    sms.state.delay = 0.2

    race([sms_retry for _ in range(4)])

    send = SmsSend.objects.get()
    assert (send.status, send.attempts) == ("sent", 2)
    assert len(sms.state.requests) == 2 and len(sms.state.sent) == 1
