from quanzi.core.jobs import drain, sweep
from quanzi.groupbuy import services

BATCH = 200


@sweep("groupbuy.expire_groups", every=30)
def expire_groups() -> int:
    return drain(services.groups_expire_due, batch=BATCH)


@sweep("groupbuy.refund_stragglers", every=300)
def refund_stragglers() -> int:
    return services.groups_refund_stragglers()


@sweep("groupbuy.ship_stragglers", every=300)
def ship_stragglers() -> int:
    return services.groups_ship_stragglers()
