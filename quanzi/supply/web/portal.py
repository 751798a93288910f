"""The supplier's pages: lines to ship with the shipping form, parcels, purchase orders,
money (payables, this month's statement) and quality figures."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import Forbidden, QuanziError
from quanzi.storefront.web import error_text
from quanzi.supply import selectors
from quanzi.supply.carriers import carrier_choices
from quanzi.supply.services import money, purchase_orders, shipping
from quanzi.supply.services.suppliers import supplier_for_user


def _supplier(request):
    try:
        return supplier_for_user(request.user)
    except Forbidden as exc:
        raise Http404 from exc  # not a supplier: nothing here for this person


def month_bounds():
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today.replace(day=1), time.min))
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    return start, end


@login_required
def home(request):
    supplier = _supplier(request)
    start, end = month_bounds()
    context = {
        "supplier": supplier,
        "lines": selectors.lines_to_ship(supplier_id=supplier.pk),
        "shipments": selectors.shipments_of(supplier_id=supplier.pk, limit=20),
        "purchase_orders": purchase_orders.purchase_orders_of(supplier_id=supplier.pk, limit=20),
        "owed": money.owed(supplier_id=supplier.pk),
        "payables": money.payables_by_order(supplier_id=supplier.pk, limit=20),
        "statement": money.statement(supplier_id=supplier.pk, start=start, end=end),
        "quality": selectors.quality(supplier_id=supplier.pk),
        "carriers": carrier_choices(),
    }
    return render(request, "supply/portal.html", context)


@login_required
@require_POST
def line_ship(request, line_id: int):
    supplier = _supplier(request)
    try:
        shipping.parcel_ship(
            supplier=supplier,
            line_ids=[line_id],
            carrier=request.POST.get("carrier", ""),
            tracking_no=request.POST.get("tracking_no", ""),
            actor=request.user,
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Shipped."))
    return redirect("/supplier/")


@login_required
@require_POST
def po_delivered(request, po_id: int):
    supplier = _supplier(request)
    try:
        purchase_orders.delivery_confirm(
            supplier=supplier, purchase_order_id=po_id, user=request.user
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Delivery confirmed."))
    return redirect("/supplier/")
