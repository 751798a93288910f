"""Circle-only deals: group-buy and bargain campaigns and coupon templates limited to the
members of one or more circles, and the owner's first-level place on their sales.

**The check** (``CircleDealGate.on_priced``) is an order observer: it runs inside the
placement's transaction, after the channel priced the order. It finds what the order
goes through (its group campaign, bargain campaign, coupon template); for each one that
is limited to circles, the buyer must be a member, right now, of one of those circles,
and the circle must be active. The buyer's membership rows are locked (``FOR UPDATE``)
for the rest of the placement, so a leave that runs at the same time waits and takes
effect after the order exists, never in between. Refused: ``403 circle_members_only``,
and the whole placement rolls back. Leaving later takes access to the circle's open
deals away, and keeps the orders already placed.

**The owner's earnings** (``owner_claim``): an order placed through a circle deal is
recorded as a ``Sale`` of that circle. Distribution asks its level-1 claims at payment;
this one answers with the circle's owner, who then takes level 1 by the distribution
rules (qualification, rates, cap, risk hold); level 2 is the owner's own referrer, never
a third level. Joining a circle makes no order, so it never pays anyone.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from quanzi.circles.models import (
    Circle,
    CircleStatus,
    Deal,
    DealKind,
    Membership,
    MemberStatus,
    Sale,
)
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.orders.channels import OrderObserver

log = get_logger("quanzi.circles")

GROUP_CHANNEL, BARGAIN_CHANNEL = "group", "bargain"


def _offers(order, channel_ref: str) -> list[tuple[str, int]]:
    """(deal kind, campaign or template id) the order goes through; no query for a plain
    checkout without a coupon."""
    offers: list[tuple[str, int]] = []
    if order.channel == GROUP_CHANNEL and channel_ref:
        from quanzi.groupbuy.models import Group

        campaign_id = Group.objects.filter(pk=int(channel_ref)).values_list(
            "campaign_id", flat=True
        )
        offers += [(DealKind.GROUP, cid) for cid in campaign_id]
    elif order.channel == BARGAIN_CHANNEL and channel_ref:
        from quanzi.bargain.models import Bargain

        campaign_id = Bargain.objects.filter(pk=int(channel_ref)).values_list(
            "campaign_id", flat=True
        )
        offers += [(DealKind.BARGAIN, cid) for cid in campaign_id]
    if order.coupon_id:
        from quanzi.marketing.models import Coupon

        template_id = Coupon.objects.filter(pk=order.coupon_id).values_list(
            "template_id", flat=True
        )
        offers += [(DealKind.COUPON, tid) for tid in template_id]
    return offers


def deal_circles(offers: list[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    """For each offer limited to circles, the ids of those circles."""
    limited: dict[tuple[str, int], list[int]] = {}
    if not offers:
        return limited
    kinds = {kind for kind, _ in offers}
    rows = Deal.objects.filter(kind__in=kinds, ref_id__in=[ref for _, ref in offers])
    for deal in rows.order_by("circle_id"):
        key = (deal.kind, deal.ref_id)
        if key in offers:
            limited.setdefault(key, []).append(deal.circle_id)
    return limited


def gate_check(*, user_id: int, offers: list[tuple[str, int]]) -> int | None:
    """Refuse unless the buyer is a member for every circle-only offer; returns the circle
    the sale belongs to (the first offer's first circle the buyer is in), or None."""
    limited = deal_circles(offers)
    if not limited:
        return None
    circle_ids = sorted({cid for ids in limited.values() for cid in ids})
    member_of = set(
        Membership.objects.select_for_update()
        .filter(
            user_id=user_id,
            circle_id__in=circle_ids,
            status=MemberStatus.MEMBER,
            circle__status=CircleStatus.ACTIVE,
        )
        .order_by("id")
        .values_list("circle_id", flat=True)
    )
    sale_circle = None
    for offer in offers:
        ids = limited.get(offer)
        if ids is None:
            continue
        mine = [cid for cid in ids if cid in member_of]
        if not mine:
            raise Forbidden(
                "circle_members_only",
                "this deal is for members of its circle",
                {"circle_ids": ids, "kind": offer[0], "ref_id": offer[1]},
            )
        if sale_circle is None:
            sale_circle = mine[0]
    return sale_circle


def coupon_claim_check(*, user_id: int, template_id: int) -> None:
    """A circle-only coupon template is claimed by members of one of its circles only
    (``403 circle_members_only``), not merely refused later at checkout."""
    gate_check(user_id=user_id, offers=[(DealKind.COUPON, template_id)])


class CircleDealGate(OrderObserver):
    def on_priced(self, ctx, order) -> None:
        offers = _offers(order, order.channel_ref or ctx.channel_ref)
        if not offers:
            return
        circle_id = gate_check(user_id=order.user_id, offers=offers)
        if circle_id is None:
            return
        owner_id = Circle.objects.filter(pk=circle_id).values_list("owner_id", flat=True).get()
        Sale.objects.create(
            order=order,
            circle_id=circle_id,
            user_id=order.user_id,
            owner_id=owner_id,
            amount=order.payable,
        )
        log.info(
            "circle sale placed",
            extra={"order_id": order.pk, "circle_id": circle_id, "user_id": order.user_id},
        )

    def on_paid(self, order) -> None:
        if order.channel in (GROUP_CHANNEL, BARGAIN_CHANNEL) or order.coupon_id:
            Sale.objects.filter(order_id=order.pk, paid_at__isnull=True).update(
                paid_at=timezone.now()
            )


def owner_claim(order) -> tuple[int, str] | None:
    """Distribution's level-1 claim: the owner of the circle the order was sold through."""
    if not (order.channel in (GROUP_CHANNEL, BARGAIN_CHANNEL) or order.coupon_id):
        return None
    owner_id = Sale.objects.filter(order_id=order.pk).values_list("owner_id", flat=True).first()
    return None if owner_id is None else (owner_id, "circle")


# ------------------------------------------------------------------ managing deals


def _ref_exists(kind: str, ref_id: int) -> bool:
    if kind == DealKind.GROUP:
        from quanzi.groupbuy.models import GroupCampaign as Model
    elif kind == DealKind.BARGAIN:
        from quanzi.bargain.models import BargainCampaign as Model
    elif kind == DealKind.COUPON:
        from quanzi.marketing.models import CouponTemplate as Model
    else:
        raise Invalid("validation_error", "unknown deal kind", {"field": "kind"})
    return Model.objects.filter(pk=ref_id).exists()


@transaction.atomic
def deal_add(*, circle_id: int, kind: str, ref_id: int) -> Deal:
    if not Circle.objects.filter(pk=circle_id).exists():
        raise NotFound("not_found", "no such circle")
    if not _ref_exists(kind, ref_id):
        raise NotFound("not_found", f"no such {kind}", {"ref_id": ref_id})
    deal, created = Deal.objects.get_or_create(circle_id=circle_id, kind=kind, ref_id=ref_id)
    if not created:
        raise Conflict("deal_exists", "this deal is already limited to this circle")
    log.info("circle deal added", extra={"circle_id": circle_id, "kind": kind, "ref_id": ref_id})
    return deal


def deal_remove(*, circle_id: int, deal_id: int) -> None:
    deleted, _ = Deal.objects.filter(pk=deal_id, circle_id=circle_id).delete()
    if not deleted:
        raise NotFound("not_found", "no such deal")
