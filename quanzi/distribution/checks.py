"""Distribution invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, F, Q, Sum

from quanzi.distribution import books
from quanzi.distribution.models import (
    Commission,
    CommissionReversal,
    CommissionStatus,
    Withdrawal,
    WithdrawalStatus,
)
from quanzi.ledger.checks import invariant
from quanzi.ledger.models import Account, JournalEntry, Posting

WITHDRAWAL_KINDS = ("withdrawal_request", "withdrawal_reject", "withdrawal_paid")
# The only entries that may take money out of a commission balance.
AVAILABLE_DEBITS = ("withdrawal_request", "commission_clawback")


def _available_postings():
    return Posting.objects.filter(
        account__code__startswith="user:", account__code__endswith=f":{books.AVAILABLE}"
    )


@invariant("commissions never pass two levels nor go to the buyer")
def _two_levels() -> Iterator[str]:
    for c in Commission.objects.exclude(level__in=[1, 2])[:20]:
        yield f"commission {c.pk} is at level {c.level}"
    for c in Commission.objects.filter(beneficiary_id=F("buyer_id"))[:20]:
        yield f"commission {c.pk} pays the buyer of its own order"
    crowded = Commission.objects.values("line_id").annotate(n=Count("id")).filter(n__gt=2)[:20]
    for row in crowded:
        yield f"order line {row['line_id']} pays {row['n']} commissions"


@invariant("commission reversals add up")
def _reversals_add_up() -> Iterator[str]:
    sums = dict(
        CommissionReversal.objects.values_list("commission_id")
        .annotate(total=Sum("amount"))
        .values_list("commission_id", "total")
    )
    for c in Commission.objects.filter(Q(reversed_amount__gt=0) | Q(pk__in=list(sums))).only(
        "id", "reversed_amount", "amount"
    ):
        if sums.get(c.pk, 0) != c.reversed_amount:
            yield f"commission {c.pk} reversed {c.reversed_amount} but its reversals sum to {sums.get(c.pk, 0)}"
    booked = dict(
        Posting.objects.filter(entry__kind="commission_clawback", account__code="platform_revenue")
        .values_list("entry__refund_id")
        .annotate(total=Sum("amount"))
        .values_list("entry__refund_id", "total")
    )
    expected = dict(
        CommissionReversal.objects.filter(after_settlement=True, kind="refund")
        .values_list("refund_id")
        .annotate(total=Sum("amount"))
        .values_list("refund_id", "total")
    )
    for refund_id in set(booked) | set(expected):
        if -(booked.get(refund_id) or 0) != (expected.get(refund_id) or 0):
            yield f"refund {refund_id}: clawback booked {-(booked.get(refund_id) or 0)}, reversals after settlement {expected.get(refund_id) or 0}"


@invariant("commission statuses follow settlement")
def _statuses() -> Iterator[str]:
    unsettled = Commission.objects.filter(settled_at__isnull=True, order__settled_at__isnull=False)
    for c in unsettled[:20]:
        yield f"commission {c.pk}: its order settled but the commission did not"
    wrong = Commission.objects.filter(
        Q(status__in=[CommissionStatus.AVAILABLE, CommissionStatus.WITHDRAWN])
        & (Q(settled_at__isnull=True) | Q(held=True))
    )
    for c in wrong[:20]:
        yield f"commission {c.pk} is {c.status} before it settled or while held"
    for c in Commission.objects.filter(
        status=CommissionStatus.REVERSED, reversed_amount__lt=F("amount")
    )[:20]:
        yield f"commission {c.pk} is reversed but only {c.reversed_amount} of {c.amount} was"


@invariant("commission records match the ledger")
def _records_match_ledger() -> Iterator[str]:
    earned = defaultdict(int)
    for user_id, total in (
        Commission.objects.filter(settled_at__isnull=False, held=False)
        .values_list("beneficiary_id")
        .annotate(total=Sum(F("amount") - F("reversed_amount")))
        .values_list("beneficiary_id", "total")
    ):
        earned[user_id] += int(total or 0)
    for settled_net, _kinds in books.earnings_sources():
        for user_id, total in settled_net().items():
            earned[user_id] += int(total or 0)
    for user_id, total in (
        Withdrawal.objects.exclude(status=WithdrawalStatus.REJECTED)
        .values_list("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    ):
        earned[user_id] -= int(total or 0)
    ledger = {
        user_id: -int(total or 0)
        for user_id, total in _available_postings()
        .values_list("account__user_id")
        .annotate(total=Sum("amount"))
        .values_list("account__user_id", "total")
    }
    for user_id in sorted(set(earned) | set(ledger)):
        if earned.get(user_id, 0) != ledger.get(user_id, 0):
            yield (
                f"user {user_id}: commission records say {earned.get(user_id, 0)} available, "
                f"the ledger {ledger.get(user_id, 0)}"
            )
    held = (
        Commission.objects.filter(settled_at__isnull=False, held=True).aggregate(
            total=Sum(F("amount") - F("reversed_amount"))
        )["total"]
        or 0
    )
    held_ledger = -(
        Posting.objects.filter(account__code=books.HELD).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    if held != held_ledger:
        yield f"held commissions are {held} but {books.HELD} holds {held_ledger}"


@invariant("withdrawals never overdraw a commission balance")
def _no_overdraw() -> Iterator[str]:
    running: dict[int, int] = defaultdict(int)
    debit_kinds = set(AVAILABLE_DEBITS)
    for _settled, kinds in books.earnings_sources():
        debit_kinds.update(kinds)
    rows = (
        _available_postings()
        .order_by("account_id", "entry_id", "id")
        .values_list("account_id", "account__code", "amount", "entry__kind", "entry__key")
    )
    for account_id, code, amount, kind, key in rows.iterator():
        running[account_id] -= amount  # user-facing: credits add
        if amount > 0 and kind not in debit_kinds:
            yield f"{code}: entry {key} ({kind}) takes money out of a commission balance"
        if kind == "withdrawal_request" and running[account_id] < 0:
            yield f"{code}: withdrawal {key} took the balance to {running[account_id]}"


@invariant("withdrawals match the ledger and their payouts")
def _withdrawals_booked() -> Iterator[str]:
    pending = -(
        Posting.objects.filter(
            account__code=books.PENDING, entry__kind__in=WITHDRAWAL_KINDS
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    open_total = (
        Withdrawal.objects.filter(
            status__in=[
                WithdrawalStatus.REQUESTED,
                WithdrawalStatus.APPROVED,
                WithdrawalStatus.PROCESSING,
            ]
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    if pending != open_total:
        yield f"{books.PENDING} holds {pending} but open withdrawals ask for {open_total}"
    paid_keys = set(
        JournalEntry.objects.filter(kind="withdrawal_paid").values_list("key", flat=True)
    )
    for withdrawal in Withdrawal.objects.select_related("payout").iterator():
        key = f"withdrawal:{withdrawal.pk}:paid"
        if withdrawal.status == WithdrawalStatus.PAID:
            payout = withdrawal.payout
            if key not in paid_keys:
                yield f"withdrawal {withdrawal.pk} is paid but not booked"
            if payout is None or payout.status != "succeeded":
                yield f"withdrawal {withdrawal.pk} is paid without a succeeded payout"
            elif payout.amount != withdrawal.amount - withdrawal.fee:
                yield f"withdrawal {withdrawal.pk} paid out {payout.amount}, not {withdrawal.amount - withdrawal.fee}"
        elif key in paid_keys:
            yield f"withdrawal {withdrawal.pk} is booked as paid but is {withdrawal.status}"


@invariant("payouts come from the operator's payout balances")
def _payouts_funded() -> Iterator[str]:
    for account in (
        Account.objects.filter(code__startswith=books.PAYOUT_FUNDING_PREFIX)
        .annotate(posted=Sum("postings__amount"))
        .filter(posted__lt=0)
    ):
        yield f"{account.code} paid out {-account.posted} more than the operator put in"
    on_takings = (
        Posting.objects.filter(
            account__code__startswith="gateway:", entry__kind__in=books.PAYOUT_KINDS
        )
        .values_list("account__code")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for code, total in on_takings:
        yield f"withdrawals took {-total} out of {code}, which holds customers' payments"
    booked = {
        code.removeprefix(books.PAYOUT_FUNDING_PREFIX): -int(total or 0)
        for code, total in Posting.objects.filter(
            account__code__startswith=books.PAYOUT_FUNDING_PREFIX,
            entry__kind__in=books.PAYOUT_KINDS,
        )
        .values_list("account__code")
        .annotate(total=Sum("amount"))
    }
    paid = {
        gateway: int(total or 0)
        for gateway, total in Withdrawal.objects.filter(status=WithdrawalStatus.PAID)
        .values_list("gateway")
        .annotate(total=Sum(F("amount") - F("fee")))
    }
    for gateway in sorted(set(booked) | set(paid)):
        if booked.get(gateway, 0) != paid.get(gateway, 0):
            yield (
                f"withdrawals paid {paid.get(gateway, 0)} through {gateway} but "
                f"{books.payout_funding_code(gateway)} paid out {booked.get(gateway, 0)}"
            )


# The distribution invariants, for tests that check them after every step.
INVARIANTS = (
    _two_levels,
    _reversals_add_up,
    _statuses,
    _records_match_ledger,
    _no_overdraw,
    _withdrawals_booked,
    _payouts_funded,
)
