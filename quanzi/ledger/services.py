"""Posting journal entries: balanced, idempotent, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.core.errors import Conflict
from quanzi.core.logging import get_logger
from quanzi.core.sql import insert_many, insert_many_once, rows_update
from quanzi.ledger.accounts import AccountSpec, account_ids
from quanzi.ledger.models import CNY, Account, JournalEntry, Posting

log = get_logger("quanzi.ledger")


@dataclass(frozen=True)
class Leg:
    """One posting to be written: an account code and a signed amount (debit +)."""

    account: str
    amount: int
    unit: str = CNY
    user_id: int | None = None
    no_overdraw: bool = False


class Unbalanced(ValueError):
    pass


class Overdrawn(Conflict):
    code = "insufficient_balance"


class KeyReused(Conflict):
    """A key already names an entry with other legs: the key means one movement only."""

    code = "ledger_key_reused"


@dataclass(frozen=True)
class Entry:
    """One journal entry to be written (``entries_post``)."""

    key: str
    kind: str
    legs: Sequence[Leg]
    order_id: int | None = None
    payment_id: int | None = None
    refund_id: int | None = None
    memo: str = ""


def entry_post(
    *,
    key: str,
    kind: str,
    legs: Sequence[Leg],
    order_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    memo: str = "",
) -> JournalEntry:
    """Write one balanced entry. The same ``key`` twice with the same legs returns the
    first entry, unchanged; with other legs it is an error (``KeyReused``).

    Must run inside the transaction of the business change that causes it.
    """
    entry = Entry(key, kind, legs, order_id, payment_id, refund_id, memo)
    written = entries_post([entry])
    if not written:  # the key was taken: that entry stands
        return JournalEntry.objects.get(key=key)
    return written[0]


def entries_post(entries: Sequence[Entry]) -> list[JournalEntry]:
    """Write many balanced entries in a handful of statements, whatever their number.

    An entry whose key is already taken with the same legs is left out (the first one
    stands: a replay is a no-op); taken with other legs, the whole call is refused
    (``KeyReused``). The entries written now are returned. Must run inside the business
    transaction; a leg that would overdraw a ``no_overdraw`` account refuses the whole
    call (``Overdrawn``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger entries are written inside the business transaction")
    for entry in entries:
        _check_balanced(entry)
    now = timezone.now()
    rows = [
        JournalEntry(
            key=entry.key,
            kind=entry.kind,
            order_id=entry.order_id,
            payment_id=entry.payment_id,
            refund_id=entry.refund_id,
            memo=entry.memo[:200],
            created_at=now,
        )
        for entry in entries
    ]
    # One statement, no read first and no savepoint; a concurrent writer of the same key
    # is waited for by the database.
    written = insert_many_once(rows, unique="key")
    specs: dict[str, Entry] = {}
    for entry in entries:
        first = specs.setdefault(entry.key, entry)
        if first is not entry and _net(first.legs) != _net(entry.legs):
            raise _reused(entry.key)
    if len(written) < len(specs):
        _same_as_booked([specs[key] for key in specs.keys() - {row.key for row in written}])
    if not written:
        return []
    legs = [(row, leg) for row in written for leg in specs[row.key].legs if leg.amount != 0]
    ids = account_ids(
        AccountSpec(leg.account, leg.unit, leg.user_id, leg.no_overdraw) for _, leg in legs
    )
    postings = []
    user_totals: dict[int, int] = defaultdict(int)
    guarded: set[int] = set()
    for row, leg in legs:
        acc_id = ids[leg.account]
        postings.append(Posting(entry=row, account_id=acc_id, unit=leg.unit, amount=leg.amount))
        if leg.user_id is not None:  # user accounts keep a cached balance
            user_totals[acc_id] += leg.amount
            if leg.no_overdraw:
                guarded.add(acc_id)
    _balances_add(user_totals, guarded, accounts={ids[leg.account]: leg.account for _, leg in legs})
    insert_many(postings)  # one INSERT; their ids are not needed here
    for row in written:
        log.info(
            "ledger entry",
            extra={
                "key": row.key,
                "kind": row.kind,
                "order_id": row.order_id,
                "payment_id": row.payment_id,
                "refund_id": row.refund_id,
                "legs": [(leg.account, leg.amount, leg.unit) for leg in specs[row.key].legs],
            },
        )
    return written


def _net(legs: Sequence[Leg]) -> dict[tuple[str, str], int]:
    """What legs move, per account and unit (zero legs and leg order do not count)."""
    net: dict[tuple[str, str], int] = defaultdict(int)
    for leg in legs:
        net[(leg.account, leg.unit)] += leg.amount
    return {key: amount for key, amount in net.items() if amount}


def _reused(key: str) -> KeyReused:
    return KeyReused(
        "ledger_key_reused", "this ledger key already names another movement", {"key": key}
    )


def _same_as_booked(entries: Sequence[Entry]) -> None:
    """Entries whose key was taken: a replay of the same legs is fine, other legs are not.
    Only runs when a key was taken (one query)."""
    booked: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    rows = Posting.objects.filter(entry__key__in=[entry.key for entry in entries]).values_list(
        "entry__key", "account__code", "unit", "amount"
    )
    for key, code, unit, amount in rows:
        booked[key][(code, unit)] = booked[key].get((code, unit), 0) + amount
    for entry in entries:
        if {k: v for k, v in booked[entry.key].items() if v} != _net(entry.legs):
            raise _reused(entry.key)


def _check_balanced(entry: Entry) -> None:
    sums: dict[str, int] = defaultdict(int)
    for leg in entry.legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise Unbalanced(f"amounts are integers, got {leg.amount!r}")
        sums[leg.unit] += leg.amount
    if any(total != 0 for total in sums.values()):
        raise Unbalanced(f"entry {entry.key} does not balance: {dict(sums)}")


def _balances_add(totals: dict[int, int], guarded: set[int], *, accounts: dict[int, str]) -> None:
    """Add each account's total to its cached balance. A ``no_overdraw`` account holds a
    credit balance (what is owed to its user): a net debit may not take it below zero."""
    totals = {acc_id: amount for acc_id, amount in totals.items() if amount}
    if not totals:
        return

    def refuse(acc_id: int) -> Overdrawn:
        return Overdrawn(
            "insufficient_balance", "not enough balance", {"account": accounts[acc_id]}
        )

    if len(totals) == 1:  # one statement: the check rides on the update
        ((acc_id, amount),) = totals.items()
        updated = Account.objects.filter(pk=acc_id)
        if acc_id in guarded and amount > 0:
            updated = updated.filter(balance__lte=-amount)
        if updated.update(balance=F("balance") + amount) != 1:
            raise refuse(acc_id)
        return
    # Several: lock them in id order (no deadlock between two writers), check, then
    # one UPDATE for all.
    held = dict(
        Account.objects.select_for_update()
        .filter(pk__in=totals)
        .order_by("pk")
        .values_list("pk", "balance")
    )
    for acc_id, amount in sorted(totals.items()):
        if acc_id in guarded and amount > 0 and held[acc_id] + amount > 0:
            raise refuse(acc_id)
    rows_update(Account, fields=["balance"], add=["balance"], rows=sorted(totals.items()))


def balance(code: str) -> int:
    """Debits minus credits of an account, from its postings."""
    from django.db.models import Sum

    total = Posting.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)
