"""Circle-only deals: refused to non-members at placement, accepted for members; leaving
mid-deal keeps the order placed; the owner takes level 1 on circle sales and settles
through the ledger; joining pays nothing."""

from __future__ import annotations

import pytest

from quanzi.circles.members import circle_join, circle_leave
from quanzi.circles.models import Sale
from quanzi.distribution.models import Commission
from quanzi.distribution.tests.conftest import own_address, settle
from quanzi.ledger.models import JournalEntry as Entry
from quanzi.orders.models import Order
from quanzi.orders.services import order_place
from quanzi.payments.services import payment_create, sandbox_complete


@pytest.fixture
def group_deal(operator, make_product, make_circle):
    """A circle and a 2-person group campaign limited to it."""
    from quanzi.groupbuy.services import campaign_create

    sku = make_product(title="奶粉", price=30000, supply_price=20000, stock=50).skus.get()
    campaign = campaign_create(
        title="奶粉 2 人团",
        skus=[{"sku_id": sku.pk, "group_price": 26000}],
        group_size=2,
        group_ttl_seconds=3600,
        per_user_limit=5,
        stock=20,
        commission_enabled=True,
    )
    circle = make_circle()
    made = operator.api.post(
        f"/admin/circles/{circle.pk}/deals", {"kind": "group", "ref_id": campaign.pk}
    )
    assert made.status_code == 201, made.content
    return circle, campaign, sku


def open_group(user, campaign, sku):
    address = own_address(user)
    return user.api.post(
        "/groups",
        {"campaign_id": campaign.pk, "sku_id": sku.pk, "qty": 1, "address_id": address.pk},
    )


def test_a_circle_group_deal_is_refused_to_non_members(make_user, group_deal):
    circle, campaign, sku = group_deal
    stranger = make_user()
    refused = open_group(stranger, campaign, sku)
    assert refused.status_code == 403
    assert refused.json()["code"] == "circle_members_only"
    assert refused.json()["detail"]["circle_ids"] == [circle.pk]
    assert not Order.objects.filter(user=stranger).exists()  # nothing half-placed
    sku.refresh_from_db()
    assert sku.stock == 50


def test_a_member_buys_and_the_sale_belongs_to_the_circle(make_user, group_deal):
    circle, campaign, sku = group_deal
    member = make_user()
    circle_join(circle_id=circle.pk, user=member)
    placed = open_group(member, campaign, sku)
    assert placed.status_code == 201, placed.content
    sale = Sale.objects.get(order_id=placed.json()["order_id"])
    assert (sale.circle_id, sale.owner_id, sale.user_id) == (circle.pk, circle.owner_id, member.pk)


def test_leaving_mid_deal_keeps_the_order_and_loses_access(make_user, group_deal):
    circle, campaign, sku = group_deal
    member = make_user()
    circle_join(circle_id=circle.pk, user=member)
    first = open_group(member, campaign, sku)
    assert first.status_code == 201
    circle_leave(circle_id=circle.pk, user=member)
    order = Order.objects.get(pk=first.json()["order_id"])
    payment = payment_create(order_id=order.pk, user=member, gateway="sandbox")
    sandbox_complete(payment_id=payment.pk, user=member)
    order.refresh_from_db()
    assert order.status in ("grouping", "paid")  # the order placed as a member stays
    again = open_group(member, campaign, sku)
    assert again.status_code == 403 and again.json()["code"] == "circle_members_only"


def test_a_circle_coupon_is_refused_to_non_members_at_claim_and_at_placement(
    make_user, make_product, make_circle, operator
):
    from quanzi.marketing.models import Coupon
    from quanzi.marketing.services import coupon_claim, coupon_template_create

    circle = make_circle()
    template = coupon_template_create(
        data={
            "name": "圈友专享 减 10 元",
            "kind": "amount_off",
            "amount": 1000,
            "threshold": 5000,
            "scope": "all",
            "valid_days": 5,
            "total": 100,
            "per_user_limit": 1,
        }
    )
    operator.api.post(
        f"/admin/circles/{circle.pk}/deals", {"kind": "coupon", "ref_id": template.pk}
    )
    sku = make_product(price=6000, supply_price=3000).skus.get()
    outsider, member, leaver = make_user(), make_user(), make_user()
    circle_join(circle_id=circle.pk, user=member)
    circle_join(circle_id=circle.pk, user=leaver)

    # A non-member cannot even take the coupon; nothing was issued.
    refused = outsider.api.post(f"/coupon-templates/{template.pk}/claim")
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "circle_members_only"
    assert not Coupon.objects.filter(user=outsider).exists()
    template.refresh_from_db()
    assert template.issued == 0

    def place(person, coupon):
        body = {
            "items": [{"sku_id": sku.pk, "qty": 1}],
            "address_id": own_address(person).pk,
            "coupon_id": coupon.pk,
        }
        return person.api.post("/orders", body)

    answer = place(member, coupon_claim(user=member, template_id=template.pk))
    assert answer.status_code == 201, answer.content
    assert answer.json()["discount"] == 1000
    # Someone who claimed as a member and then left keeps the coupon but cannot use it.
    kept = coupon_claim(user=leaver, template_id=template.pk)
    circle_leave(circle_id=circle.pk, user=leaver)
    answer = place(leaver, kept)
    assert answer.status_code == 403 and answer.json()["code"] == "circle_members_only"


