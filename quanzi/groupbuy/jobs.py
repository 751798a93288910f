from quanzi.core.jobs import sweep
from quanzi.groupbuy import services


@sweep("groupbuy.expire_groups", every=30)
def expire_groups() -> int:
    return services.groups_expire_due()


@sweep("groupbuy.refund_stragglers", every=300)
def refund_stragglers() -> int:
    return services.groups_refund_stragglers()
