"""Coupon and points reads, shaped for the API and the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from quanzi.core.errors import QuanziError
from quanzi.marketing.models import Coupon, CouponStatus, CouponTemplate, PointsTxn, PointsWallet
from quanzi.marketing.points import points_balance


def coupon_template_out(template: CouponTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "kind": template.kind,
        "amount": template.amount,
        "percent_bp": template.percent_bp,
        "cap": template.cap,
        "threshold": template.threshold,
        "scope": template.scope,
        "scope_ids": list(template.scope_ids),
        "valid_days": template.valid_days,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
        "total": template.total,
        "issued": template.issued,
        "left": template.total - template.issued,
        "per_user_limit": template.per_user_limit,
        "claimable": template.claimable,
        "new_user_gift": template.new_user_gift,
        "is_active": template.is_active,
        "created_at": template.created_at,
    }


def coupon_out(coupon: Coupon) -> dict[str, Any]:
    template = coupon.template
    return {
        "id": coupon.pk,
        "template_id": template.pk,
        "name": template.name,
        "kind": template.kind,
        "amount": template.amount,
        "percent_bp": template.percent_bp,
        "cap": template.cap,
        "threshold": template.threshold,
        "scope": template.scope,
        "scope_ids": list(template.scope_ids),
        "status": coupon.status,
        "source": coupon.source,
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "order_id": coupon.order_id,
        "used_at": coupon.used_at,
        "created_at": coupon.created_at,
    }


def coupon_templates_all() -> QuerySet[CouponTemplate]:
    return CouponTemplate.objects.all()


def coupon_templates_claimable(*, now=None) -> QuerySet[CouponTemplate]:
    """What the coupon centre offers: active, claimable, not all gone, not ended."""
    now = now or timezone.now()
    return CouponTemplate.objects.filter(
        is_active=True, claimable=True, issued__lt=F("total")
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))


def coupons_of(*, user_id: int, status: str | None = None) -> QuerySet[Coupon]:
    qs = Coupon.objects.filter(user_id=user_id).select_related("template")
    if status:
        qs = qs.filter(status=status)
    return qs


def coupon_count(*, user_id: int, now=None) -> int:
    """Unused coupons the user can still use."""
    now = now or timezone.now()
    return Coupon.objects.filter(
        user_id=user_id, status=CouponStatus.UNUSED, valid_until__gt=now
    ).count()


def coupons_for_checkout(*, user, items: list[dict[str, int]]) -> list[dict[str, Any]]:
    """The user's coupons that apply to a normal checkout of ``items`` ([{sku_id, qty}]),
    each with the discount it would give, best first."""
    from quanzi.catalog.models import SKU
    from quanzi.marketing.services import coupon_check
    from quanzi.orders.channels import LineRequest, PlaceContext, channel_for

    skus = {
        sku.pk: sku
        for sku in SKU.objects.select_related("product").filter(
            pk__in=[item["sku_id"] for item in items]
        )
    }
    lines = [
        LineRequest(sku=skus[item["sku_id"]], qty=item["qty"])
        for item in items
        if item["sku_id"] in skus
    ]
    if not lines:
        return []
    ctx = PlaceContext(user=user, lines=lines)
    channel_for("normal").price(ctx)
    priced = [(line.sku, line.qty, line.unit_price * line.qty) for line in lines]
    usable = []
    now = timezone.now()
    for coupon in coupons_of(user_id=user.pk, status=CouponStatus.UNUSED).filter(
        valid_until__gt=now
    ):
        try:
            application = coupon_check(coupon, user_id=user.pk, lines=priced, now=now)
        except QuanziError:
            continue
        usable.append({**coupon_out(coupon), "discount": application.discount})
    usable.sort(key=lambda c: (-c["discount"], c["valid_until"]))
    return usable


def points_history(*, user_id: int) -> QuerySet[PointsTxn]:
    """Every movement the user can see (a claw-back that found nothing to take is kept
    in ``owed`` instead)."""
    return PointsTxn.objects.filter(user_id=user_id).exclude(amount=0)


def points_txn_out(txn: PointsTxn) -> dict[str, Any]:
    return {
        "amount": txn.amount,
        "reason": txn.reason,
        "kind": txn.kind,
        "order_id": txn.order_id,
        "created_at": txn.created_at,
    }


def points_summary(*, user_id: int) -> dict[str, int]:
    owed = PointsWallet.objects.filter(user_id=user_id).values_list("owed", flat=True).first()
    return {"balance": points_balance(user_id=user_id), "owed": owed or 0}
