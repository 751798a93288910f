"""Marketing sweeps: expire coupons and points when their time has come."""

from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.marketing.points import points_expire_due
from quanzi.marketing.services import coupons_expire_due


@sweep("marketing.coupons_expire", every=600)
def coupons_expire() -> int:
    return coupons_expire_due()


@sweep("marketing.points_expire", every=3600)
def points_expire() -> int:
    return points_expire_due()
