"""Demo supplier data for ``quanzi demo``: the fresh-fruit supplier gets a login
(13800000301 / demo1234) and two paid orders of its fruit wait for it to ship."""

from __future__ import annotations

DEMO_SUPPLIER = ("13800000301", "demo1234")


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.models import Address
    from quanzi.accounts.services import user_create
    from quanzi.orders.services import order_place
    from quanzi.payments.services import payment_create, sandbox_complete

    supplier = ctx["suppliers"]["生鲜"]
    user = user_create(
        phone=DEMO_SUPPLIER[0],
        password=DEMO_SUPPLIER[1],
        nickname="王经理",
        roles=("supplier",),
    )
    supplier.user = user
    supplier.save(update_fields=["user"])
    customer = ctx["customer"]
    address = Address.objects.filter(user=customer).order_by("id").first()
    fruit = [p for p in ctx["products"] if p.supplier_id == supplier.pk][:2]
    for qty, product in enumerate(fruit, start=1):
        sku = product.skus.order_by("id").first()
        order = order_place(
            user=customer, items=[{"sku_id": sku.pk, "qty": qty}], address_id=address.pk
        )
        payment = payment_create(order_id=order.pk, user=customer, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=customer)
