"""Many buyers joining one group at once, with real parallel clients on PostgreSQL.

A join takes its place first, in a short transaction of its own under the group's lock,
and places its order after it without that lock. These tests hold that design to the
rules: the group is never overfilled, every paid member holds a place with its order,
an unpaid place comes back when its payment window ends and is offered again, a place
whose order never came is given away once its hold runs out, and the ledger check stays
green."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import Api
from quanzi.core.testing import race
from quanzi.groupbuy.channel import HOLD_SECONDS, holds_release_expired, places_taken, slot_take
from quanzi.groupbuy.models import Group, GroupMember
from quanzi.ledger.checks import run_checks
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.orders.services import orders_expire_unpaid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def joiner(flow, person, group_id, sku, *, pay: bool):
    """One buyer's client: join, and pay when told to. Returns what the buyer saw."""
    address = flow.address(person)

    def call():
        client = Api(person.api.token)
        response = client.post(
            f"/groups/{group_id}/join", {"sku_id": sku.pk, "qty": 1, "address_id": address}
        )
        if response.status_code != 201:
            return response.json()["code"]
        if not pay:
            return "reserved"
        order_id = response.json()["order_id"]
        started = client.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
        done = client.post(f"/payments/sandbox/{started.json()['payment_id']}/complete")
        return "joined" if done.status_code == 200 else f"pay {done.status_code}"

    return call


def assert_members_whole(group: Group) -> None:
    """Never more places than the size; each paid member's order paid for its place."""
    assert places_taken(group) <= group.size
    paid = GroupMember.objects.filter(group=group, status="paid")
    assert paid.count() == group.paid_count
    for member in paid.select_related("order"):
        assert member.order is not None and member.qty == 1 and member.hold_until is None
        assert member.order.status in ("grouping", "to_ship")
    assert not GroupMember.objects.filter(group=group, order__isnull=True, status="paid").exists()


def test_many_buyers_joining_one_group_at_once(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(group_size=5, per_user_limit=1, stock=50)
    group_id = flow.open(make_user(), campaign, peach_sku)["group_id"]
    buyers = [make_user() for _ in range(16)]

    outcomes = Counter(race([joiner(flow, b, group_id, peach_sku, pay=True) for b in buyers]))

    assert outcomes["joined"] == 4, outcomes
    assert set(outcomes) <= {"joined", "group_full", "group_closed"}, outcomes
    group = Group.objects.get(pk=group_id)
    assert group.status == "succeeded" and group.paid_count == 5
    assert_members_whole(group)
    # The losers hold nothing: no order, no place, no unit of stock.
    assert Order.objects.filter(channel="group").count() == 5
    assert GroupMember.objects.filter(group=group).exclude(status="paid").count() == 0
    peach_sku.refresh_from_db()
    assert peach_sku.stock == 100 - 5
    assert balance("gateway:sandbox") == sum(
        Order.objects.filter(status="to_ship").values_list("payable", flat=True)
    )
    assert run_checks()[0] == []


def test_unpaid_places_come_back_and_are_offered_again(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(group_size=4, per_user_limit=1, stock=50)
    group_id = flow.open(make_user(), campaign, peach_sku)["group_id"]

    first = [make_user() for _ in range(10)]
    outcomes = Counter(race([joiner(flow, b, group_id, peach_sku, pay=False) for b in first]))
    assert outcomes["reserved"] == 3 and outcomes["group_full"] == 7, outcomes
    group = Group.objects.get(pk=group_id)
    assert places_taken(group) == 4
    reserved = list(GroupMember.objects.filter(group=group, status="reserved"))
    assert all(m.order_id is not None and m.qty == 1 for m in reserved)

    # Nobody paid: the payment windows end and the sweep cancels the orders.
    after_window = timezone.now() + timedelta(seconds=901)
    assert orders_expire_unpaid(now=after_window) == 3
    assert places_taken(group) == 1
    assert GroupMember.objects.filter(group=group, status="released").count() == 3

    # The freed places are offered again to a second crowd, who pay.
    second = [make_user() for _ in range(10)]
    outcomes = Counter(race([joiner(flow, b, group_id, peach_sku, pay=True) for b in second]))
    assert outcomes["joined"] == 3, outcomes
    group.refresh_from_db()
    assert group.status == "succeeded" and group.paid_count == 4
    assert_members_whole(group)
    peach_sku.refresh_from_db()
    assert peach_sku.stock == 100 - 4  # the three cancelled orders gave their units back
    assert run_checks()[0] == []


def test_a_place_whose_order_never_came_is_given_away_after_its_hold(
    make_user, make_campaign, peach_sku, flow
):
    campaign = make_campaign(group_size=3, per_user_limit=1)
    group_id = flow.open(make_user(), campaign, peach_sku)["group_id"]
    flow.join(make_user(), group_id, peach_sku)
    # A joiner took the last place and its process died before the order was placed.
    ghost = make_user()
    hold = slot_take(group_id=group_id, user_id=ghost.pk, sku_id=peach_sku.pk)
    late = make_user()
    refused = flow.join(late, group_id, peach_sku, expect=409)
    assert refused["code"] == "group_full"

    # Once the hold has run out, the next joiners race for the place: one gets it.
    ran_out = timezone.now() + timedelta(seconds=HOLD_SECONDS + 1)
    crowd = [make_user() for _ in range(6)]
    outcomes = Counter(
        race(
            [
                lambda b=b: (
                    slot_take(group_id=group_id, user_id=b.pk, sku_id=peach_sku.pk, now=ran_out)
                    and "held"
                )
                for b in crowd
            ]
        )
    )
    assert outcomes == {"held": 1, "group_full": 5}, outcomes
    hold.refresh_from_db()
    assert hold.status == "released"
    group = Group.objects.get(pk=group_id)
    assert places_taken(group) == 3

    # The sweep releases holds that ran out where nobody came to take the place.
    assert holds_release_expired(now=ran_out + timedelta(seconds=HOLD_SECONDS + 1)) == 1
    assert places_taken(group) == 2
    assert run_checks()[0] == []
