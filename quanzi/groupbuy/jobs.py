from quanzi.core.jobs import drain, sweep
from quanzi.groupbuy import channel, services

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


@sweep("groupbuy.release_holds", every=60)
def release_holds() -> int:
    """Places taken for an order that never came (the process died in between)."""
    return drain(channel.holds_release_expired, batch=500)
