"""Real parallel clients on PostgreSQL: the last slots, double joins, the per-user limit,
and payments racing the expiry sweeps. Each thread is a separate client with its own
database connection; a barrier starts them together."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from conftest import Api
from quanzi.catalog.models import SKU
from quanzi.core.testing import race
from quanzi.groupbuy.channel import places_taken
from quanzi.groupbuy.models import Group, GroupMember, UserQuota
from quanzi.groupbuy.services import groups_expire_due
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import orders_expire_unpaid
from quanzi.payments.models import Payment
from quanzi.payments.services import refunds_retry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


@pytest.fixture
def sizes(make_product):
    """A product in many sizes: buyers of different SKUs do not queue on one SKU row, so
    only the group's own lock stands between them and the last place."""
    product = make_product(
        title="阳山水蜜桃",
        skus=[
            {"name": f"{n} 斤", "price": 5990, "supply_price": 3000, "stock": 100}
            for n in range(1, 8)
        ],
    )
    return list(product.skus.order_by("id"))


def offers(skus):
    return [{"sku_id": sku.pk, "group_price": 3990} for sku in skus]


def money_in_hand() -> int:
    """What the platform keeps from group orders that are going to ship."""
    keeping = Order.objects.filter(status__in=["to_ship", "grouping"])
    return sum(keeping.values_list("payable", flat=True))


def test_strangers_racing_for_the_last_two_places(make_user, make_campaign, sizes, flow):
    campaign = make_campaign(group_size=4, skus=offers(sizes))
    placed = flow.open(make_user(), campaign, sizes[0])
    group_id = placed["group_id"]
    flow.join(make_user(), group_id, sizes[0])
    strangers = [make_user() for _ in range(14)]
    for person in strangers:
        flow.address(person)

    def attempt(person, sku):
        def call():
            body = {"sku_id": sku.pk, "qty": 1, "address_id": flow.address(person)}
            client = Api(person.api.token)
            response = client.post(f"/groups/{group_id}/join", body)
            if response.status_code != 201:
                return response.json()["code"]
            order_id = response.json()["order_id"]
            pay = client.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
            client.post(f"/payments/sandbox/{pay.json()['payment_id']}/complete")
            return "joined"

        return call

    calls = [attempt(p, sizes[i % len(sizes)]) for i, p in enumerate(strangers)]
    outcomes = Counter(race(calls))
    assert outcomes["joined"] == 2, outcomes
    assert set(outcomes) <= {"joined", "group_full", "group_closed"}, outcomes

    group = Group.objects.get(pk=group_id)
    assert group.status == "succeeded" and group.paid_count == 4 and places_taken(group) == 4
    assert GroupMember.objects.filter(group=group, status="paid").count() == 4
    assert set(Order.objects.values_list("status", flat=True)) == {"to_ship"}
    assert (
        sum(SKU.objects.filter(pk__in=[s.pk for s in sizes]).values_list("stock", flat=True)) == 696
    )
    assert balance("gateway:sandbox") == money_in_hand()


@pytest.mark.parametrize("with_sweeps", [False, True], ids=["payments-only", "with-sweeps"])
def test_payments_racing_for_the_last_places(
    make_user, make_campaign, peach_sku, flow, later, with_sweeps
):
    """Five members pay for the last five places at once (and, in the second run, the
    payment-timeout and group-expiry sweeps run meanwhile): whoever loses a place is
    refunded, and the group ends whole."""
    campaign = make_campaign(group_size=6)
    placed = flow.open(make_user(), campaign, peach_sku)
    group_id = placed["group_id"]
    members = [make_user() for _ in range(5)]
    payments = []
    for person in members:
        joined = flow.join(person, group_id, peach_sku, pay=False)
        payments.append((person, flow.start_payment(person, joined["order_id"])))

    def pay(person, payment_id):
        return lambda: (
            Api(person.api.token).post(f"/payments/sandbox/{payment_id}/complete").status_code
        )

    when = later()
    sweeps = [lambda: orders_expire_unpaid(now=when), lambda: groups_expire_due(now=when)]
    results = race(
        [pay(person, payment_id) for person, payment_id in payments]
        + (sweeps if with_sweeps else [])
    )
    assert all(code == 200 for code in results[:5]), results
    # Status codes and the sweeps' counts: no call raised (race() gives errors as text).
    assert all(isinstance(r, int) for r in results), results
    if not with_sweeps:
        assert Group.objects.get(pk=group_id).status == "succeeded"
    # A sweep that found the group busy closes it on its next run.
    groups_expire_due(now=later())
    refunds_retry(now=later())

    group = Group.objects.get(pk=group_id)
    assert group.status in ("succeeded", "failed")
    orders = Order.objects.filter(channel="group")
    if group.status == "succeeded":
        assert group.paid_count == 6
        assert set(orders.values_list("status", flat=True)) == {"to_ship"}
    else:
        assert set(orders.values_list("status", flat=True)) <= {"refunded", "cancelled"}
    # Nobody is charged for a place they did not get.
    assert not Refund.objects.exclude(status="succeeded").exists()
    assert Payment.objects.filter(status="succeeded").count() == 6
    assert balance("gateway:sandbox") == money_in_hand()


