"""Orders and refunds: list, search, ship, approve or reject refunds."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.forms import RejectForm, ShipForm
from quanzi.orders import refunds, services
from quanzi.orders.models import Order, Refund, Status
from quanzi.orders.numbers import order_id_from_number
from quanzi.payments.models import Payment
from quanzi.storefront.web import PageOf, domain_errors, form_add_domain_error, safe_next

STATUSES = [s.value for s in Status]


def _search(qs, q: str, *, order_field: str = "pk", user_prefix: str = "user__"):
    if not q:
        return qs
    filters = Q(**{f"{user_prefix}phone__contains": q}) | Q(
        **{f"{user_prefix}nickname__icontains": q}
    )
    order_id = order_id_from_number(q)
    if order_id is not None:
        filters |= Q(**{order_field: order_id})
    return qs.filter(filters)


@operator_required
def order_list(request):
    q = (request.GET.get("q") or "").strip()[:40]
    status = request.GET.get("status") or ""
    channel = request.GET.get("channel") or ""
    qs = Order.objects.select_related("user").prefetch_related("lines")
    if status in STATUSES:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel[:20])
    qs = _search(qs, q)
    page = PageOf(request, qs.order_by("-id"))
    return render(
        request,
        "dashboard/orders.html",
        {"page": page, "q": q, "status": status, "statuses": STATUSES, "channel": channel},
    )


def _order(order_id: int) -> Order:
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None:
        raise Http404("no such order")
    return order


@operator_required
def order_detail(request, order_id: int):
    order = _order(order_id)
    return _render_detail(request, order, ShipForm(), RejectForm())


def _render_detail(request, order, ship_form, reject_form, status=200):
    context = {
        "order": order,
        "lines": list(order.lines.order_by("id")),
        "events": list(order.events.order_by("id")),
        "payments": list(Payment.objects.filter(order=order).order_by("id")),
        "refunds": list(Refund.objects.filter(order=order).order_by("-id")),
        "ship_form": ship_form,
        "reject_form": reject_form,
    }
    return render(request, "dashboard/order_detail.html", context, status=status)


@operator_required
@require_POST
def order_ship(request, order_id: int):
    order = _order(order_id)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            services.order_ship(
                order_id=order.pk,
                carrier=form.cleaned_data["carrier"],
                tracking_no=form.cleaned_data["tracking_no"],
                actor=request.user,
            )
        except QuanziError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Order shipped."))
            return redirect(f"/dashboard/orders/{order.pk}/")
    return _render_detail(request, order, form, RejectForm(), status=200)


@operator_required
def refund_list(request):
    q = (request.GET.get("q") or "").strip()[:40]
    status = request.GET.get("status", "requested")
    qs = Refund.objects.select_related("order", "order__user").exclude(kind="unapplied")
    if status:
        qs = qs.filter(status=status)
    qs = _search(qs, q, order_field="order_id", user_prefix="order__user__")
    page = PageOf(request, qs.order_by("-id"))
    return render(
        request,
        "dashboard/refunds.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": ["requested", "approved", "processing", "succeeded", "rejected"],
            "reject_form": RejectForm(),
        },
    )


@operator_required
@require_POST
@domain_errors("/dashboard/refunds/")
def refund_approve(request, refund_id: int):
    refund = refunds.refund_approve(refund_id=refund_id, operator=request.user)
    refund.refresh_from_db()
    if refund.status == "succeeded":
        messages.success(request, _("Refund approved and paid back."))
    else:
        messages.success(request, _("Refund approved; the money is on its way back."))
    return redirect(safe_next(request, "/dashboard/refunds/"))


@operator_required
@require_POST
@domain_errors("/dashboard/refunds/")
def refund_reject(request, refund_id: int):
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the customer."))
        return redirect(safe_next(request, "/dashboard/refunds/"))
    refunds.refund_reject(
        refund_id=refund_id, operator=request.user, reason=form.cleaned_data["reason"]
    )
    messages.success(request, _("Refund rejected."))
    return redirect(safe_next(request, "/dashboard/refunds/"))
