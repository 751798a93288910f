"""Membership sweeps: expire memberships, grant monthly member coupons, finish plan orders."""

from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.membership import services


@sweep("membership.expire", every=600)
def memberships_expire() -> int:
    return services.memberships_expire()


@sweep("membership.monthly_coupons", every=3600)
def monthly_coupons() -> int:
    return services.monthly_coupons_grant()


@sweep("membership.fulfil_orders", every=60)
def fulfil_orders() -> int:
    return services.membership_orders_fulfil()
