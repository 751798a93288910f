"""Operator login, logout and the overview page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import authenticate, login, logout
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.accounts.models import User
from quanzi.catalog.models import Product
from quanzi.dashboard import features
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.forms import OperatorLoginForm
from quanzi.orders.models import Order, Refund
from quanzi.storefront.web import safe_next


@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = safe_next(request, "/dashboard/")
    form = OperatorLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["phone"].strip(),
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(None, _("Wrong phone number or password."))
        elif not user.is_operator:
            form.add_error(None, _("This account is not an operator."))
        else:
            login(request, user)
            return redirect(next_url)
    return render(request, "dashboard/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/dashboard/login/")


@operator_required
def index(request):
    now = timezone.localtime()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    paid_today = Order.objects.filter(paid_at__gte=start)
    today = paid_today.aggregate(n=Count("id"), gmv=Sum("payable"), refunded=Sum("refunded_amount"))
    week = Order.objects.filter(paid_at__gte=start - timedelta(days=6)).aggregate(
        n=Count("id"), gmv=Sum("payable")
    )
    counts = Order.objects.aggregate(
        to_ship=Count("id", filter=Q(status="to_ship")),
        grouping=Count("id", filter=Q(status="grouping")),
        pending=Count("id", filter=Q(status="pending_payment")),
    )
    days = []
    for back in range(6, -1, -1):
        day_start = start - timedelta(days=back)
        agg = Order.objects.filter(
            paid_at__gte=day_start, paid_at__lt=day_start + timedelta(days=1)
        ).aggregate(gmv=Sum("payable"), n=Count("id"))
        days.append({"day": day_start, "gmv": agg["gmv"] or 0, "n": agg["n"]})
    top = max([d["gmv"] for d in days] + [1])
    for d in days:
        d["height"] = max(2, d["gmv"] * 100 // top)
    context = {
        "today": {k: v or 0 for k, v in today.items()},
        "week": {k: v or 0 for k, v in week.items()},
        "counts": counts,
        "refunds_waiting": Refund.objects.filter(status="requested").count(),
        "withdrawals_waiting": features.withdrawals_waiting(),
        "users": User.objects.count(),
        "new_users_today": User.objects.filter(date_joined__gte=start).count(),
        "products": Product.objects.filter(is_active=True, is_virtual=False).count(),
        "days": days,
        "recent": Order.objects.filter(paid_at__isnull=False)
        .select_related("user")
        .order_by("-paid_at")[:8],
    }
    return render(request, "dashboard/index.html", context)
