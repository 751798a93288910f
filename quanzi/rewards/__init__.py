"""Lottery (抽奖) and share / invite rewards (分享有礼 / 好友裂变).

* ``lottery.py``: prize pools with weights and stock (points, coupon, product, nothing),
  free draws per day and/or a points cost, one transaction per draw, prize stock taken by
  conditional UPDATE, every draw logged with its seed, pool and roll (replayable). A won
  product is claimed with an address (``POST /lottery-draws/{id}/claim``) and ships as a
  zero-price order of the ``lottery`` channel; its supply cost is booked as marketing
  subsidy at settlement. Product units are set aside from SKU stock when the lottery is
  created and given back when it is closed.
* ``invites.py``: reward campaigns for people brought by one's share links or invite
  code, on sign-up or on their first completed paid order; each person counts once,
  never the beneficiary's own other accounts; each grant asks risk control first.
* Points and coupons are paid through the marketing app's public functions
  (``payouts.py``); who brought whom comes from accounts and social (``sources.py``).
"""
