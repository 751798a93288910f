from quanzi.core.jobs import sweep
from quanzi.orders import services


@sweep("orders.expire_unpaid", every=30)
def expire_unpaid() -> int:
    return services.orders_expire_unpaid()


@sweep("orders.auto_confirm", every=300)
def auto_confirm() -> int:
    return services.orders_auto_confirm()


@sweep("orders.settle_due", every=300)
def settle_due() -> int:
    return services.orders_settle_due()
