from quanzi.community import pickups, sweeps
from quanzi.core.jobs import sweep


@sweep("community.close_waves", every=15)
def close_waves() -> int:
    return sweeps.waves_close_due()


@sweep("community.aggregate", every=60)
def aggregate() -> int:
    return sweeps.waves_aggregate_due()


@sweep("community.shortage_refunds", every=300)
def shortage_refunds() -> int:
    return pickups.shortage_refunds_run()


@sweep("community.unpicked", every=3600)
def unpicked() -> int:
    return sweeps.orders_unpicked()
