from quanzi.core.jobs import sweep
from quanzi.supply.services.tracking import shipments_track_due


@sweep("supply.track", every=1800)
def track() -> int:
    return shipments_track_due()
