"""My orders: list, detail, cancel, confirm receipt, refund request, cashier, sandbox pay."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.catalog.extensions import page_sections
from quanzi.core.errors import NotFound, QuanziError
from quanzi.orders import refunds, selectors, services
from quanzi.orders.channels import channel_for
from quanzi.orders.hooks import order_details_of
from quanzi.orders.models import Order, Refund
from quanzi.orders.refunds import OPEN
from quanzi.orders.states import AFTER_PAYMENT
from quanzi.payments import services as payments
from quanzi.payments.models import Payment
from quanzi.storefront import features
from quanzi.storefront.forms import RefundForm
from quanzi.storefront.poster import qr_image
from quanzi.storefront.web import domain_errors, error_text, form_add_domain_error

TABS = [
    ("", None),
    ("pending_payment", ["pending_payment"]),
    ("grouping", ["grouping"]),
    ("to_ship", ["paid", "to_ship"]),
    ("shipped", ["shipped", "delivered", "picked_up"]),
    ("completed", ["completed"]),
    ("after_sales", ["refunding", "refunded"]),
]


def _own_order(request, order_id: int) -> Order:
    try:
        order = services.order_get_for_user(user=request.user, order_id=order_id)
    except NotFound as exc:
        raise Http404("no such order") from exc
    if order.user_id != request.user.pk:
        # The storefront shows one's own orders only; operators use the dashboard.
        raise Http404("no such order")
    return order


@login_required
def order_list(request):
    tab = request.GET.get("tab") or ""
    statuses = dict(TABS).get(tab)
    qs = (
        selectors.orders_of(user_id=request.user.pk)
        .prefetch_related("lines__product__images")
        .order_by("-id")
    )
    if statuses:
        qs = qs.filter(status__in=statuses)
    page = Paginator(qs, 10).get_page(request.GET.get("page"))
    return render(
        request,
        "storefront/orders.html",
        {"page": page, "orders": list(page.object_list), "tab": tab, "tabs": TABS},
    )


def _actions(order: Order) -> dict[str, bool]:
    now = timezone.now()
    open_refund = order.refunds.filter(status__in=OPEN).exists()
    after_sales_open = order.after_sales_ends_at is None or order.after_sales_ends_at > now
    return {
        "pay": order.status == "pending_payment" and order.expires_at > now,
        "cancel": order.status == "pending_payment",
        "confirm": order.status in ("shipped", "delivered", "picked_up"),
        "refund": order.status in AFTER_PAYMENT
        and order.settled_at is None
        and after_sales_open
        and not open_refund
        and order.refunded_amount < order.payable
        and order.channel not in ("membership",),
    }


@login_required
def order_detail(request, order_id: int):
    order = _own_order(request, order_id)
    context = {
        "order": order,
        "lines": list(
            order.lines.select_related("product").prefetch_related("product__images").order_by("id")
        ),
        "refunds": list(
            Refund.objects.filter(order=order).exclude(kind="unapplied").order_by("-id")
        ),
        "actions": _actions(order),
        # What the order's channel adds (a community order's pickup point and code).
        "pickup": (
            channel_for(order.channel).describe(order).get("pickup")
            if order.channel != "normal"
            else None
        ),
        # What feature apps show once the order is paid (e.g. "猜你喜欢").
        "sections": page_sections("order_paid", request, order=order) if order.paid_at else [],
        # What feature apps add to every order (a shipment's tracking events).
        "details": [
            {"template": detail.template, "value": value}
            for detail, value in order_details_of(order)
            if detail.template
        ],
    }
    return render(request, "storefront/order_detail.html", context)


@login_required
@require_POST
@domain_errors(lambda order_id: f"/orders/{order_id}/")
def order_cancel(request, order_id: int):
    _own_order(request, order_id)
    services.order_cancel(order_id=order_id, actor=request.user, reason="user")
    messages.success(request, _("Order cancelled."))
    return redirect(f"/orders/{order_id}/")


@login_required
@require_POST
@domain_errors(lambda order_id: f"/orders/{order_id}/")
def order_confirm(request, order_id: int):
    _own_order(request, order_id)
    services.order_confirm_receipt(order_id=order_id, user=request.user)
    messages.success(request, _("Receipt confirmed. Thank you!"))
    return redirect(f"/orders/{order_id}/")


@login_required
@require_http_methods(["GET", "POST"])
def order_refund(request, order_id: int):
    order = _own_order(request, order_id)
    form = RefundForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            refunds.refund_request(
                order_id=order.pk, user=request.user, lines=None, reason=form.reason_text()
            )
        except NotFound as exc:
            raise Http404("no such order") from exc
        except QuanziError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Refund requested. We will review it soon."))
            return redirect(f"/orders/{order.pk}/")
    return render(
        request,
        "storefront/refund_form.html",
        {"order": order, "form": form, "refundable": order.payable - order.refunded_amount},
    )


def _gateways() -> list[tuple[str, str]]:
    options = []
    if features.wechat_pay_available():
        options.append(("wechatpay", _("Pay with WeChat")))
    if settings.SANDBOX_ENABLED:
        options.append(("sandbox", _("Sandbox pay (test money)")))
    return options


def _qr_data_uri(text: str) -> str:
    out = io.BytesIO()
    qr_image(text, 360).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def order_pay(request, order_id: int):
    """The cashier (收银台): choose how to pay, then go to the gateway's page."""
    order = _own_order(request, order_id)
    if order.status != "pending_payment":
        return redirect(f"/orders/{order.pk}/")
    gateways = _gateways()
    error = ""
    wechat: dict = {}
    if request.method == "POST":
        gateway = request.POST.get("gateway") or ""
        if gateway not in dict(gateways):
            error = _("Choose a payment method.")
        else:
            # Inside WeChat's browser, WeChat Pay charges the shopper's 公众号 openid
            # (JSAPI); elsewhere it shows a QR code to scan (NATIVE).
            client = features.wechat_pay_client(request) if gateway == "wechatpay" else ""
            try:
                payment = payments.payment_create(
                    order_id=order.pk, user=request.user, gateway=gateway, client=client
                )
            except QuanziError as exc:
                error = error_text(exc)
            else:
                params = payment.params
                pay_url = params.get("pay_url") or ""
                if pay_url.startswith("/") and not pay_url.startswith("//"):
                    return redirect(pay_url)
                if params.get("trade_type") == "JSAPI":
                    wechat = {"jsapi": {k: params[k] for k in _JSAPI_KEYS if k in params}}
                elif params.get("code_url"):
                    wechat = {"qr": _qr_data_uri(params["code_url"])}
                else:
                    error = _("This payment method cannot be used in the browser.")
    return render(
        request,
        "storefront/cashier.html",
        {"order": order, "gateways": gateways, "error": error, "wechat": wechat},
    )


