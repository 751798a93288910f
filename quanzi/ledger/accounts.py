"""The ledger's chart of accounts: codes and how they are found or made.

Money flows (debit +, credit -):
- payment captured:   gateway:<gw> +X, customer_funds -X
- refund:             customer_funds +R, gateway:<gw> -R   (after settlement and for
                      an applied payment: platform_revenue +R instead of customer_funds)
- refund paid offline by the operator (the gateway could not complete it):
                      customer_funds (or platform_revenue) +R, refunds_offline -R, then
                      refunds_offline +R, gateway:<gw> -R
- shipping kept:      customer_funds +S, platform_revenue -S (a shipped order refunded
                      in full: the fee the customer paid is not returned)
- settlement:         customer_funds +X, supplier_payable -cost, platform_revenue -rest,
                      (and, from the feature apps, commissions, leader fees, subsidies)

The rules behind these flows, and what ``quanzi ledger check`` proves about them, are
in docs/ledger.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from quanzi.ledger.models import CNY, Account

CUSTOMER_FUNDS = "customer_funds"
PLATFORM_REVENUE = "platform_revenue"
MARKETING_SUBSIDY = "marketing_subsidy"
PAYOUTS = "payouts"
REFUNDS_OFFLINE = "refunds_offline"
WITHDRAWALS_PENDING = "withdrawals_pending"


def gateway(name: str) -> str:
    return f"gateway:{name}"


def supplier_payable(supplier_id: int | None) -> str:
    return f"supplier_payable:{supplier_id or 0}"


def user_account(user_id: int, purpose: str) -> str:
    return f"user:{user_id}:{purpose}"


_ids: dict[str, int] = {}


def clear_cache() -> None:
    _ids.clear()


def account_id(
    code: str, *, unit: str = CNY, user_id: int | None = None, no_overdraw: bool = False
) -> int:
    """The id of the account ``code``, created on first use (ids are cached per process)."""
    spec = AccountSpec(code, unit=unit, user_id=user_id, no_overdraw=no_overdraw)
    return account_ids([spec])[code]


@dataclass(frozen=True)
class AccountSpec:
    """What an account is made with on first use."""

    code: str
    unit: str = CNY
    user_id: int | None = None
    no_overdraw: bool = False


def account_ids(specs: Iterable[AccountSpec]) -> dict[str, int]:
    """The ids of many accounts by code: one query for those not cached, one insert and
    one more query for those missing (ids are cached per process once committed)."""
    wanted = {spec.code: spec for spec in specs}
    found = {code: _ids[code] for code in wanted if code in _ids}
    missing = [code for code in wanted if code not in found]
    if missing:
        found.update(_by_code(missing))
        new = [wanted[code] for code in missing if code not in found]
        if new:
            Account.objects.bulk_create(
                [
                    Account(
                        code=spec.code,
                        unit=spec.unit,
                        user_id=spec.user_id,
                        cached=spec.user_id is not None,
                        no_overdraw=spec.no_overdraw,
                    )
                    for spec in new
                ],
                ignore_conflicts=True,  # made meanwhile by another transaction: fine
            )
            found.update(_by_code([spec.code for spec in new]))
        fetched = {code: found[code] for code in missing}
        transaction.on_commit(lambda: _ids.update(fetched))
    return found


def _by_code(codes: list[str]) -> dict[str, int]:
    return dict(Account.objects.filter(code__in=codes).values_list("code", "id"))
