"""Friend bargaining (砍价).

Decisions (DESIGN.md "Friend bargaining" and failure modes 7, 8, 10):

* **Campaign**: one SKU, start price (≤ retail) and floor price (may be 0), helpers
  min–max, time limit per bargain, bargains per user, helps per helper per day in the
  campaign, the brand-new-user bonus (``new_user_cut_bp``, 20000 = a cut twice as big),
  an allotted stock, ``buy_mode`` (``any_price`` or ``floor_only``), and whether coupons
  and points may be used (default no). ``start − floor ≥ helpers_max`` so every cut is
  at least 1 fen. One SKU is in at most one bargain campaign over any moment
  (``409 campaign_overlap``); each order goes through one channel, so prices of
  different mechanics never stack.
* **Cuts** (``cuts.py``): pure functions of the stored seed; see there. A help locks the
  bargain row, re-checks it, and writes the cut (never a price read and written back
  without a lock); one help per helper per bargain is a unique constraint; the owner
  cannot help itself.
* **Brand new** (拉新) = no paid order and registered through this bargain's share link
  (the social app's recorded conversion), never "registered a few seconds ago".
* **Risk**: each help asks ``quanzi.risk.services.risk_check`` first (logged): ``deny``
  refuses with ``403 risk_denied``; ``hold`` still helps, without the new-user bonus.
* **Buying** goes through the normal order pipeline with the ``bargain`` channel: the
  order's price is the current price, ``channel_ref`` the bargain id; the bargain is
  ``ordered`` while the order waits for payment (helps stop, the price is locked),
  ``bought`` once paid; cancelling reopens it (or expires it if its time is over).
  A bargain sold below its supply cost books the gap as marketing subsidy at settlement.
* **Expiry**: the ``bargain.expire`` sweep closes open bargains past their deadline
  (idempotent); an ``ordered`` bargain is left to its order.
* The share page reads ``selectors.bargain_share_data(bargain_id, viewer=...)``.
"""
