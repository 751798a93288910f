"""How much each upline earns: rates, fixed amounts, quantity, discounts, caps, levels."""

from __future__ import annotations

from quanzi.distribution.models import Commission
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import NoCommissionChannel
from quanzi.orders.channels import register_channel
from quanzi.orders.models import OrderLine


def _one_address(*users):
    """The same delivery address and phone on every account (one person's two accounts)."""
    from quanzi.accounts.services import address_create

    place = {"name": "张三", "phone": "13912345678", "province": "浙江省", "city": "杭州市"}
    place |= {"district": "西湖区", "detail": "文三路 1 号"}
    for user in users:
        address_create(user=user, data=dict(place))


def _earned(order, level):
    return {c.beneficiary_id: c.amount for c in Commission.objects.filter(order=order, level=level)}


def test_percent_rates_on_three_units_pay_both_levels(people, pay, make_product, dist_settings):
    dist_settings(level1_rate_bp=1000, level2_rate_bp=500, max_commission_share_bp=5000)
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1990, supply_price=1000).skus.get()

    order = pay(buyer, [(sku, 3)])

    line = OrderLine.objects.get(order=order)
    assert line.paid == 5970
    assert _earned(order, 1) == {mid.pk: 597}  # 10 % of 59.70
    assert _earned(order, 2) == {top.pk: 298}  # 5 % of 59.70, rounded down
    assert earnings_of(user=mid)["frozen"] == 597
    assert earnings_of(user=top)["frozen"] == 298


def test_per_product_fixed_commission_is_per_unit(people, pay, make_product):
    top, mid, buyer = people(3, chain=True)
    product = make_product(
        price=5000, supply_price=2000, commission={"level1_fixed": 300, "level2_fixed": 120}
    )

    order = pay(buyer, [(product.skus.get(), 3)])

    assert _earned(order, 1) == {mid.pk: 900}
    assert _earned(order, 2) == {top.pk: 360}
    record = Commission.objects.get(order=order, level=1)
    assert record.fixed == 300 and record.qty == 3 and record.rate_bp is None


def test_per_product_rate_overrides_the_default_on_what_the_line_really_paid(
    people, pay, make_product, monkeypatch
):
    """A member pays less than retail: commissions follow the price really paid."""
    from quanzi.orders.hooks import MemberTerms, pricing_hooks

    terms = MemberTerms(price=lambda sku: sku.member_price)
    monkeypatch.setattr(pricing_hooks, "member_terms", lambda user: terms)
    top, mid, buyer = people(3, chain=True)
    product = make_product(
        price=10_000,
        supply_price=4_000,
        member_price=8_000,
        commission={"level1_rate_bp": 2000, "level2_rate_bp": 700},
    )

    order = pay(buyer, [(product.skus.get(), 3)])

    line = OrderLine.objects.get(order=order)
    assert line.retail_price * 3 == 30_000 and line.paid == 24_000
    assert _earned(order, 1) == {mid.pk: 4_800}
    assert _earned(order, 2) == {top.pk: 1_680}


def test_cap_limits_both_levels_together_and_splits_exactly(
    people, pay, make_product, dist_settings
):
    dist_settings(max_commission_share_bp=1000)  # at most 10 % of the line in commissions
    top, mid, buyer = people(3, chain=True)
    product = make_product(
        price=1000, supply_price=500, commission={"level1_fixed": 200, "level2_fixed": 100}
    )

    order = pay(buyer, [(product.skus.get(), 3)])

    # Uncapped: 600 + 300 = 900 on a line of 3000; the cap is 300, split 2 : 1.
    assert _earned(order, 1) == {mid.pk: 200}
    assert _earned(order, 2) == {top.pk: 100}
    assert all(c.capped for c in Commission.objects.filter(order=order))


