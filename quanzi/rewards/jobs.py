from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.rewards.invites import rewards_scan_signups


@sweep("rewards.scan_signups", every=60)
def scan_signups() -> int:
    return rewards_scan_signups()