def test_one_person_joining_twice_at_once_gets_one_place(make_user, make_campaign, sizes, flow):
    campaign = make_campaign(group_size=5, skus=offers(sizes))
    placed = flow.open(make_user(), campaign, sizes[0])
    person = make_user()
    address = flow.address(person)

    def join(sku):
        def call():
            response = Api(person.api.token).post(
                f"/groups/{placed['group_id']}/join",
                {"sku_id": sku.pk, "qty": 1, "address_id": address},
            )
            return response.status_code, response.json().get("code")

        return call

    outcomes = Counter(race([join(sizes[i % len(sizes)]) for i in range(10)]))
    assert outcomes[(201, None)] == 1, outcomes
    assert outcomes[(409, "already_joined")] == 9, outcomes
    assert GroupMember.objects.filter(user=person).count() == 1
    assert places_taken(Group.objects.get(pk=placed["group_id"])) == 2
    assert (
        sum(SKU.objects.filter(pk__in=[s.pk for s in sizes]).values_list("stock", flat=True)) == 698
    )


def test_a_join_retried_with_its_key_while_the_first_is_in_flight_answers_its_order(
    make_user, make_campaign, sizes, flow
):
    """A client that times out and sends its join again with the same Idempotency-Key
    while the first request is still running gets the first request's answer: the one
    order, not two ``already_joined`` and no order."""
    campaign = make_campaign(group_size=5, skus=offers(sizes))
    placed = flow.open(make_user(), campaign, sizes[0])
    for attempt in range(3):  # each round a new buyer and key; the race is timing-bound
        person = make_user()
        address = flow.address(person)
        body = {"sku_id": sizes[0].pk, "qty": 1, "address_id": address}
        key = f"join-twice-{attempt}"

        def join(body=body, person=person, key=key):
            response = Api(person.api.token).post(
                f"/groups/{placed['group_id']}/join",
                body,
                headers={"Idempotency-Key": key},
            )
            return response.status_code, response.json().get("order_id")

        outcomes = race([join, join, join])
        orders = list(Order.objects.filter(user=person).values_list("pk", flat=True))
        assert len(orders) == 1, outcomes
        assert outcomes == [(201, orders[0])] * 3
        assert GroupMember.objects.filter(user=person).count() == 1


def test_per_user_limit_holds_under_concurrent_openings(make_user, make_campaign, sizes, flow):
    campaign = make_campaign(per_user_limit=2, skus=offers(sizes))
    person = make_user()
    address = flow.address(person)

    def open_group(sku):
        def call():
            response = Api(person.api.token).post(
                "/groups",
                {"campaign_id": campaign["id"], "sku_id": sku.pk, "qty": 1, "address_id": address},
            )
            return response.status_code, response.json().get("code")

        return call

    outcomes = Counter(race([open_group(sizes[i % len(sizes)]) for i in range(10)]))
    assert outcomes[(201, None)] == 2, outcomes
    assert outcomes[(409, "limit_exceeded")] == 8, outcomes
    assert UserQuota.objects.get(user=person).units == 2
    assert Group.objects.count() == 2
