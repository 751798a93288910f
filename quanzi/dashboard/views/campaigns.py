"""Group and bargain campaigns, coupons, membership plans and withdrawal audit, each over
its app's services (the pages only parse forms and show what the services decide)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.forms import (
    BargainCampaignForm,
    CouponTemplateForm,
    GroupCampaignForm,
    PlanForm,
    RejectForm,
)
from quanzi.storefront.web import PageOf, domain_errors, form_add_domain_error, safe_next

FIELDS = {
    "group_size_invalid": "group_size",
    "invalid_ttl": "group_ttl_hours",
    "invalid_limit": "per_user_limit",
    "invalid_stock": "stock",
    "invalid_simulated_fill": "simulated_fill_max_missing",
    "invalid_window": "ends_at",
    "campaign_overlap": "sku_id",
    "sku_unavailable": "sku_id",
    "invalid_title": "title",
}
RENAMED = {
    "group_ttl_seconds": "group_ttl_hours",
    "ttl_seconds": "ttl_hours",
    "percent_bp": "percent",
    "skus": "sku_id",
}


def _field_error(form, exc: QuanziError) -> None:
    field = (exc.detail or {}).get("field")
    if field in RENAMED:
        exc.detail = {**exc.detail, "field": RENAMED[field]}
    form_add_domain_error(form, exc, codes=FIELDS)


def _create_page(request, *, form, title: str, back: str, create, success: str):
    if request.method == "POST" and form.is_valid():
        try:
            create(form.cleaned_data)
        except QuanziError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(back)
    return render(
        request, "dashboard/simple_form.html", {"form": form, "title": title, "back": back}
    )


# --- group buying ---------------------------------------------------------------------


@operator_required
def group_campaigns(request):
    from quanzi.groupbuy.selectors import campaign_admin_out, campaigns_admin

    q = (request.GET.get("q") or "").strip()[:60]
    qs = campaigns_admin().order_by("-id")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(product__title__icontains=q))
    page = PageOf(request, qs)
    rows = [campaign_admin_out(c) for c in page.items]
    return render(request, "dashboard/group_campaigns.html", {"page": page, "rows": rows, "q": q})


@operator_required
@require_http_methods(["GET", "POST"])
def group_campaign_new(request):
    from quanzi.groupbuy.services import campaign_create

    def create(data):
        offer = {"sku_id": data["sku_id"], "group_price": data["group_price"]}
        if data.get("leader_price"):
            offer["leader_price"] = data["leader_price"]
        return campaign_create(
            title=data["title"],
            skus=[offer],
            group_size=data["group_size"],
            group_ttl_seconds=data["group_ttl_hours"] * 3600,
            per_user_limit=data["per_user_limit"],
            stock=data["stock"],
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
            simulated_fill_max_missing=data.get("simulated_fill_max_missing") or 0,
            commission_enabled=bool(data.get("commission_enabled")),
            accepts_coupons=bool(data.get("accepts_coupons")),
            accepts_points=bool(data.get("accepts_points")),
        )

    return _create_page(
        request,
        form=GroupCampaignForm(request.POST if request.method == "POST" else None),
        title=_("New group deal"),
        back="/dashboard/groups/",
        create=create,
        success=_("Group deal created."),
    )


@operator_required
@require_POST
@domain_errors("/dashboard/groups/")
def group_campaign_end(request, campaign_id: int):
    from quanzi.groupbuy.services import campaign_end

    campaign_end(campaign_id=campaign_id)
    messages.success(request, _("The deal opens no new groups; forming groups run to their end."))
    return redirect("/dashboard/groups/")


# --- bargaining -----------------------------------------------------------------------


@operator_required
def bargain_campaigns(request):
    from quanzi.bargain.models import BargainCampaign
    from quanzi.bargain.selectors import campaign_out

    q = (request.GET.get("q") or "").strip()[:60]
    qs = BargainCampaign.objects.select_related("sku__product").order_by("-id")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(sku__product__title__icontains=q))
    page = PageOf(request, qs)
    rows = [{**campaign_out(c), "product_title": c.sku.product.title} for c in page.items]
    return render(request, "dashboard/bargain_campaigns.html", {"page": page, "rows": rows, "q": q})


@operator_required
@require_http_methods(["GET", "POST"])
def bargain_campaign_new(request):
    from quanzi.bargain.services import campaign_create

    def create(data):
        return campaign_create(
            sku_id=data["sku_id"],
            title=data.get("title") or "",
            start_price=data["start_price"],
            floor_price=data["floor_price"] or 0,
            helpers_min=data["helpers_min"],
            helpers_max=data["helpers_max"],
            ttl_seconds=data["ttl_hours"] * 3600,
            per_user_limit=data["per_user_limit"],
            helps_per_day=data["helps_per_day"],
            stock=data["stock"],
            buy_mode=data["buy_mode"],
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
        )

    return _create_page(
        request,
        form=BargainCampaignForm(request.POST if request.method == "POST" else None),
        title=_("New bargain campaign"),
        back="/dashboard/bargains/",
        create=create,
        success=_("Bargain campaign created."),
    )


@operator_required
@require_POST
@domain_errors("/dashboard/bargains/")
def bargain_campaign_close(request, campaign_id: int):
    from quanzi.bargain.services import campaign_close

    campaign_close(campaign_id=campaign_id)
    messages.success(request, _("Bargain campaign closed."))
    return redirect("/dashboard/bargains/")


# --- coupons --------------------------------------------------------------------------


@operator_required
def coupons(request):
    from quanzi.marketing.selectors import coupon_template_out, coupon_templates_all

    q = (request.GET.get("q") or "").strip()[:60]
    qs = coupon_templates_all().order_by("-id")
    if q:
        qs = qs.filter(name__icontains=q)
    page = PageOf(request, qs)
    rows = [coupon_template_out(t) for t in page.items]
    return render(request, "dashboard/coupons.html", {"page": page, "rows": rows, "q": q})


@operator_required
@require_http_methods(["GET", "POST"])
def coupon_new(request):
    from quanzi.marketing.services import coupon_template_create

    form = CouponTemplateForm(request.POST if request.method == "POST" else None)
    return _create_page(
        request,
        form=form,
        title=_("New coupon"),
        back="/dashboard/coupons/",
        create=lambda data: coupon_template_create(data=form.payload()),
        success=_("Coupon created."),
    )


@operator_required
@require_POST
@domain_errors("/dashboard/coupons/")
def coupon_toggle(request, template_id: int):
    from quanzi.marketing.services import coupon_template_update

    active = request.POST.get("active") == "1"
    coupon_template_update(template_id=template_id, data={"is_active": active})
    messages.success(request, _("Coupon issued again.") if active else _("Coupon stopped."))
    return redirect(safe_next(request, "/dashboard/coupons/"))


# --- membership plans -----------------------------------------------------------------


@operator_required
def plans(request):
    from quanzi.membership.models import MembershipPlan
    from quanzi.membership.selectors import plan_out

    q = (request.GET.get("q") or "").strip()[:40]
    qs = MembershipPlan.objects.order_by("-id")
    if q:
        qs = qs.filter(name__icontains=q)
    page = PageOf(request, qs)
    rows = [plan_out(p) for p in page.items]
    return render(request, "dashboard/plans.html", {"page": page, "rows": rows, "q": q})


@operator_required
@require_http_methods(["GET", "POST"])
def plan_new(request):
    from quanzi.membership.services import plan_create

    return _create_page(
        request,
        form=PlanForm(request.POST if request.method == "POST" else None),
        title=_("New membership plan"),
        back="/dashboard/plans/",
        create=lambda data: plan_create(
            name=data["name"],
            price=data["price"],
            duration_days=data["duration_days"],
            points_multiplier_bp=data["points_multiplier_bp"],
            free_shipping=bool(data.get("free_shipping")),
            monthly_coupon_template_id=data.get("monthly_coupon_template_id"),
        ),
        success=_("Membership plan created."),
    )


@operator_required
@require_POST
@domain_errors("/dashboard/plans/")
def plan_toggle(request, plan_id: int):
    from quanzi.membership.services import plan_update

    active = request.POST.get("active") == "1"
    plan_update(plan_id=plan_id, data={"is_active": active})
    messages.success(request, _("Plan on sale.") if active else _("Plan off sale."))
    return redirect("/dashboard/plans/")


# --- withdrawals ----------------------------------------------------------------------


@operator_required
def withdrawals(request):
    from quanzi.distribution.models import Withdrawal
    from quanzi.distribution.selectors import withdrawal_out

    status = request.GET.get("status", "requested")
    q = (request.GET.get("q") or "").strip()[:40]
    qs = Withdrawal.objects.select_related("user").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(user__phone__contains=q) | Q(user__nickname__icontains=q))
    page = PageOf(request, qs)
    rows = [{**withdrawal_out(w), "user": w.user} for w in page.items]
    return render(
        request,
        "dashboard/withdrawals.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "q": q,
            "statuses": ["requested", "approved", "processing", "paid", "rejected"],
            "reject_form": RejectForm(),
        },
    )


@operator_required
@require_POST
@domain_errors("/dashboard/withdrawals/")
def withdrawal_approve(request, withdrawal_id: int):
    from quanzi.distribution.withdrawals import withdrawal_approve as approve

    approve(withdrawal_id=withdrawal_id, operator=request.user)
    messages.success(request, _("Withdrawal approved; the payout is on its way."))
    return redirect(safe_next(request, "/dashboard/withdrawals/"))


@operator_required
@require_POST
@domain_errors("/dashboard/withdrawals/")
def withdrawal_reject(request, withdrawal_id: int):
    from quanzi.distribution.withdrawals import withdrawal_reject as reject

    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the customer."))
        return redirect(safe_next(request, "/dashboard/withdrawals/"))
    reject(withdrawal_id=withdrawal_id, operator=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("Withdrawal rejected; the money is back in the balance."))
    return redirect(safe_next(request, "/dashboard/withdrawals/"))
