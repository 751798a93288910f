"""Any sequence of pay / refund (partial or whole) / complete / settle / withdraw /
approve / reject keeps the books right (``quanzi ledger check`` after every step), and
no commission is ever reversed beyond what it earned or paid above the cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quanzi.core.errors import QuanziError
from quanzi.core.money import apply_bp
from quanzi.core.platform_settings import settings_update
from quanzi.distribution import checks as distribution_checks
from quanzi.distribution import withdrawals
from quanzi.distribution.models import Commission, Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import own_address
from quanzi.ledger import checks as ledger_checks
from quanzi.ledger.accounts import clear_cache
from quanzi.ledger.checks import run_checks
from quanzi.orders import refunds, services
from quanzi.orders.models import Order, OrderLine
from quanzi.payments.services import payment_create, refunds_retry, sandbox_complete

ACTIONS = [
    "pay",
    "pay",
    "refund_unit",
    "refund_all",
    "complete",
    "complete",
    "settle",
    "settle",
    "withdraw",
    "withdraw",
    "approve",
    "reject",
]
CAP_BP = 4000
# After each step: the ledger's own invariants and distribution's (the full
# ``quanzi ledger check`` runs at the end of every example).
STEP_CHECKS = (
    ledger_checks._entries_balance,
    ledger_checks._cached_balances,
    ledger_checks._no_overdraw,
    ledger_checks._gateways_not_negative,
    *distribution_checks.INVARIANTS,
)


class World:
    def __init__(self, users, operator, skus, walk_in):
        self.top, self.mid, self.buyer, self.other = users
        self.operator, self.skus = operator, skus
        for user in (self.buyer, self.other, walk_in):
            own_address(user)
        # Like any live shop, the gateway also holds other customers' money: a withdrawal
        # paid and later clawed back by a full refund is then the distributor's debt to
        # the platform, not a gateway paying out more than it ever took in.
        self.walk_in = walk_in
        self.pay(walk_in, skus[0], 5)

    def pay(self, buyer, sku, qty):
        order = services.order_place(
            user=buyer,
            items=[{"sku_id": sku.pk, "qty": qty}],
            address_id=buyer.addresses.first().pk,
        )
        payment = payment_create(order_id=order.pk, user=buyer, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=buyer)

    def _pick(self, qs, pick):
        ids = list(qs.order_by("id").values_list("id", flat=True))
        return ids[pick % len(ids)] if ids else None

    def run(self, action, pick, qty):
        later = timezone.now() + timedelta(days=30)
        if action == "pay":
            buyer = (self.buyer, self.other)[pick % 2]
            self.pay(buyer, self.skus[pick % len(self.skus)], qty)
        elif action in ("refund_unit", "refund_all"):
            order_id = self._pick(
                Order.objects.filter(paid_at__isnull=False).exclude(user=self.walk_in), pick
            )
            if order_id is None:
                return
            lines = None
            if action == "refund_unit":
                line = OrderLine.objects.filter(order_id=order_id).first()
                lines = [{"line_id": line.pk, "qty": 1}]
            refunds.refund_operator_create(
                order_id=order_id, lines=lines, reason="", operator=self.operator
            )
        elif action == "complete":
            for order in Order.objects.filter(status="to_ship").order_by("id"):
                services.order_ship(order_id=order.pk, carrier="顺丰", tracking_no="SF")
                services.order_confirm_receipt(order_id=order.pk, user=order.user)
        elif action == "settle":
            services.orders_settle_due(now=later)
        elif action == "withdraw":
            user = (self.top, self.mid)[pick % 2]
            withdrawals.withdrawal_request(user=user, amount=50 * qty + pick * 7)
        elif action in ("approve", "reject"):
            withdrawal_id = self._pick(Withdrawal.objects.filter(status="requested"), pick)
            if withdrawal_id is None:
                return
            if action == "approve":
                withdrawals.withdrawal_approve(withdrawal_id=withdrawal_id, operator=self.operator)
            else:
                withdrawals.withdrawal_reject(withdrawal_id=withdrawal_id, operator=self.operator)
        refunds_retry(now=later)
        withdrawals.withdrawals_retry(now=later)


def _assert_commission_bounds():
    for commission in Commission.objects.select_related("line"):
        assert 0 <= commission.reversed_amount <= commission.amount
        assert commission.level in (1, 2)
    for line in OrderLine.objects.all():
        paid_out = sum(Commission.objects.filter(line=line).values_list("amount", flat=True))
        assert paid_out <= apply_bp(line.paid, CAP_BP)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 40), st.integers(1, 4)),
        min_size=1,
        max_size=14,
    )
)
def test_any_sequence_keeps_the_books(people, make_user, make_product, steps):
    with transaction.atomic():
        settings_update(
            patch={
                "distribution": {
                    "withdraw_min": 50,
                    "withdraw_fee_bp": 150,
                    "withdraw_audit_above": 300,
                    "max_commission_share_bp": CAP_BP,
                }
            }
        )
        top, mid, buyer, other = people(4)
        from quanzi.accounts.services import referrer_bind

        referrer_bind(user=mid, referrer=top, source="test")
        referrer_bind(user=buyer, referrer=mid, source="test")
        referrer_bind(user=other, referrer=top, source="test")
        operator = make_user(roles=("operator",))
        skus = [
            make_product(price=1990, supply_price=900, stock=50).skus.get(),
            make_product(
                price=777,
                supply_price=300,
                stock=50,
                commission={"level1_fixed": 150, "level2_fixed": 90},
            ).skus.get(),
        ]
        world = World([top, mid, buyer, other], operator, skus, walk_in=make_user())
        # Every run starts from settled commissions, so that withdrawals and refunds
        # after settlement are reachable in a few random steps.
        opening = [("pay", 0, 2), ("pay", 1, 3), ("complete", 0, 1), ("settle", 0, 1)]
        opening += [("withdraw", 1, 1)]
        for action, pick, qty in opening + steps:
            try:
                with transaction.atomic():
                    world.run(action, pick, qty)
            except QuanziError:
                clear_cache()  # accounts made in a rolled-back step are gone
            problems = [p for check in STEP_CHECKS for p in check()]
            assert not problems, (action, problems)
            _assert_commission_bounds()
            for user in (top, mid):
                earnings = earnings_of(user=user)
                assert earnings["pending_withdrawal"] >= 0 and earnings["withdrawn"] >= 0
        problems, _ = run_checks()  # every invariant of every app, once per run
        assert not problems, problems
        from quanzi.ledger.models import JournalEntry

        for kind in ("commission_clawback", "withdrawal_paid", "withdrawal_reject", "settlement"):
            event(f"{kind}: {JournalEntry.objects.filter(kind=kind).exists()}")
        transaction.set_rollback(True)
