from __future__ import annotations

from quanzi.bargain.services import bargains_expire
from quanzi.core.jobs import sweep


@sweep("bargain.expire", every=60)
def expire_bargains() -> int:
    return bargains_expire()
