from quanzi.core.jobs import sweep
from quanzi.payments import services


@sweep("payments.retry_refunds", every=30)
def retry_refunds() -> int:
    return services.refunds_retry()


@sweep("payments.reconcile", every=60)
def reconcile() -> int:
    return services.payments_reconcile()