# What WeixinJSBridge's getBrandWCPayRequest takes.
_JSAPI_KEYS = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")


def _sandbox_payment(request, out_trade_no: str) -> Payment:
    if not settings.SANDBOX_ENABLED:
        raise Http404("the sandbox is off")
    payment = (
        Payment.objects.select_related("order")
        .filter(out_trade_no=out_trade_no, gateway="sandbox")
        .first()
    )
    if payment is None or payment.order.user_id != request.user.pk:
        raise Http404("no such payment")
    return payment


def _after_payment_url(order: Order) -> str:
    if order.channel == "group" and order.channel_ref:
        return f"/g/{order.channel_ref}"
    return f"/orders/{order.pk}/"


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_pay(request, out_trade_no: str):
    """The sandbox gateway's payment page (its ``pay_url``)."""
    payment = _sandbox_payment(request, out_trade_no)
    error = ""
    if request.method == "POST":
        try:
            payments.sandbox_complete(payment_id=payment.pk, user=request.user)
        except QuanziError as exc:
            error = error_text(exc)
        else:
            order = Order.objects.get(pk=payment.order_id)
            if order.status == "cancelled" or not Payment.objects.get(pk=payment.pk).applied:
                messages.warning(
                    request,
                    _("The order could no longer take this payment; it is being refunded."),
                )
            else:
                messages.success(request, _("Payment successful"))
            return redirect(_after_payment_url(order))
    return render(
        request,
        "storefront/sandbox_pay.html",
        {"payment": payment, "order": payment.order, "error": error},
    )
