"""The ``membership`` selling channel and the growth observer.

A plan order is one unit of the plan's virtual SKU at the plan's price: no address, no
shipping fee, no coupon, no points, and ``commission_enabled=False`` — no one earns
anything on a membership fee (DESIGN.md: no commission on membership fees). It takes no
SKU stock. After payment the membership is activated in the payment transaction and the
order moves to ``to_ship``; right after commit it is shipped and completed (a legal path
through the order state machine; a sweep finishes any that a crash left behind).
"""

from __future__ import annotations

from quanzi.core.errors import Invalid, NotFound
from quanzi.membership import services
from quanzi.membership.models import MembershipPlan
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext


class MembershipChannel(Channel):
    name = services.CHANNEL
    reserves_sku_stock = False

    def price(self, ctx: PlaceContext) -> None:
        plan_id = ctx.extra.get("plan_id")
        plan = (
            MembershipPlan.objects.filter(pk=plan_id, is_active=True).first()
            if isinstance(plan_id, int)
            else None
        )
        if plan is None:
            raise NotFound("plan_not_found", "no such membership plan")
        lines = ctx.lines
        if len(lines) != 1 or lines[0].sku.pk != plan.sku_id or lines[0].qty != 1:
            raise Invalid("invalid_plan_order", "a plan order buys one unit of its plan")
        lines[0].unit_price = plan.price
        ctx.channel_ref = str(plan.pk)
        ctx.needs_address = False
        ctx.commission_enabled = False
        ctx.accepts_coupon = False
        ctx.accepts_points = False
        ctx.free_shipping = True

    def after_paid(self, order) -> str:
        services.membership_activate(order=order)
        return "to_ship"

    def on_refunded(self, order, refund) -> None:
        if order.status == "refunded":
            services.membership_revoke(order=order)


class MembershipObserver(OrderObserver):
    def on_priced(self, ctx: PlaceContext, order) -> None:
        # A plan's virtual SKU is sold through its own channel only.
        if order.channel != services.CHANNEL and any(
            line.sku.product.is_virtual for line in ctx.lines
        ):
            skus = [line.sku.pk for line in ctx.lines]
            if MembershipPlan.objects.filter(sku_id__in=skus).exists():
                raise Invalid(
                    "sku_unavailable", "a membership plan is bought from the membership page"
                )

    def on_paid(self, order) -> None:
        services.growth_record(order=order)

    def on_refund_succeeded(self, order, refund) -> None:
        services.growth_reverse(order=order, refund=refund)
