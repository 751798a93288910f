"""Group buying (拼团).

How it works
------------
* The operator sets up a **campaign** on the SKUs of one product: group price per SKU
  and an optional leader price (团长价), group size (2–100), how long one group stays
  open, the campaign window, a per-user limit (units one person holds across all their
  groups of the campaign), the units allotted to the campaign, and an optional simulated
  fill (模拟成团) for groups missing at most *k* members at expiry.
* Every group order goes through the one order pipeline as channel ``"group"``
  (``channel.GroupChannel``): the core reserves SKU stock and prices the order; the
  channel prices the line at the group (or leader) price, takes units from the
  campaign's allotment and the person's limit with conditional UPDATEs. A join takes its
  slot (a ``GroupMember`` row, first a *hold* without an order) before the order, in a
  short transaction of its own under the lock of the ``Group`` row
  (``channel.slot_take``); the order attaches to the hold, without that lock, and a join
  that fails frees it. An opening creates its group and the leader's slot with the order.
* Opening a group makes it ``pending``; it becomes ``forming`` (visible, joinable, with
  its countdown) only when the leader has paid. Joining reserves a slot for the order's
  payment window (never longer than the group's own lifetime); an unpaid reservation
  counts toward the size, and when the payment window ends the orders sweep cancels the
  order, which frees the slot. Orders stay ``grouping`` until the group succeeds.
* **Success**: the payment that makes the paid members reach the size moves the group to
  ``succeeded`` and its own order to ``to_ship`` in its transaction; the other members'
  orders follow right after commit, together in one transaction of their own
  (``services.group_ship``; the ``groupbuy.ship_stragglers`` sweep is the safety net),
  so that transaction never waits for another member's order (see "Locks"). Orders of
  a group that has not succeeded never ship (``GroupChannel.may_ship``).
* **Failure**: the ``groupbuy.expire_groups`` sweep fails groups whose time ran out. One
  short transaction marks the group ``failed``; then each paid member's order gets an
  approved full refund record (``refund_create_auto``) in a transaction of its own, so
  a member whose order is busy with another refund (a second payment being returned)
  waits alone and the ``groupbuy.refund_stragglers`` sweep refunds it once that is
  done. The money moves after commit, idempotent on the refund number and retried by
  ``payments.retry_refunds`` until the gateway confirms. Unpaid member orders are past
  their payment window already and the payment-timeout sweep cancels them. Stock (SKU
  and campaign allotment) comes back when a refund succeeds; coupons and points through
  the order observers. Members are notified.
* **Simulated fill**: at expiry a forming group missing at most *k* members succeeds;
  the platform buys the missing units from the supplier at supply cost, booked once as
  ``Dr marketing_subsidy / Cr supplier_payable:<supplier>`` under the key
  ``groupfill:<group_id>`` (one unit of the leader's SKU per missing member: the supplier
  granted the group price for a full group). No goods move for the missing members.
* **A payment for a lost slot** is returned automatically: a payment for an order that
  was cancelled is refunded by the payments app ("unapplied"); a payment that arrives for
  a still-pending order of a group that closed meanwhile marks the member ``lost`` and
  refunds the order in full right after commit (and, should that be interrupted, the
  ``groupbuy.refund_stragglers`` sweep does it).

Rules and decisions
-------------------
* **Locks.** "Is the group full?" is only answered under the ``Group`` row lock, by
  counting the members that hold a place (paid, reserved, or a hold whose order is being
  placed); a join holds that lock only for the decision, never while its order is
  written, and a hold that ran out (``HOLD_SECONDS``) is released under it. Every path follows the project's one lock
  order (docs/architecture.md, "Lock order"): order → SKU → campaign → per-user quota →
  group, and nothing that holds the group waits for an order: a succeeding group ships
  its other members' orders after commit, and the expiry sweep locks no order at all.
  Cancelling a reservation frees its place by updating its own member row and never
  takes the group lock (except a leader's still-pending group, which nobody else can be
  in), so the payment-timeout sweep never waits on a payment in flight. The expiry sweep
  takes the group lock with ``NOWAIT`` and skips a busy group until its next run.
* **Overlapping activities** (DESIGN failure mode 10): one SKU is in at most one active
  group campaign at any moment; creating a campaign whose window overlaps an active
  campaign on any of the same SKUs is refused with ``409 campaign_overlap``. Prices never
  stack: a group order is priced at the group price only (no member price); coupons and
  points apply only where the campaign allows them (``accepts_coupons`` /
  ``accepts_points``, both off by default); distribution commission is paid on group
  orders only when the campaign's ``commission_enabled`` is on (off by default).
* **Window.** Groups are opened only while the campaign is active and inside its window;
  a group never outlives its campaign (its expiry, and the leader's payment window, are
  capped at the campaign's end). Ending a campaign early stops new groups; groups that
  are forming run to their own expiry and may still be joined.
* **Per-user limit** counts units reserved or bought in the campaign, across all the
  person's groups; cancelled and refunded units count no more.
* A group's window is its ``expires_at``: a join or a payment request after it is
  refused, and money that arrives for a place after it (a late notification) does not
  count, even before the expiry sweep has closed the group: the member's place is
  ``lost`` and the order is refunded in full. Every payment is created at the gateway
  with the order's payment deadline (never later than the group's expiry), so an old
  QR code stops taking money when the window closes.
* A group price below the supply cost is a platform subsidy: at settlement the gap is
  booked to ``marketing_subsidy`` (``channel.GroupSubsidy``).
"""
