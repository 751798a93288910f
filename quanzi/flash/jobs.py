from quanzi.core.jobs import sweep
from quanzi.flash.reconcile import reconcile


@sweep("flash.reconcile", every=15)
def reconcile_sweep() -> int:
    return reconcile().total()
