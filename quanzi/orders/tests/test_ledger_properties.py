"""Any sequence of place / pay / cancel / ship / confirm / refund / settle / sweep keeps
the ledger's invariants (checked after every step, not only at the end)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanzi.catalog.models import SKU
from quanzi.core.errors import QuanziError
from quanzi.ledger.checks import run_checks
from quanzi.ledger.services import balance
from quanzi.orders import refunds, services
from quanzi.orders.models import Order, OrderLine, Refund
from quanzi.payments.services import payment_create, refunds_retry, sandbox_complete

ACTIONS = [
    "place",
    "pay",
    "cancel",
    "ship",
    "confirm",
    "refund_line",
    "refund_all",
    "settle",
    "expire",
    "late_pay",
]


class Shop:
    def __init__(self, user, operator, skus, address):
        self.user, self.operator, self.skus, self.address = user, operator, skus, address
        self.clock = timezone.now()

    def _order(self, pick):
        ids = list(Order.objects.filter(user=self.user).order_by("id").values_list("id", flat=True))
        return ids[pick % len(ids)] if ids else None

    def run(self, action, pick, qty):
        order_id = self._order(pick)
        if action == "place":
            sku = self.skus[pick % len(self.skus)]
            services.order_place(
                user=self.user, items=[{"sku_id": sku.pk, "qty": qty}], address_id=self.address.pk
            )
        elif order_id is None:
            return
        elif action in ("pay", "late_pay"):
            payment = payment_create(order_id=order_id, user=self.user, gateway="sandbox")
            if action == "late_pay":
                services.orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
            sandbox_complete(payment_id=payment.pk, user=self.user)
        elif action == "cancel":
            services.order_cancel(order_id=order_id, actor=self.user)
        elif action == "ship":
            services.order_ship(
                order_id=order_id, carrier="顺丰", tracking_no="SF", actor=self.operator
            )
        elif action == "confirm":
            services.order_confirm_receipt(order_id=order_id, user=self.user)
        elif action == "refund_line":
            line = OrderLine.objects.filter(order_id=order_id).first()
            refund = refunds.refund_request(
                order_id=order_id, user=self.user, lines=[{"line_id": line.pk, "qty": 1}], reason=""
            )
            refunds.refund_approve(refund_id=refund.pk, operator=self.operator)
        elif action == "refund_all":
            refund = refunds.refund_request(
                order_id=order_id, user=self.user, lines=None, reason=""
            )
            refunds.refund_approve(refund_id=refund.pk, operator=self.operator)
        elif action == "settle":
            services.orders_settle_due(now=timezone.now() + timedelta(days=30))
        elif action == "expire":
            services.orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
            services.orders_auto_confirm(now=timezone.now() + timedelta(days=8))
        refunds_retry(now=timezone.now() + timedelta(days=1))


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(1, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_any_sequence_keeps_the_books(make_user, make_product, make_address, steps):
    with transaction.atomic():
        user = make_user()
        operator = make_user(roles=("operator",))
        skus = [make_product(price=p, supply_price=p // 2, stock=5).skus.get() for p in (990, 2590)]
        shop = Shop(user, operator, skus, make_address(user))
        initial_stock = {sku.pk: 5 for sku in skus}
        for action, pick, qty in steps:
            try:
                with transaction.atomic():
                    shop.run(action, pick, qty)
            except QuanziError:
                pass  # refused steps must leave no trace
            problems, _ = run_checks()
            assert not problems, (action, problems)
        # Stock: the shelf plus what live orders took (less what refunds put back) is
        # exactly what we started with: never sold twice, never lost.
        for sku in skus:
            taken = sum(
                line.qty
                for line in OrderLine.objects.filter(sku=sku).exclude(order__status="cancelled")
            )
            returned = sum(
                part["qty"]
                for refund in Refund.objects.filter(status="succeeded", restock=True).exclude(
                    kind="unapplied"
                )
                for part in refund.lines
                if OrderLine.objects.get(pk=part["line_id"]).sku_id == sku.pk
            )
            shelf = SKU.objects.get(pk=sku.pk).stock
            assert shelf + taken - returned == initial_stock[sku.pk]
        assert balance("gateway:sandbox") >= 0
        transaction.set_rollback(True)
