from quanzi.core.jobs import sweep
from quanzi.distribution import services, withdrawals


@sweep("distribution.retry_payouts", every=60)
def retry_payouts() -> int:
    return withdrawals.withdrawals_retry()


@sweep("distribution.evaluate_ranks", every=3600)
def evaluate_ranks() -> int:
    return services.ranks_evaluate_all()
