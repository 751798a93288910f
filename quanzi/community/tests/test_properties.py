"""Any sequence of community orders, payments, cancels, refunds, the cutoff, arrival with
shortages, pickups and settlement keeps wave stock, SKU stock and the books right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quanzi.community import checks as community_checks
from quanzi.community import pickups, sweeps
from quanzi.community.models import CommunityOrder, Wave, WaveItem
from quanzi.core.errors import QuanziError
from quanzi.ledger import checks as ledger_checks
from quanzi.ledger.accounts import clear_cache
from quanzi.ledger.checks import run_checks
from quanzi.orders import refunds, services, stock_checks
from quanzi.orders.models import Order, OrderLine
from quanzi.payments.services import payment_create, refunds_retry, sandbox_complete

ACTIONS = [
    "place",
    "place",
    "pay",
    "pay",
    "cancel",
    "refund_unit",
    "close",
    "arrive",
    "pickup",
    "settle",
]
STEP_CHECKS = (
    community_checks._wave_stock,
    stock_checks._stock_conserved,
    ledger_checks._entries_balance,
    ledger_checks._no_overdraw,
)


class World:
    def __init__(self, leader, buyers, operator, skus, wave_id):
        self.leader, self.buyers, self.operator = leader, buyers, operator
        self.skus, self.wave_id = skus, wave_id

    def _pick(self, qs, pick):
        ids = list(qs.order_by("id").values_list("id", flat=True))
        return ids[pick % len(ids)] if ids else None

    def run(self, action, pick, qty):
        later = timezone.now() + timedelta(days=30)
        mine = Order.objects.filter(channel="community")
        if action == "place":
            services.order_place(
                user=self.buyers[pick % len(self.buyers)],
                items=[{"sku_id": self.skus[pick % len(self.skus)].pk, "qty": qty}],
                channel="community",
                extra={"wave_id": self.wave_id, "pickup_point_id": self.leader.point_id},
            )
        elif action == "pay":
            order_id = self._pick(mine.filter(status="pending_payment"), pick)
            if order_id:
                order = Order.objects.get(pk=order_id)
                payment = payment_create(order_id=order_id, user=order.user, gateway="sandbox")
                sandbox_complete(payment_id=payment.pk, user=order.user)
        elif action == "cancel":
            order_id = self._pick(mine.filter(status="pending_payment"), pick)
            if order_id:
                services.order_cancel(order_id=order_id, reason="test")
        elif action == "refund_unit":
            order_id = self._pick(mine.filter(status="to_ship"), pick)
            if order_id:
                line = OrderLine.objects.filter(order_id=order_id).first()
                refunds.refund_operator_create(
                    order_id=order_id,
                    lines=[{"line_id": line.pk, "qty": 1}],
                    reason="",
                    operator=self.operator,
                )
        elif action == "close":
            for order_id in mine.filter(status="pending_payment").values_list("id", flat=True):
                services.order_cancel(order_id=order_id, reason="test")
            sweeps.wave_close(wave_id=self.wave_id, now=Wave.objects.get(pk=self.wave_id).cutoff_at)
            sweeps.wave_aggregate(wave_id=self.wave_id)
        elif action == "arrive":
            sku = self.skus[pick % len(self.skus)]
            pickups.arrival_confirm(
                user=self.leader,
                point_id=self.leader.point_id,
                wave_id=self.wave_id,
                shortages=[] if qty == 3 else [{"sku_id": sku.pk, "qty": qty}],
            )
        elif action == "pickup":
            co = CommunityOrder.objects.filter(code_active=True, order__status="to_ship").first()
            if co:
                pickups.pickup_verify(user=self.leader, point_id=co.point_id, code=co.code)
        elif action == "settle":
            services.orders_settle_due(now=later)
        refunds_retry(now=later)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 40), st.integers(1, 3)),
        min_size=1,
        max_size=16,
    ),
    short_pick=st.integers(0, 1),
    short_qty=st.integers(1, 3),
)
def test_any_sequence_keeps_stock_and_books(
    make_leader, make_user, make_product, operator, steps, short_pick, short_qty
):
    with transaction.atomic():
        leader = make_leader()
        buyers = [make_user(), make_user()]
        skus = [
            make_product(title=f"鲜菜 {n}", price=590, supply_price=200, stock=30).skus.get()
            for n in range(2)
        ]
        from quanzi.community.waves import wave_create

        wave = wave_create(
            sale_date=timezone.localdate(),
            cutoff_at=timezone.now() + timedelta(hours=3),
            pickup_date=timezone.localdate() + timedelta(days=1),
            items=[{"sku_id": s.pk, "price": 390, "stock": 8, "per_user_limit": 6} for s in skus],
        )
        world = World(leader, buyers, operator, skus, wave.pk)
        opening = [("place", 0, 2), ("pay", 0, 1), ("place", 1, 1), ("pay", 1, 1)]
        # After the random steps, the wave always runs to its end: cutoff, arrival (with a
        # shortage, or none), pickups, settlement, and a refund after settlement.
        tail = [("close", 0, 1), ("arrive", short_pick, short_qty), ("pickup", 0, 1)]
        tail += [("pickup", 0, 1), ("settle", 0, 1), ("refund_unit", 0, 1), ("settle", 0, 1)]
        for action, pick, qty in opening + steps + tail:
            try:
                with transaction.atomic():
                    world.run(action, pick, qty)
            except QuanziError:
                clear_cache()
            problems = [p for check in STEP_CHECKS for p in check()]
            assert not problems, (action, problems)
            for item in WaveItem.objects.filter(wave=wave):
                assert item.remaining >= 0 and item.sold >= 0
        problems, _ = run_checks()
        assert not problems, problems
        event(f"picked up: {CommunityOrder.objects.filter(picked_up_at__isnull=False).exists()}")
        event(f"short: {WaveItem.objects.filter(wave=wave, written_off__gt=0).exists()}")
        event(f"settled: {Order.objects.filter(settled_at__isnull=False).exists()}")
        transaction.set_rollback(True)