def test_cap_split_adds_up_with_an_odd_remainder(people, pay, make_product, dist_settings):
    dist_settings(max_commission_share_bp=1001)
    top, mid, buyer = people(3, chain=True)
    product = make_product(
        price=999, supply_price=100, commission={"level1_fixed": 500, "level2_fixed": 500}
    )

    order = pay(buyer, [(product.skus.get(), 1)])

    amounts = list(Commission.objects.filter(order=order).values_list("amount", flat=True))
    assert sum(amounts) == 999 * 1001 // 10_000 == 99
    assert sorted(amounts) == [49, 50]


def test_a_chain_of_four_buyers_never_pays_a_third_level(people, pay, make_product):
    a, b, c, d = people(4, chain=True)
    sku = make_product(price=10_000, supply_price=5_000).skus.get()

    orders = [pay(user, [(sku, 1)]) for user in (a, b, c, d)]

    earners = {
        order.user_id: sorted(
            (c.level, c.beneficiary_id) for c in Commission.objects.filter(order=order)
        )
        for order in orders
    }
    assert earners[a.pk] == []
    assert earners[b.pk] == [(1, a.pk)]
    assert earners[c.pk] == [(1, b.pk), (2, a.pk)]
    assert earners[d.pk] == [(1, c.pk), (2, b.pk)]  # a is three levels above d: nothing
    assert not Commission.objects.filter(beneficiary=a, buyer=d).exists()
    assert set(Commission.objects.values_list("level", flat=True)) == {1, 2}


def test_one_level_setting_pays_only_the_direct_referrer(people, pay, sku, dist_settings):
    dist_settings(levels=1)
    top, mid, buyer = people(3, chain=True)

    order = pay(buyer, [(sku, 2)])

    assert list(Commission.objects.filter(order=order).values_list("level", flat=True)) == [1]


def test_no_commission_channel_pays_nothing(people, pay, sku):
    register_channel(NoCommissionChannel())
    top, mid, buyer = people(3, chain=True)

    order = pay(buyer, [(sku, 2)], channel=NoCommissionChannel.name)

    assert order.paid_at is not None and not order.commission_enabled
    assert not Commission.objects.filter(order=order).exists()
    assert earnings_of(user=mid)["frozen"] == 0


def test_membership_fees_never_earn_even_if_flagged_for_commission():
    from quanzi.core.settings_schema import DistributionSettings
    from quanzi.distribution.commission import order_earns_commission
    from quanzi.orders.models import Order

    settings = DistributionSettings()
    assert order_earns_commission(Order(channel="normal", commission_enabled=True), settings)
    assert not order_earns_commission(
        Order(channel="membership", commission_enabled=True), settings
    )
    assert not order_earns_commission(Order(channel="group", commission_enabled=False), settings)


def test_distribution_switched_off_pays_nothing(people, pay, sku, dist_settings):
    dist_settings(enabled=False)
    _, mid, buyer = people(3, chain=True)

    pay(buyer, [(sku, 1)])

    assert not Commission.objects.exists()


def test_earning_never_requires_a_purchase(people, pay, make_product, operator, dist_settings):
    """Buying something to become a distributor is an entry fee in disguise (认购商品变相交费):
    the setting that asked for it is refused, and someone who never bought still earns."""
    refused = operator.api.put(
        "/admin/settings", {"distribution": {"qualification": "first_purchase"}}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "entry_fee_forbidden"
    assert "purchase" in refused.json()["message"]
    assert operator.api.get("/admin/settings").json()["distribution"]["qualification"] == "everyone"

    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=2000, supply_price=1000).skus.get()
    order = pay(buyer, [(sku, 1)])
    assert _earned(order, 1) == {mid.pk: 200}  # mid and top never bought anything
    assert _earned(order, 2) == {top.pk: 100}


