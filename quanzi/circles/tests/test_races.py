"""Real parallel clients on PostgreSQL: 32 people join a circle with room for 10 at once;
joins and leaves race; a leave races a circle-deal placement."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.circles.models import Circle, Membership, MembershipEvent, MemberStatus
from quanzi.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def test_32_parallel_joins_never_pass_the_cap(make_user, make_circle):
    circle = make_circle(cap=10)  # the owner holds one place
    people = [make_user(nickname=f"圈友{i}") for i in range(32)]
    answers = race([lambda p=p: p.api.post(f"/circles/{circle.pk}/join", {}) for p in people])
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 9 and codes.count(409) == 23
    assert all(a.json()["code"] == "circle_full" for a in answers if a.status_code == 409)
    circle.refresh_from_db()
    members = Membership.objects.filter(circle=circle, status=MemberStatus.MEMBER).count()
    assert circle.member_count == members == 10
    assert MembershipEvent.objects.filter(circle=circle, kind="join").count() == 10


def test_parallel_joins_and_leaves_keep_the_count_exact(make_user, make_circle):
    from quanzi.circles.members import circle_join

    circle = make_circle()
    stayers = [make_user() for _ in range(12)]
    leavers = [make_user() for _ in range(12)]
    for person in leavers:
        circle_join(circle_id=circle.pk, user=person)
    calls = [lambda p=p: p.api.post(f"/circles/{circle.pk}/join", {}) for p in stayers]
    calls += [lambda p=p: p.api.post(f"/circles/{circle.pk}/leave") for p in leavers]
    calls += [lambda p=p: p.api.post(f"/circles/{circle.pk}/join", {}) for p in stayers[:4]]
    answers = race(calls)
    assert all(a.status_code in (200, 201) for a in answers)
    circle = Circle.objects.get(pk=circle.pk)
    members = Membership.objects.filter(circle=circle, status=MemberStatus.MEMBER).count()
    assert circle.member_count == members == 13


def test_a_leave_racing_a_circle_purchase_is_either_before_or_after(
    make_user, make_product, make_circle, operator
):
    """Either the order is refused (the leave came first) or it is placed and stays (the
    leave waited for it); never a half state."""
    from quanzi.circles.members import circle_join
    from quanzi.circles.models import Sale
    from quanzi.distribution.tests.conftest import own_address
    from quanzi.groupbuy.services import campaign_create
    from quanzi.orders.models import Order

    sku = make_product(price=30000, supply_price=20000, stock=200).skus.get()
    campaign = campaign_create(
        title="圈内团",
        skus=[{"sku_id": sku.pk, "group_price": 26000}],
        group_size=2,
        group_ttl_seconds=3600,
        per_user_limit=5,
        stock=100,
    )
    circle = make_circle()
    operator.api.post(f"/admin/circles/{circle.pk}/deals", {"kind": "group", "ref_id": campaign.pk})
    for _round in range(6):
        member = make_user()
        circle_join(circle_id=circle.pk, user=member)
        address = own_address(member).pk
        body = {"campaign_id": campaign.pk, "sku_id": sku.pk, "qty": 1, "address_id": address}
        buy, leave = race(
            [
                lambda m=member, b=body: m.api.post("/groups", b),
                lambda m=member: m.api.post(f"/circles/{circle.pk}/leave"),
            ]
        )
        assert leave.status_code == 200
        assert buy.status_code in (201, 403), buy.content
        placed = Order.objects.filter(user=member).count()
        assert placed == Sale.objects.filter(user=member).count() == (buy.status_code == 201)
