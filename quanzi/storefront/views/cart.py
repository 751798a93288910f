"""Cart, "buy now" and checkout: the order is placed by ``orders.services.order_place``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.accounts.models import Address
from quanzi.catalog.models import SKU
from quanzi.core.errors import QuanziError
from quanzi.orders import services as orders
from quanzi.storefront import cart as session_cart
from quanzi.storefront import features
from quanzi.storefront.checkout import checkout_preview
from quanzi.storefront.forms import BuyForm, CheckoutForm
from quanzi.storefront.views.account import SHARE_SESSION_KEY
from quanzi.storefront.web import back, error_text, form_add_domain_error, int_or_none

CHECKOUT_FIELDS = {
    "address_required": "address_id",
    "invalid_address": "address_id",
    "coupon_invalid": "coupon_id",
    "coupon_not_allowed": "coupon_id",
    "invalid_points": "points",
    "points_not_allowed": "points",
    "points_unavailable": "points",
    "insufficient_points": "points",
}


def _sku_on_sale(sku_id: int) -> SKU | None:
    sku = SKU.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None or not sku.is_active or not sku.product.is_active:
        return None
    return sku


@require_POST
def cart_add(request):
    form = BuyForm(request.POST)
    sku = _sku_on_sale(form.cleaned_data["sku_id"]) if form.is_valid() else None
    if sku is None:
        message = (
            _("Choose a quantity between 1 and 999.")
            if "qty" in form.errors
            else _("Choose a variant.")
        )
        if request.headers.get("HX-Request"):
            return render(request, "storefront/_toast.html", {"error": message}, status=200)
        messages.error(request, message)
        return back(request, "/cart/")
    count = session_cart.cart_add(request.session, sku_id=sku.pk, qty=form.cleaned_data["qty"])
    # Analytics records it (session or account); recommendations read the signed-in
    # person's add-to-cart from that record, so it is counted once.
    features.cart_added(request, sku=sku)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "storefront/_toast.html",
            {"message": _("Added to cart"), "cart_count": count},
        )
    messages.success(request, _("Added to cart"))
    return back(request, "/cart/")


def cart_view(request):
    lines = session_cart.cart_lines(request.session, user=request.user)
    chosen = [line for line in lines if line.available]
    total = sum(line.subtotal for line in chosen)
    saving = sum(line.quote.saving * line.qty for line in chosen if line.quote.kind == "member")
    context = {"lines": lines, "total": total, "saving": saving}
    return render(request, "storefront/cart.html", context)


@require_POST
def cart_update(request):
    sku_id = int_or_none(request.POST.get("sku_id"))
    qty = int_or_none(request.POST.get("qty"))
    if sku_id is not None and qty is not None:
        session_cart.cart_set(request.session, sku_id=sku_id, qty=max(0, min(qty, 999)))
    return redirect("/cart/")


@require_POST
def cart_checkout(request):
    chosen = {int_or_none(v) for v in request.POST.getlist("sku")} - {None}
    items = [
        {"sku_id": line.sku.pk, "qty": line.qty}
        for line in session_cart.cart_lines(request.session)
        if line.sku.pk in chosen and line.available
    ]
    if not items:
        messages.error(request, _("Choose at least one item that is in stock."))
        return redirect("/cart/")
    session_cart.checkout_set(request.session, items=items, source="cart")
    return redirect("/checkout/")


@require_POST
def buy_now(request):
    form = BuyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a variant and a quantity."))
        return back(request, "/")
    sku = _sku_on_sale(form.cleaned_data["sku_id"])
    if sku is None:
        messages.error(request, _("This item is no longer on sale."))
        return back(request, "/")
    items = [{"sku_id": sku.pk, "qty": form.cleaned_data["qty"]}]
    session_cart.checkout_set(request.session, items=items, source="buy_now")
    if not request.user.is_authenticated:
        return redirect("/login/?next=/checkout/")
    return redirect("/checkout/")


def _addresses(user):
    return list(Address.objects.filter(user=user, is_deleted=False).order_by("-is_default", "-id"))


def _place(request, pending: dict, data: dict):
    """Place the order through the service of its selling channel."""
    user, items = request.user, pending["items"]
    channel, extra = pending.get("channel", "normal"), pending.get("extra") or {}
    common = {
        "address_id": data["address_id"],
        "coupon_id": data.get("coupon_id"),
        "points": data.get("points") or 0,
    }
    share_token = request.session.get(SHARE_SESSION_KEY, "")
    if channel == "group":
        from quanzi.groupbuy import services as groupbuy

        item = items[0]
        if extra.get("group_id") is not None:
            return groupbuy.group_join(
                user=user,
                group_id=extra["group_id"],
                sku_id=item["sku_id"],
                qty=item["qty"],
                share_token=share_token,
                **common,
            )
        return groupbuy.group_open(
            user=user,
            campaign_id=extra["campaign_id"],
            sku_id=item["sku_id"],
            qty=item["qty"],
            share_token=share_token,
            **common,
        )
    if channel == "bargain":
        from quanzi.bargain import services as bargain

        return bargain.bargain_buy(bargain_id=extra["bargain_id"], user=user, **common)
    if channel != "normal":
        # A channel that ``POST /orders`` may name (a partner channel) places the same way.
        from quanzi.orders.channels import channel_for

        if getattr(channel_for(channel), "public_checkout", False):
            common.update(channel=channel, extra=extra)
    return orders.order_place(
        user=user,
        items=items,
        share_token=share_token,
        note=data.get("note") or "",
        **common,
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    pending = session_cart.checkout_get(request.session)
    if pending is None:
        messages.info(request, _("Your order is empty."))
        return redirect("/cart/")
    items = pending["items"]
    channel, extra = pending.get("channel", "normal"), pending.get("extra") or {}
    addresses = _addresses(request.user)
    coupons = features.checkout_coupons(user=request.user, items=items)
    default = next(
        (a.pk for a in addresses if a.is_default), addresses[0].pk if addresses else None
    )
    data = request.POST if request.method == "POST" else None
    # The best coupon (the list is best first) is chosen until the shopper says otherwise.
    best = coupons[0]["id"] if coupons else None
    form = CheckoutForm(
        data,
        addresses=addresses,
        coupons=coupons,
        initial={"address_id": default, "points": 0, "coupon_id": best},
    )
    coupon_id, points = (best if data is None else None), None
    if data is not None:
        valid = form.is_valid()
        # A coupon or points chosen before any address exists still reprices the order.
        coupon_id = form.cleaned_data.get("coupon_id")
        points = form.cleaned_data.get("points") or 0
        if valid and request.POST.get("place"):
            try:
                order = _place(request, pending, form.cleaned_data)
            except QuanziError as exc:
                form_add_domain_error(form, exc, codes=CHECKOUT_FIELDS)
            else:
                session_cart.checkout_clear(request.session)
                return redirect(f"/orders/{order.pk}/pay/")
    preview = checkout_preview(
        user=request.user,
        items=items,
        coupon_id=coupon_id,
        points=points or 0,
        channel=channel,
        extra=extra,
    )
    if preview.error is not None and data is None and coupon_id:
        # The default coupon does not fit this order (or its channel takes none).
        form.initial["coupon_id"] = None
        coupon_id = None
        preview = checkout_preview(user=request.user, items=items, channel=channel, extra=extra)
    if preview.error is not None and (coupon_id or points):
        # Show the price without the refused coupon/points, and say why beside the field.
        if not form.errors:
            form_add_domain_error(form, preview.error, codes=CHECKOUT_FIELDS)
        preview = checkout_preview(user=request.user, items=items, channel=channel, extra=extra)
    if preview.error is not None and not form.errors:
        form.add_error(None, error_text(preview.error))
    context = {
        "form": form,
        "addresses": addresses,
        "preview": preview,
        "channel": channel,
        "preview_error": error_text(preview.error) if preview.error else "",
        "points_balance": features.points_balance(user=request.user)
        if preview.accepts_points
        else None,
        "coupons": coupons if preview.accepts_coupon else [],
        "show_coupons": preview.accepts_coupon,
    }
    # htmx asks for the whole page and keeps the summary and the total (hx-select).
    return render(request, "storefront/checkout.html", context)
