"""Supply invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Sum

from quanzi.ledger.checks import invariant
from quanzi.ledger.models import Account, JournalEntry, Posting
from quanzi.supply.models import SupplierPayout

LIMIT = 20


@invariant("suppliers are never paid more than they are owed")
def _payables_not_overpaid() -> Iterator[str]:
    shown = 0
    rows = Account.objects.filter(code__startswith="supplier_payable:").annotate(
        posted=Sum("postings__amount")
    )
    for account in rows:
        if (account.posted or 0) > 0:
            yield f"{account.code} was paid {account.posted} more than it was owed"
            shown += 1
            if shown >= LIMIT:
                return


@invariant("every supplier payout is booked once, for its amount")
def _payouts_booked() -> Iterator[str]:
    shown = 0
    booked = {
        key: amount
        for key, amount in Posting.objects.filter(
            entry__kind="supplier_payout", account__code__startswith="supplier_payable:"
        ).values_list("entry__key", "amount")
    }
    keys = set()
    for payout in SupplierPayout.objects.order_by("id").iterator():
        keys.add(payout.entry_key)
        if booked.get(payout.entry_key) != payout.amount:
            yield (
                f"supplier payout {payout.pk} of {payout.amount} is booked as "
                f"{booked.get(payout.entry_key)}"
            )
            shown += 1
            if shown >= LIMIT:
                return
    stray = JournalEntry.objects.filter(kind="supplier_payout").exclude(key__in=keys)
    for entry in stray[:LIMIT]:
        yield f"entry {entry.pk} ({entry.key}) pays a supplier without a payout record"
