from quanzi.core.jobs import drain_past_failures, sweep
from quanzi.orders import services

BATCH = 500
SETTLE_BATCH = 2000


@sweep("orders.expire_unpaid", every=30)
def expire_unpaid() -> int:
    return drain_past_failures(services.orders_expire_unpaid, batch=BATCH)


@sweep("orders.auto_confirm", every=300)
def auto_confirm() -> int:
    return drain_past_failures(services.orders_auto_confirm, batch=BATCH)


@sweep("orders.settle_due", every=300)
def settle_due() -> int:
    return drain_past_failures(services.orders_settle_due, batch=SETTLE_BATCH)
