"""Risk control (风控): ``risk_check(event) -> Decision(action, reason)``.

Rules in ``rules.py`` (related accounts, crowded devices / IPs / addresses / payment
accounts, bursts, claim and sign-in farms, rings, refunds after rewards, re-registration),
evaluated in ``services.py``. Every reward, commission, withdrawal, bargain help, coupon
claim, sign-in and group join asks it; every decision is a ``RiskEvent`` row, readable by operators
at ``GET /api/v1/admin/risk-events``. Thresholds live in the ``risk`` settings section.
"""