def test_the_owner_takes_level_one_and_never_a_third(
    make_user, make_product, make_circle, operator
):
    from quanzi.accounts.services import referrer_bind
    from quanzi.marketing.services import coupon_claim, coupon_template_create

    # The buyer has a referrer of its own, and the owner has an upline chain of two.
    top, mid = make_user(nickname="上上级"), make_user(nickname="上级")
    circle = make_circle()
    owner = circle.owner
    referrer_bind(user=mid, referrer=top, source="test")
    referrer_bind(user=owner, referrer=mid, source="test")
    buyer_referrer = make_user(nickname="买家的推荐人")
    buyer = make_user(nickname="圈友")
    referrer_bind(user=buyer, referrer=buyer_referrer, source="test")
    circle_join(circle_id=circle.pk, user=buyer)
    template = coupon_template_create(
        data={
            "name": "圈友券",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 0,
            "scope": "all",
            "valid_days": 5,
            "total": 10,
            "per_user_limit": 1,
        }
    )
    operator.api.post(
        f"/admin/circles/{circle.pk}/deals", {"kind": "coupon", "ref_id": template.pk}
    )
    sku = make_product(price=10000, supply_price=5000).skus.get()
    coupon = coupon_claim(user=buyer, template_id=template.pk)
    order = order_place(
        user=buyer,
        items=[{"sku_id": sku.pk, "qty": 1}],
        address_id=own_address(buyer).pk,
        coupon_id=coupon.pk,
    )
    sandbox_complete(
        payment_id=payment_create(order_id=order.pk, user=buyer, gateway="sandbox").pk, user=buyer
    )
    earned = {(c.level, c.beneficiary_id, c.source) for c in Commission.objects.filter(order=order)}
    assert earned == {(1, owner.pk, "circle"), (2, mid.pk, "referrer")}
    assert not Commission.objects.filter(beneficiary__in=[top, buyer_referrer]).exists()
    settle(order)
    owner_commission = Commission.objects.get(order=order, level=1)
    assert owner_commission.settled_at is not None  # the ledger check runs after the test


@pytest.mark.parametrize("levels", [1, 2])
def test_joining_pays_nothing_in_any_configuration(make_user, make_circle, levels, dist_settings):
    from quanzi.accounts.services import referrer_bind
    from quanzi.marketing.models import PointsTxn

    dist_settings(levels=levels, enabled=True)
    circle = make_circle(join_policy="invite")
    inviter = make_user()
    circle_join(circle_id=circle.pk, user=inviter, invite_token=_invite(circle, circle.owner))
    referrer_bind(user=inviter, referrer=circle.owner, source="test")
    entries_before, points_before = Entry.objects.count(), PointsTxn.objects.count()
    for _ in range(3):
        newcomer = make_user()
        circle_join(circle_id=circle.pk, user=newcomer, invite_token=_invite(circle, inviter))
    assert Entry.objects.count() == entries_before
    assert not Commission.objects.exists()
    assert PointsTxn.objects.count() == points_before


def _invite(circle, user) -> str:
    from quanzi.circles.members import invite_create

    return invite_create(circle_id=circle.pk, user=user).token


def test_a_suspended_circles_deals_are_closed_to_its_members(make_user, group_deal, operator):
    circle, campaign, sku = group_deal
    member = make_user()
    circle_join(circle_id=circle.pk, user=member)
    operator.api.post(f"/admin/circles/{circle.pk}/suspend", {"reason": "整改"})
    refused = open_group(member, campaign, sku)
    assert refused.status_code == 403


def test_deal_listing_shows_what_the_buyer_needs(anon, group_deal):
    circle, campaign, sku = group_deal
    items = anon.get(f"/circles/{circle.pk}/deals").json()["items"]
    assert [(d["kind"], d["ref_id"], d["price"], d["sku_id"]) for d in items] == [
        ("group", campaign.pk, 26000, sku.pk)
    ]


def test_circle_health_gmv_is_net_of_refunds(make_user, make_product, make_circle, operator):
    from quanzi.circles.health import circle_health_compute
    from quanzi.circles.models import HealthDay
    from quanzi.marketing.services import coupon_claim, coupon_template_create
    from quanzi.orders import refunds
    from quanzi.orders.models import OrderLine, Refund

    circle = make_circle()
    template = coupon_template_create(
        data={
            "name": "圈友券",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 0,
            "scope": "all",
            "valid_days": 5,
            "total": 10,
            "per_user_limit": 1,
        }
    )
    operator.api.post(
        f"/admin/circles/{circle.pk}/deals", {"kind": "coupon", "ref_id": template.pk}
    )
    buyer = make_user()
    circle_join(circle_id=circle.pk, user=buyer)
    sku = make_product(price=10000, supply_price=5000).skus.get()
    order = order_place(
        user=buyer,
        items=[{"sku_id": sku.pk, "qty": 2}],
        address_id=own_address(buyer).pk,
        coupon_id=coupon_claim(user=buyer, template_id=template.pk).pk,
    )
    sandbox_complete(
        payment_id=payment_create(order_id=order.pk, user=buyer, gateway="sandbox").pk, user=buyer
    )
    order.refresh_from_db()
    paid = order.payable
    assert Sale.objects.get(order=order).paid_at is not None

    def gmv_today() -> int:
        circle_health_compute(circle=circle)
        return HealthDay.objects.filter(circle=circle).order_by("-day").first().gmv

    assert gmv_today() == paid
    line = OrderLine.objects.get(order=order)
    refund = refunds.refund_operator_create(
        order_id=order.pk, lines=[{"line_id": line.pk, "qty": 1}], reason="破损", operator=operator
    )
    refund.refresh_from_db()
    assert refund.status == "succeeded" and 0 < refund.amount < paid
    assert gmv_today() == paid - refund.amount
    assert Refund.objects.filter(order=order).count() == 1
