"""Risk control (风控): ``risk_check(event) -> Decision(action, reason)``.

Kept simple on purpose (see ``services.py``): related accounts (device, phone, address,
address history included), bursts per user and kind, crowded devices. Every reward and
every bargain help asks it; every decision is a ``RiskEvent`` row, readable by operators
at ``GET /api/v1/admin/risk-events``. Thresholds live in the ``risk`` settings section.
"""
