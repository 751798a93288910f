"""Where distribution money sits in the ledger.

* ``user:<id>:commission_available`` — commissions a user may withdraw (a credit
  balance: the user-facing amount is ``-balance``). Settlement credits it; withdrawal
  requests debit it, never below zero (``no_overdraw`` on the leg, with the account row
  locked); a refund after settlement claws the commission back by debiting it, which is
  the only way it can go below zero (a debt netted from later earnings).
* ``commission_held`` — settled commissions that risk control holds for review.
* ``withdrawals_pending`` — requested and approved withdrawals not yet paid out.
* ``payout_funding:<gw>`` — the operator's payout balance at gateway ``gw`` (the account
  its transfers to people are drawn from, e.g. WeChat Pay's 运营账户). A paid withdrawal
  credits it with what the person received; it is never ``gateway:<gw>``, which holds
  what customers paid through ``gw`` and stays whole for refunds along the original path.
* ``payout_deposits`` — the operator's own money put into payout balances (a credit):
  deposits recorded ahead (``payout_funding.payout_deposit``) or, when a payout finds
  the balance short, the shortfall, booked as deposited at that moment.

Frozen commissions are not in the ledger: until settlement the money is still the
customer's (``customer_funds``) and a refund simply returns it; the commission records
carry the commitment.
"""

from __future__ import annotations

from collections.abc import Callable

from quanzi.ledger import accounts as chart
from quanzi.ledger.models import Account
from quanzi.ledger.services import Leg

AVAILABLE = "commission_available"
HELD = "commission_held"
PENDING = chart.WITHDRAWALS_PENDING
PAYOUT_DEPOSITS = "payout_deposits"
PAYOUT_FUNDING_PREFIX = "payout_funding:"
# Entries that book a paid withdrawal's money out of a payout balance (the rebook moves
# a payout booked on customers' payments before payout funding existed: migration 0002).
PAYOUT_KINDS = ("withdrawal_paid", "withdrawal_paid_rebook")


def payout_funding_code(gateway: str) -> str:
    return f"{PAYOUT_FUNDING_PREFIX}{gateway}"


def available_code(user_id: int) -> str:
    return chart.user_account(user_id, AVAILABLE)


def available_leg(user_id: int, amount: int, *, no_overdraw: bool = False) -> Leg:
    return Leg(available_code(user_id), amount, user_id=user_id, no_overdraw=no_overdraw)


def available_of(user_id: int) -> int:
    """The user's withdrawable commission (negative while a clawback debt is open)."""
    balance = (
        Account.objects.filter(code=available_code(user_id))
        .values_list("balance", flat=True)
        .first()
    )
    return -(balance or 0)


# Other earnings paid into ``commission_available`` (content's creator commissions):
# ``settled_net()`` says, per user, what that app's records settled net of reversals,
# and ``debit_kinds`` are the entry kinds with which it may take money back. ``quanzi
# ledger check`` counts them with distribution's own records. Registered from ``ready()``.
_earning_sources: dict[str, tuple[Callable[[], dict[int, int]], tuple[str, ...]]] = {}


def earnings_source_register(
    name: str, *, settled_net: Callable[[], dict[int, int]], debit_kinds: tuple[str, ...] = ()
) -> None:
    _earning_sources[name] = (settled_net, tuple(debit_kinds))


def earnings_sources() -> list[tuple[Callable[[], dict[int, int]], tuple[str, ...]]]:
    return list(_earning_sources.values())
