"""A bargain cut down by fresh accounts tied to each other (a ring of made-up friends) is
caught as the second of them helps: the help is recorded with the ring as its reason (it
earns no new-friend boost and the operator sees it). Fresh helpers with nothing in common
are friends as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.bargain.services import bargain_help
from quanzi.risk.signals import signal_record

pytestmark = pytest.mark.django_db


def _old(user):
    user.date_joined = timezone.now() - timedelta(days=100)
    user.save(update_fields=["date_joined"])


def test_the_second_fresh_helper_on_the_firsts_connection_is_a_ring(
    customer, make_user, make_campaign, start_bargain
):
    _old(customer)
    bargain_id = start_bargain(customer, make_campaign())["bargain_id"]
    a, b = make_user(), make_user()  # made today, on one quiet home connection
    for user in (a, b):
        signal_record(user_id=user.pk, kind="ip", value="122.224.3.7")

    first = bargain_help(bargain_id=bargain_id, helper=a)
    second = bargain_help(bargain_id=bargain_id, helper=b)

    assert first.risk_reason == ""
    assert second.risk_reason == "fresh_ring"


def test_fresh_helpers_on_their_own_connections_are_not_a_ring(
    customer, make_user, make_campaign, start_bargain
):
    _old(customer)
    bargain_id = start_bargain(customer, make_campaign())["bargain_id"]
    a, b = make_user(), make_user()
    signal_record(user_id=a.pk, kind="ip", value="36.110.9.1")
    signal_record(user_id=b.pk, kind="ip", value="36.110.9.2")

    bargain_help(bargain_id=bargain_id, helper=a)
    second = bargain_help(bargain_id=bargain_id, helper=b)

    assert second.risk_reason == ""
