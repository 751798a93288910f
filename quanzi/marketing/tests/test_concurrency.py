"""Concurrent claims of the last coupons (PostgreSQL, real threads): the total and the
per-user limit hold; so does one coupon for two orders at once. Taps at once by one person
are one claim or one sign-in, and risk control is asked once."""

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.marketing.models import Coupon, CouponTemplate


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency needs PostgreSQL's row locks (SQLite serializes all writers)")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_exceed_total_or_per_user_limit(make_user, make_template):
    _postgres_only()
    from quanzi.marketing.services import coupon_claim

    template = make_template(total=5, per_user_limit=2)
    users = [make_user() for _ in range(4)]
    # Each user claims three times at once: 12 claims for 5 coupons, at most 2 each.
    jobs = [
        (lambda u=user: coupon_claim(user=u, template_id=template.pk).pk)
        for user in users
        for _ in range(3)
    ]
    results = race(jobs)
    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(won) == 5
    assert set(refused) <= {"sold_out", "already_claimed"}, refused
    assert CouponTemplate.objects.get(pk=template.pk).issued == 5
    assert Coupon.objects.filter(template=template).count() == 5
    for user in users:
        assert Coupon.objects.filter(template=template, user=user).count() <= 2


@pytest.mark.django_db(transaction=True)
def test_one_user_claiming_at_once_gets_only_the_limit(make_user, make_template):
    _postgres_only()
    from quanzi.marketing.services import coupon_claim

    template = make_template(total=100, per_user_limit=1)
    user = make_user()
    results = race([lambda: coupon_claim(user=user, template_id=template.pk).pk] * 6)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sorted(r for r in results if not isinstance(r, int)) == ["already_claimed"] * 5
    from quanzi.risk.models import RiskEvent

    # The five taps that lost were answered without asking risk control: one ask, no hold.
    asks = RiskEvent.objects.filter(kind="coupon_claim", user_id=user.pk)
    assert list(asks.values_list("action", flat=True)) == ["allow"]


@pytest.mark.django_db(transaction=True)
def test_one_user_signing_in_at_once_signs_in_once(make_user):
    _postgres_only()
    from quanzi.marketing.models import SignIn
    from quanzi.marketing.services import sign_in
    from quanzi.risk.models import RiskEvent

    user = make_user()
    results = race([lambda: sign_in(user=user)["points"]] * 6)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sorted(r for r in results if not isinstance(r, int)) == ["already_signed_in"] * 5
    assert SignIn.objects.filter(user=user).count() == 1
    asks = RiskEvent.objects.filter(kind="sign_in", user_id=user.pk)
    assert list(asks.values_list("action", flat=True)) == ["allow"]


@pytest.mark.django_db(transaction=True)
def test_one_coupon_on_two_orders_at_once(make_user, make_product, make_address, coupon_for):
    _postgres_only()
    from quanzi.orders.models import Order
    from quanzi.orders.services import order_place

    user = make_user()
    address = make_address(user)
    sku = make_product(price=3000, stock=10).skus.get()
    coupon = coupon_for(user)

    def place():
        return order_place(
            user=user,
            items=[{"sku_id": sku.pk, "qty": 1}],
            address_id=address.pk,
            coupon_id=coupon.pk,
        ).pk

    results = race([place] * 4)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert set(r for r in results if not isinstance(r, int)) == {"coupon_invalid"}
    assert Order.objects.filter(coupon_id=coupon.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_points_spent_at_once_never_overdraw(make_user, make_product, make_address, give_points):
    _postgres_only()
    from quanzi.marketing.points import points_balance
    from quanzi.orders.services import order_place

    user = make_user()
    address = make_address(user)
    sku = make_product(price=10_000, supply_price=1000, stock=10).skus.get()
    give_points(user, 1000)

    def place():
        return order_place(
            user=user, items=[{"sku_id": sku.pk, "qty": 1}], address_id=address.pk, points=400
        ).pk

    results = race([place] * 4)
    assert sum(isinstance(r, int) for r in results) == 2, results
    assert points_balance(user_id=user.pk) == 200


@pytest.mark.django_db(transaction=True)
def test_sign_ups_at_once_on_one_handset_get_one_red_packet(make_template):
    _postgres_only()
    from quanzi.accounts.services import user_register

    template = make_template(name="新人红包", new_user_gift=True, total=100)
    jobs = [
        (
            lambda n=n: (
                user_register(
                    phone=f"1380013{n:04d}", password="secret123", device_id="one-handset"
                )[0].pk
            )
        )
        for n in range(3)  # within the risk rule's accounts per device
    ]
    results = race(jobs)
    assert all(isinstance(r, int) for r in results), results
    assert Coupon.objects.filter(template=template, source="new_user").count() == 1


@pytest.mark.django_db(transaction=True)
def test_paid_and_refunded_units_keep_sold_exact_under_concurrency(
    make_user, make_product, make_address
):
    _postgres_only()
    from quanzi.catalog.models import Product
    from quanzi.orders.services import order_place
    from quanzi.payments.services import payment_create, sandbox_complete

    product = make_product(price=1000, stock=100)
    sku = product.skus.get()
    buyers = [make_user() for _ in range(6)]
    orders = []
    for buyer in buyers:
        address = make_address(buyer)
        orders.append(
            (
                buyer,
                order_place(
                    user=buyer, items=[{"sku_id": sku.pk, "qty": 2}], address_id=address.pk
                ),
            )
        )

    def pay(buyer, order):
        payment = payment_create(order_id=order.pk, user=buyer, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=buyer)
        return order.pk

    results = race([(lambda b=b, o=o: pay(b, o)) for b, o in orders])
    assert all(isinstance(r, int) for r in results), results
    assert Product.objects.get(pk=product.pk).sales == 12
