from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from quanzi.analytics.facts import day_start
from quanzi.storefront.tests.browser import browser, new_desktop, new_phone  # noqa: F401

DAY0 = date(2026, 11, 2)


@pytest.fixture
def history(make_user, make_product, buy, operator):
    """A generated history: a few people paying orders over five days through the API,
    some left unpaid, one refunded, one through a shop's link; then the stamps moved
    onto the days the seed chose. Returns the orders' ids."""
    from quanzi.distribution.models import Shop
    from quanzi.orders.models import Order, Refund

    rng = random.Random(7)
    sku = make_product(price=2990, stock=500).skus.get()
    owner = make_user(nickname="店主")
    shop = Shop.objects.create(owner=owner, name="小店", slug="xiaodian", share_token="shoptok")
    people = [make_user(nickname=f"p{i}") for i in range(5)]
    ids = []
    for n in range(16):
        person = rng.choice(people)
        order = buy(person, sku, qty=rng.choice([1, 2]), pay=rng.random() < 0.8)
        ids.append(order["id"])
        offset = timedelta(days=rng.randrange(5), hours=rng.randrange(1, 23))
        placed = day_start(DAY0) + offset
        Order.objects.filter(pk=order["id"]).update(created_at=placed)
        Order.objects.filter(pk=order["id"], paid_at__isnull=False).update(
            paid_at=placed + timedelta(minutes=rng.choice([5, 60 * 30]))
        )
        if n % 5 == 0:
            Order.objects.filter(pk=order["id"]).update(share_token="shoptok")
    paid = Order.objects.filter(pk__in=ids, paid_at__isnull=False).order_by("id").first()
    answer = operator.api.post(f"/admin/orders/{paid.pk}/refunds", {"reason": "坏了"})
    assert answer.status_code in (200, 201), answer.content
    Refund.objects.filter(order=paid).update(succeeded_at=paid.paid_at + timedelta(days=1))
    return {"ids": ids, "shop": shop, "people": people, "now": timezone.now()}
