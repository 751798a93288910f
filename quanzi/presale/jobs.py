from quanzi.core.jobs import drain_past_failures, sweep
from quanzi.presale.services import sales


@sweep("presale.decide", every=60)
def decide() -> int:
    return sales.presales_decide_due()


@sweep("presale.close_unpaid_deposits", every=60)
def close_unpaid_deposits() -> int:
    return drain_past_failures(sales.bookings_close_unpaid_due, batch=200)


@sweep("presale.unwind", every=60)
def unwind() -> int:
    return drain_past_failures(sales.bookings_unwind_due, batch=200)


@sweep("presale.voter_coupons", every=600)
def voter_coupons() -> int:
    return sales.voter_coupons_due()
