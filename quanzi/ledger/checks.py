"""``quanzi ledger check``: the invariants of DESIGN.md, proven on a live database.

The ledger's own checks live here; apps that own business records (orders, payments,
withdrawals…) register theirs with ``@invariant`` from their ``checks`` module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import Count, Q, Sum

from quanzi.ledger.models import Account, JournalEntry, Posting

Check = Callable[[], Iterator[str]]
_checks: dict[str, Check] = {}


def invariant(name: str) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        _checks[name] = func
        return func

    return register


@invariant("entries balance per unit")
def _entries_balance() -> Iterator[str]:
    rows = (
        Posting.objects.values("entry_id", "unit")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("entry_id")[:20]
    )
    for row in rows:
        yield f"entry {row['entry_id']} sums to {row['total']} {row['unit']}"


@invariant("every entry has postings")
def _entries_not_empty() -> Iterator[str]:
    for entry in JournalEntry.objects.annotate(n=Count("postings")).filter(n=0)[:20]:
        yield f"entry {entry.pk} ({entry.key}) has no postings"


@invariant("posting units match their accounts")
def _units_match() -> Iterator[str]:
    from django.db.models import F

    for posting in Posting.objects.exclude(unit=F("account__unit"))[:20]:
        yield f"posting {posting.pk} in {posting.unit} on an account kept in another unit"


@invariant("cached balances equal postings")
def _cached_balances() -> Iterator[str]:
    for account in (
        Account.objects.filter(cached=True)
        .annotate(posted=Sum("postings__amount"))
        .exclude(balance=0, posted__isnull=True)
    ):
        if account.balance != (account.posted or 0):
            yield f"account {account.code} caches {account.balance} but its postings sum to {account.posted or 0}"


@invariant("no overdrawn balance")
def _no_overdraw() -> Iterator[str]:
    # Accounts that hold a user's money have credit balances (<= 0); above 0 is an overdraft.
    for account in (
        Account.objects.filter(no_overdraw=True)
        .annotate(posted=Sum("postings__amount"))
        .filter(Q(posted__gt=0))
    ):
        yield f"account {account.code} is overdrawn by {account.posted}"


@invariant("gateways never pay out more than they took in")
def _gateways_not_negative() -> Iterator[str]:
    for account in Account.objects.filter(code__startswith="gateway:").annotate(
        posted=Sum("postings__amount")
    ):
        if (account.posted or 0) < 0:
            yield f"{account.code} paid out {-(account.posted or 0)} more than it took in"


# Keys that name the business object their entry is about: ``<prefix>:<id>``, the id
# in the entry's column, of the kinds listed. A key written for one object and reused
# for another (or for another kind of movement) shows here.
KEYED = {
    "payment": ("payment_id", {"payment", "payment_unapplied"}),
    "refund": ("refund_id", {"refund"}),
    "refund_offline": ("refund_id", {"refund_offline"}),
    "settle": ("order_id", {"settlement"}),
    "shipping_kept": ("order_id", {"shipping_kept"}),
}


@invariant("ledger keys name their entry")
def _keys_name_their_entry() -> Iterator[str]:
    shown = 0
    for prefix, (column, kinds) in KEYED.items():
        rows = JournalEntry.objects.filter(key__startswith=f"{prefix}:").values_list(
            "pk", "key", "kind", column
        )
        for pk, key, kind, ref in rows.iterator():
            if key != f"{prefix}:{ref}" or kind not in kinds:
                yield f"entry {pk} ({key}, {kind}) is keyed for another movement ({column} {ref})"
                shown += 1
                if shown >= 20:
                    return


def run_checks() -> tuple[list[str], dict[str, int]]:
    """Run every invariant; returns the violations and the number of rows looked at."""
    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("quanzi."):
            try:
                __import__(f"{config.name}.checks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.checks":
                    raise
    problems = []
    for name, check in _checks.items():
        for problem in check():
            problems.append(f"[{name}] {problem}")
    stats = {
        "entries": JournalEntry.objects.count(),
        "postings": Posting.objects.count(),
        "accounts": Account.objects.count(),
        "invariants": len(_checks),
    }
    return problems, stats
