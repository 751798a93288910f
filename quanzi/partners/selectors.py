"""Reads of partner channels: the offers a viewer sees."""

from __future__ import annotations

from quanzi.partners.channel import member_active
from quanzi.partners.models import Partner, PartnerPrice


def offers_for(*, partner: Partner, user) -> list[dict]:
    """Every active channel price of the partner, lowest level first, with whether the
    viewer's level (valid now) may buy at it."""
    member = member_active(user_id=getattr(user, "pk", None), partner_id=partner.pk)
    rank = member.level.rank if member is not None else 0
    rows = (
        PartnerPrice.objects.filter(
            partner=partner, is_active=True, sku__is_active=True, sku__product__is_active=True
        )
        .select_related("sku__product", "level")
        .order_by("level__rank", "sku_id")
    )
    return [
        {
            "sku_id": row.sku_id,
            "product_id": row.sku.product_id,
            "title": row.sku.product.title,
            "sku_name": row.sku.name,
            "retail": row.sku.price,
            "price": row.price,
            "level": row.level.code,
            "level_name": row.level.name,
            "available": rank >= row.level.rank,
        }
        for row in rows
    ]