def test_approval_qualification(people, pay, sku, operator, dist_settings):
    dist_settings(qualification="approval")
    _, mid, buyer = people(3, chain=True)

    assert not Commission.objects.filter(order=pay(buyer, [(sku, 1)])).exists()

    applied = mid.api.post("/me/distributor-application", {"real_name": "王", "reason": "朋友多"})
    assert applied.status_code == 201 and applied.json()["status"] == "applied"
    assert applied.json()["qualified"] is False
    pending = operator.api.get("/admin/distributors?status=applied").json()["items"]
    assert [p["user_id"] for p in pending] == [mid.pk]
    assert mid.api.post(f"/admin/distributors/{mid.pk}/approve", {}).status_code == 403
    approved = operator.api.post(f"/admin/distributors/{mid.pk}/approve", {})
    assert approved.status_code == 200 and approved.json()["qualified"] is True

    assert _earned(pay(buyer, [(sku, 1)]), 1) == {mid.pk: 199}

    operator.api.post(f"/admin/distributors/{mid.pk}/reject", {"note": "违规"})
    assert not Commission.objects.filter(order=pay(buyer, [(sku, 1)])).exists()


def test_becoming_a_distributor_is_free(people, pay, sku, dist_settings):
    """Applying creates no order and moves no money."""
    dist_settings(qualification="approval")
    (user,) = people(1)
    user.api.post("/me/distributor-application", {})
    assert not user.orders.exists()
    assert user.api.get("/me/earnings").json() == {
        "frozen": 0,
        "available": 0,
        "withdrawn": 0,
        "pending_withdrawal": 0,
    }


def test_share_link_sets_level_one_when_the_buyer_has_no_referrer(people, pay, sku, dist_settings):
    from quanzi.social.services import share_create

    top, sharer, buyer = people(3)
    from quanzi.accounts.services import referrer_bind

    referrer_bind(user=sharer, referrer=top, source="test")
    link = share_create(sharer=sharer, target="product", target_id=sku.product_id)

    order = pay(buyer, [(sku, 1)], share_token=link.token)

    buyer.refresh_from_db()
    assert buyer.referrer_id == sharer.pk  # bound by the order (first visit unseen)
    assert _earned(order, 1) == {sharer.pk: 199}
    assert _earned(order, 2) == {top.pk: 99}


def test_the_bound_referrer_wins_over_another_sharer(people, pay, sku):
    from quanzi.social.services import share_create

    referrer, other, buyer = people(3)
    from quanzi.accounts.services import referrer_bind

    referrer_bind(user=buyer, referrer=referrer, source="test")
    link = share_create(sharer=other, target="product", target_id=sku.product_id)

    order = pay(buyer, [(sku, 1)], share_token=link.token)

    assert _earned(order, 1) == {referrer.pk: 199}


def test_related_accounts_hold_the_commission_for_review(people, pay, sku, operator):
    """A referrer buying through its own second account (same address) is held."""
    from quanzi.distribution.tests.conftest import settle

    referrer, buyer = people(2, chain=True)
    _one_address(referrer, buyer)

    order = pay(buyer, [(sku, 2)])
    commission = Commission.objects.get(order=order)
    assert commission.held and commission.hold_reason

    settle(order)
    commission.refresh_from_db()
    assert commission.status == "frozen"  # waiting for review, not withdrawable
    assert earnings_of(user=referrer)["available"] == 0

    released = operator.api.post(f"/admin/commissions/{commission.pk}/release")
    assert released.status_code == 200 and released.json()["status"] == "available"
    assert earnings_of(user=referrer)["available"] == commission.amount


def test_voided_held_commission_goes_back_to_the_platform(people, pay, sku, operator):
    from quanzi.distribution.tests.conftest import settle
    from quanzi.ledger.services import balance

    referrer, buyer = people(2, chain=True)
    _one_address(referrer, buyer)
    order = settle(pay(buyer, [(sku, 1)]))
    commission = Commission.objects.get(order=order)
    revenue = balance("platform_revenue")

    voided = operator.api.post(f"/admin/commissions/{commission.pk}/void")

    assert voided.status_code == 200 and voided.json()["status"] == "reversed"
    assert balance("platform_revenue") == revenue - commission.amount
    assert earnings_of(user=referrer) == {
        "frozen": 0,
        "available": 0,
        "withdrawn": 0,
        "pending_withdrawal": 0,
    }
