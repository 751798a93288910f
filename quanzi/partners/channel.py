"""The ``"partner"`` selling channel and the partner-coupon gate.

**Why a channel.** A partner price is a selling mechanic of its own: it depends on who
brought the shopper and at which level, it is refused when that level is gone, and the
order must carry the partner for its reports. A ``Channel`` prices the lines, names the
order (``channel="partner"``, ``channel_ref`` = the partner's id) and is refused as a
whole when the level is missing; the ``member_terms`` pricing hook, by contrast, is one
per shop (membership fills it) and would silently fall back to retail. So partner
prices never combine with member prices: the order goes through one channel.

**Pricing.** The buyer's partner link is the one they arrived through last whose level
is still valid (``PartnerMember.level_expires_at``; the partner active); checkout may
name the partner (``extra["partner"]``, its code). Each line takes the lowest active
price of that partner for its SKU among the levels at or below the buyer's rank.
Refused: no valid level (``403 partner_level_required``), a SKU priced only for higher
levels (``403 partner_level_too_low``), a SKU not on the partner's list (``422
partner_price_unavailable``). The member row is locked (``FOR UPDATE``) for the rest of
the placement, so an arrival lowering the level waits for the order or applies before it.

**Coupons.** ``PartnerGate.on_priced`` refuses an order using a coupon of a template
limited to a partner level (``PartnerCoupon``) unless the buyer holds that level or a
higher one now (``403 partner_coupon_level_required``), in any channel.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from quanzi.core.errors import Conflict, Forbidden, Invalid
from quanzi.core.logging import get_logger
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext
from quanzi.partners.models import (
    PartnerCoupon,
    PartnerMember,
    PartnerOrder,
    PartnerPrice,
    PartnerStatus,
)

log = get_logger("quanzi.partners")

NAME = "partner"


def member_active(*, user_id, partner_code: str = "", partner_id=None, lock: bool = False):
    """The user's partner link with a valid level (the latest arrival first), or None."""
    if not user_id:
        return None
    qs = PartnerMember.objects.filter(
        user_id=user_id,
        partner__status=PartnerStatus.ACTIVE,
        level__isnull=False,
        level_expires_at__gt=timezone.now(),
    )
    if partner_code:
        qs = qs.filter(partner__code=partner_code)
    if partner_id:
        qs = qs.filter(partner_id=partner_id)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("partner", "level").order_by("-last_arrived_at", "-id").first()


def prices_for(member: PartnerMember, sku_ids) -> tuple[dict[int, int], set[int]]:
    """(lowest price per SKU at the member's rank, SKUs priced only above it)."""
    rows = PartnerPrice.objects.filter(
        partner_id=member.partner_id, is_active=True, sku_id__in=list(sku_ids)
    ).values_list("sku_id", "price", "level__rank")
    best: dict[int, int] = {}
    higher: set[int] = set()
    for sku_id, price, rank in rows:
        if rank <= member.level.rank:
            best[sku_id] = min(price, best.get(sku_id, price))
        else:
            higher.add(sku_id)
    return best, higher - set(best)


class PartnerChannel(Channel):
    name = NAME
    public_checkout = True

    def price(self, ctx: PlaceContext) -> None:
        user_id = getattr(ctx.user, "pk", None)
        member = member_active(
            user_id=user_id, partner_code=str(ctx.extra.get("partner") or ""), lock=True
        )
        if member is None:
            raise Forbidden(
                "partner_level_required", "partner prices are for the partner's members"
            )
        best, higher = prices_for(member, {line.sku.pk for line in ctx.lines})
        for line in ctx.lines:
            if line.sku.pk in best:
                line.unit_price = min(best[line.sku.pk], line.sku.price)
            elif line.sku.pk in higher:
                raise Forbidden(
                    "partner_level_too_low",
                    "this price is for a higher level of the partner",
                    {"sku_id": line.sku.pk},
                )
            else:
                raise Invalid(
                    "partner_price_unavailable",
                    "this item has no partner price",
                    {"sku_id": line.sku.pk},
                )
        ctx.channel_ref = str(member.partner_id)
        ctx.extra["_partner_member"] = member

    def describe(self, order) -> dict:
        return {}


def _coupon_gate(order) -> None:
    from quanzi.marketing.models import Coupon

    template_id = (
        Coupon.objects.filter(pk=order.coupon_id).values_list("template_id", flat=True).first()
    )
    limit = (
        PartnerCoupon.objects.select_related("level").filter(template_id=template_id).first()
        if template_id
        else None
    )
    if limit is None:
        return
    member = member_active(user_id=order.user_id, partner_id=limit.partner_id, lock=True)
    if member is None or member.level.rank < limit.level.rank:
        raise Forbidden(
            "partner_coupon_level_required",
            "this coupon is for the partner's members of a higher level",
        )


class PartnerGate(OrderObserver):
    def on_priced(self, ctx, order) -> None:
        if order.coupon_id:
            _coupon_gate(order)
        if order.channel != NAME:
            return
        member = ctx.extra.get("_partner_member")
        if member is None:  # pragma: no cover - the channel always sets it
            raise Conflict("partner_level_required", "partner orders need a partner member")
        PartnerOrder.objects.create(
            order=order,
            partner_id=member.partner_id,
            member=member,
            uid=member.uid,
            level_code=member.level.code,
        )
        log.info(
            "partner order placed",
            extra={"order_id": order.pk, "partner_id": member.partner_id, "uid": member.uid},
        )


def partner_coupon_claim(*, user, partner_code: str, template_id: int):
    """A member claims a coupon limited to their partner level."""
    from quanzi.marketing.models import Coupon
    from quanzi.marketing.services import coupon_grant

    limit = (
        PartnerCoupon.objects.select_related("level", "partner", "template")
        .filter(template_id=template_id, partner__code=partner_code)
        .first()
    )
    if limit is None:
        from quanzi.core.errors import NotFound

        raise NotFound("coupon_template_not_found", "no such coupon")
    with transaction.atomic():
        member = member_active(user_id=user.pk, partner_id=limit.partner_id, lock=True)
        if member is None or member.level.rank < limit.level.rank:
            raise Forbidden(
                "partner_coupon_level_required",
                "this coupon is for the partner's members of a higher level",
                {"level": limit.level.code},
            )
        held = Coupon.objects.filter(template_id=template_id, user_id=user.pk).count()
        if held >= limit.template.per_user_limit:
            raise Conflict(
                "already_claimed",
                "you have claimed as many of this coupon as allowed",
                {"limit": limit.template.per_user_limit},
            )
        return coupon_grant(user=user, template_id=template_id, source="partner")
