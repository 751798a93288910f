"""A demo partner for ``quanzi demo``: 招商银行信用卡 with two card levels, an HMAC key
whose secret is printed by ``manage.py partner_link``, channel prices on two products
and a 白金卡-only coupon."""

from __future__ import annotations

DEMO_CODE = "cmb"
DEMO_SECRET = "quanzi-demo-partner-secret-0123456789abcdef"


def demo_step(ctx: dict) -> None:
    from quanzi.marketing.services import coupon_template_create
    from quanzi.partners import services
    from quanzi.partners.models import Partner

    if Partner.objects.filter(code=DEMO_CODE).exists():
        return
    partner = services.partner_create(name="招商银行信用卡", code=DEMO_CODE)
    services.key_rotate(partner_id=partner.pk, kind="hmac", secret=DEMO_SECRET)
    gold = services.level_set(partner_id=partner.pk, code="gold", name="金卡", rank=1)
    platinum = services.level_set(partner_id=partner.pk, code="platinum", name="白金卡", rank=2)
    for product in ctx["products"][:2]:
        sku = product.skus.order_by("id").first()
        if sku is None:
            continue
        room = sku.price - sku.supply_price
        services.price_set(
            partner_id=partner.pk, level_id=gold.pk, sku_id=sku.pk, price=sku.price - room // 5
        )
        services.price_set(
            partner_id=partner.pk, level_id=platinum.pk, sku_id=sku.pk, price=sku.price - room // 3
        )
    template = coupon_template_create(
        data={
            "name": "白金卡专享 满100减20",
            "kind": "amount_off",
            "amount": 2000,
            "threshold": 10000,
            "scope": "all",
            "valid_days": 30,
            "total": 1000,
            "per_user_limit": 1,
            "claimable": False,
        }
    )
    services.coupon_limit(partner_id=partner.pk, level_id=platinum.pk, template_id=template.pk)
