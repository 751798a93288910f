"""Payout funding: where the money that withdrawals pay out comes from.

A gateway pays people from the operator's payout balance there (WeChat Pay's 运营账户,
the Alipay balance), not from the customers' payments it collected: those are booked on
``gateway:<gw>`` and stay whole for refunds along the original path, whichever gateway
the withdrawal goes through. So a paid withdrawal credits ``payout_funding:<gw>``, and
that balance is filled by the operator's own money (``payout_deposits``):

* ahead of time: ``payout_deposit`` records a top-up the operator made (idempotent on
  its reference, e.g. the bank transfer's number);
* at payout time: when the balance does not cover a payout the gateway has made, the
  shortfall is booked as deposited then (``payout_fund``), so the ledger always says
  the money was the operator's and ``payout_funding:<gw>`` never goes below zero.

``quanzi ledger check`` proves it (``distribution/checks.py``): no payout balance below
zero, payouts booked there and nowhere else, each equal to what the person received.
"""

from __future__ import annotations

import re

from django.db import transaction

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid
from quanzi.core.logging import get_logger
from quanzi.distribution import books
from quanzi.ledger.accounts import account_id
from quanzi.ledger.models import Account, JournalEntry
from quanzi.ledger.services import KeyReused, Leg, balance, entry_post

log = get_logger("quanzi.distribution")

MAX_DEPOSIT = 10**12
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _locked_balance(gateway: str) -> int:
    """The payout balance at ``gateway``, its account row locked (payouts and deposits
    through one gateway are booked one at a time)."""
    code = books.payout_funding_code(gateway)
    Account.objects.select_for_update().filter(pk=account_id(code)).first()
    return balance(code)


def payout_fund(*, gateway: str, amount: int, key: str, memo: str = "") -> int:
    """Inside the payout's transaction: make the payout balance cover ``amount``, booking
    any shortfall as the operator's deposit (entry ``key``). Returns the shortfall."""
    short = amount - max(_locked_balance(gateway), 0)
    if short <= 0:
        return 0
    entry_post(
        key=key,
        kind="payout_funding",
        legs=[
            Leg(books.payout_funding_code(gateway), short),
            Leg(books.PAYOUT_DEPOSITS, -short),
        ],
        memo=memo or f"payout balance at {gateway} topped up by the operator",
    )
    return short


def payout_deposit(*, gateway: str, amount: int, reference: str, operator: User) -> JournalEntry:
    """Record money the operator put into its payout balance at ``gateway``. The same
    ``reference`` twice records it once; with another gateway or amount it is a 409."""
    from quanzi.payments.gateways import gateway_names

    if gateway not in gateway_names():
        raise Invalid("unknown_gateway", f"no payment gateway named {gateway}")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_DEPOSIT:
        raise Invalid("invalid_amount", "a deposit is a positive number of fen")
    reference = (reference or "").strip()
    if not REFERENCE_RE.match(reference):
        raise Invalid("invalid_reference", "a reference has 1 to 64 letters, digits, or _ . : -")
    key = f"payout_deposit:{reference}"
    code = books.payout_funding_code(gateway)
    try:
        with transaction.atomic():
            _locked_balance(gateway)
            entry = entry_post(
                key=key,
                kind="payout_deposit",
                legs=[Leg(code, amount), Leg(books.PAYOUT_DEPOSITS, -amount)],
                memo=f"deposit {reference} at {gateway} by operator {operator.pk}",
            )
    except KeyReused as taken:
        # The ledger refuses a key that already names another movement.
        raise Conflict(
            "idempotency_conflict",
            "this reference was recorded with another gateway or amount",
            {"reference": reference},
        ) from taken
    log.info(
        "payout deposit",
        extra={"gateway": gateway, "amount": amount, "reference": reference},
    )
    return entry
