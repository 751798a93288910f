"""Partner invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections.abc import Iterator

from quanzi.ledger.checks import invariant
from quanzi.orders.models import Order
from quanzi.partners.models import PartnerCode, PartnerOrder

LIMIT = 20


@invariant("partner orders carry their partner")
def _orders_attributed() -> Iterator[str]:
    """Every order of the partner channel has its attribution row naming the same
    partner as ``channel_ref``, and no attribution row points at another channel."""
    shown = 0
    rows = Order.objects.filter(channel="partner").values_list("id", "channel_ref")
    attributed = dict(PartnerOrder.objects.values_list("order_id", "partner_id"))
    for order_id, ref in rows.iterator():
        partner_id = attributed.pop(order_id, None)
        if partner_id is None or str(partner_id) != ref:
            yield f"partner order {order_id} names partner {ref} but is attributed to {partner_id}"
            shown += 1
            if shown >= LIMIT:
                return
    for order_id in list(attributed)[: LIMIT - shown]:
        yield f"order {order_id} is attributed to a partner but is not a partner order"


@invariant("partner codes are used once, by their member")
def _codes_once() -> Iterator[str]:
    used = PartnerCode.objects.filter(used_at__isnull=False).values_list(
        "id", "partner_id", "uid", "used_by_id"
    )
    from quanzi.partners.models import PartnerMember

    members = {
        (p, uid): user
        for p, uid, user in PartnerMember.objects.values_list("partner_id", "uid", "user_id")
    }
    shown = 0
    for code_id, partner_id, uid, user_id in used.iterator():
        if members.get((partner_id, uid)) != user_id:
            yield f"partner code {code_id} was used by user {user_id}, not the member of its uid"
            shown += 1
            if shown >= LIMIT:
                return
