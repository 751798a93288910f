"""The ledger's chart of accounts: codes and how they are found or made.

Money flows (debit +, credit -):
- payment captured:   gateway:<gw> +X, customer_funds -X
- refund:             customer_funds +R, gateway:<gw> -R
- settlement:         customer_funds +X, supplier_payable -cost, platform_revenue -rest,
                      (and, from the feature apps, commissions, leader fees, subsidies)
"""

from __future__ import annotations

from django.db import transaction

from quanzi.ledger.models import CNY, Account

CUSTOMER_FUNDS = "customer_funds"
PLATFORM_REVENUE = "platform_revenue"
MARKETING_SUBSIDY = "marketing_subsidy"
PAYOUTS = "payouts"
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
    cached = _ids.get(code)
    if cached is not None:
        return cached
    account, _ = Account.objects.get_or_create(
        code=code,
        defaults={
            "unit": unit,
            "user_id": user_id,
            "cached": user_id is not None,
            "no_overdraw": no_overdraw,
        },
    )
    transaction.on_commit(lambda: _ids.__setitem__(code, account.pk))
    return account.pk
