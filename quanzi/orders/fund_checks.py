"""Where an order's money is, for ``quanzi ledger check`` (registered by ``checks``).

* Per order, ``customer_funds`` holds what the customer paid less what was refunded,
  until settlement; nothing after it, and nothing once the order is refunded or
  cancelled. A payment the order never took stays the customer's until it is returned.
* Every refund moves its money out of the account its capture put it in (the customer's
  funds before settlement, platform revenue after; always the customer's funds for a
  payment the order never took) and out of the gateway it came through.
* Each settlement pays the supplier the supply price of the units the order kept.

docs/ledger.md says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Sum

from quanzi.ledger import accounts as chart
from quanzi.ledger.checks import invariant
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.orders.models import Order, OrderLine, Refund, RefundStatus
from quanzi.orders.models import Status as S

LIMIT = 20
ENDED = (S.REFUNDED, S.CANCELLED)


def _unapplied_held() -> dict[int, int]:
    """Per order: payments it never took, captured and not yet returned."""
    from quanzi.payments.models import Payment

    held: dict[int, int] = defaultdict(int)
    for order_id, amount in Payment.objects.filter(
        status=Payment.SUCCEEDED, applied=False
    ).values_list("order_id", "amount"):
        held[order_id] += amount
    for order_id, amount in Refund.objects.filter(
        kind="unapplied", status=RefundStatus.SUCCEEDED
    ).values_list("order_id", "amount"):
        held[order_id] -= amount
    return held


@invariant("customer funds per order")
def _funds_per_order() -> Iterator[str]:
    held = {
        order_id: -int(total)
        for order_id, total in Posting.objects.filter(account__code=chart.CUSTOMER_FUNDS)
        .values_list("entry__order_id")
        .annotate(total=Sum("amount"))
        .values_list("entry__order_id", "total")
        if total
    }
    if None in held:
        yield f"customer_funds holds {held.pop(None)} booked against no order"
    expected = {k: v for k, v in _unapplied_held().items() if v}
    open_orders = Order.objects.filter(paid_at__isnull=False, settled_at__isnull=True).exclude(
        status__in=ENDED
    )
    for order_id, payable, refunded in open_orders.values_list(
        "id", "payable", "refunded_amount"
    ).iterator():
        if payable - refunded:
            expected[order_id] = expected.get(order_id, 0) + payable - refunded
    wrong = sorted(k for k in held.keys() | expected.keys() if held.get(k, 0) != expected.get(k, 0))
    states = dict(Order.objects.filter(pk__in=wrong[:LIMIT]).values_list("id", "status"))
    for order_id in wrong[:LIMIT]:
        has, due = held.get(order_id, 0), expected.get(order_id, 0)
        status = states.get(order_id, "missing")
        if status in ENDED:
            yield f"order {order_id} is {status} but leaves {has - due} in customer_funds"
        else:
            yield f"order {order_id} ({status}) holds {has} in customer_funds, expected {due}"


def _refund_entries() -> dict[int, dict]:
    """Per refund: the net of its refund entries by account, and the entries' kinds."""
    found: dict[int, dict] = defaultdict(lambda: {"net": defaultdict(int), "kinds": set()})
    rows = Posting.objects.filter(entry__kind__in=["refund", "refund_offline"]).values_list(
        "entry__refund_id", "entry__kind", "account__code", "amount"
    )
    for refund_id, kind, code, amount in rows.iterator():
        found[refund_id]["net"][code] += amount
        found[refund_id]["kinds"].add(kind)
    return found


@invariant("every refund takes its money from where its capture put it")
def _refund_sources() -> Iterator[str]:
    found = _refund_entries()
    settled_entry = dict(
        JournalEntry.objects.filter(kind="settlement").values_list("order_id", "id")
    )
    refund_entry = dict(JournalEntry.objects.filter(kind="refund").values_list("refund_id", "id"))
    bad = 0
    succeeded = Refund.objects.filter(status=RefundStatus.SUCCEEDED).select_related("payment")
    for refund in succeeded.iterator():
        booked = found.pop(refund.pk, None)
        problem = _refund_problem(refund, booked, settled_entry, refund_entry)
        if problem:
            bad += 1
            yield f"refund {refund.pk} of {refund.amount}: {problem}"
            if bad >= LIMIT:
                return
    for refund_id in list(found)[:LIMIT]:
        yield f"refund entry for refund {refund_id}, which has not succeeded"


def _refund_problem(refund: Refund, booked, settled_entry, refund_entry) -> str:
    if refund.amount == 0:
        return "a zero refund has a journal entry" if booked else ""
    if booked is None:
        return "not booked"
    if refund.kind == "unapplied":
        source = chart.CUSTOMER_FUNDS
        if refund.after_settlement:
            return "a payment the order never took is marked as refunded after settlement"
    else:
        source = chart.PLATFORM_REVENUE if refund.after_settlement else chart.CUSTOMER_FUNDS
        settled_at = settled_entry.get(refund.order_id)
        booked_at = refund_entry.get(refund.pk, 0)
        if refund.after_settlement != (settled_at is not None and settled_at < booked_at):
            return "booked as if its order had " + (
                "settled" if refund.after_settlement else "not settled"
            )
    gateway = chart.gateway(refund.payment.gateway if refund.payment else "sandbox")
    net = {code: amount for code, amount in sorted(booked["net"].items()) if amount}
    if net != {source: refund.amount, gateway: -refund.amount}:
        return f"moves {net}, expected {source} +{refund.amount} and {gateway} -{refund.amount}"
    if ("refund_offline" in booked["kinds"]) != bool(refund.offline_reference):
        return "offline booking and offline proof disagree"
    return ""


@invariant("settlements pay suppliers for the units kept")
def _supplier_cost() -> Iterator[str]:
    """Each settlement credits each supplier the supply price × units the order still
    had when it settled (units refunded later are the platform's loss, not theirs)."""
    before: dict[int, int] = defaultdict(int)  # line id -> units refunded before settling
    kept_back = Refund.objects.filter(status=RefundStatus.SUCCEEDED, after_settlement=False)
    for refund in kept_back.exclude(kind="unapplied").only("lines").iterator():
        for part in refund.lines:
            before[part["line_id"]] += part["qty"]
    settled = JournalEntry.objects.filter(kind="settlement")
    due: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lines = OrderLine.objects.filter(order__settled_at__isnull=False).values_list(
        "id", "order_id", "supplier_id", "supply_price", "qty"
    )
    for line_id, order_id, supplier_id, price, qty in lines.iterator():
        due[order_id][chart.supplier_payable(supplier_id)] -= price * (qty - before[line_id])
    paid: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, code, amount in Posting.objects.filter(
        entry__in=settled, account__code__startswith="supplier_payable:"
    ).values_list("entry__order_id", "account__code", "amount"):
        paid[order_id][code] += amount
    shown = 0
    for order_id in sorted(due.keys() | paid.keys()):
        owed = {k: v for k, v in due[order_id].items() if v}
        booked = {k: v for k, v in paid[order_id].items() if v}
        if owed != booked:
            yield f"order {order_id}: settlement credits suppliers {booked}, units kept say {owed}"
            shown += 1
            if shown >= LIMIT:
                return
