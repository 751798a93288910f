"""The lottery and the share / invite reward campaigns: create, close, results; and the
edit page of a running group deal."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.core.errors import QuanziError
from quanzi.core.money import yuan
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.forms import GroupCampaignForm
from quanzi.dashboard.play_forms import LotteryForm, RewardCampaignForm
from quanzi.dashboard.views.campaigns import _field_error
from quanzi.storefront.web import PageOf, domain_errors, error_text


def _coupon_choices() -> list[tuple[int, str]]:
    from quanzi.marketing.models import CouponTemplate

    templates = CouponTemplate.objects.filter(is_active=True).order_by("-id")[:200]
    return [(t.pk, t.name) for t in templates]


# --- lottery ----------------------------------------------------------------------------


@operator_required
def lotteries(request):
    from quanzi.rewards.models import Lottery

    qs = (
        Lottery.objects.prefetch_related("prizes")
        .annotate(
            draw_count=Count("draws"),
            winners=Count("draws", filter=~Q(draws__status="lost")),
        )
        .order_by("-id")
    )
    page = PageOf(request, qs)
    return render(request, "dashboard/lotteries.html", {"page": page, "rows": page.items})


@operator_required
@require_http_methods(["GET", "POST"])
def lottery_new(request):
    from quanzi.rewards.lottery import lottery_create

    form = LotteryForm(
        request.POST if request.method == "POST" else None, coupon_choices=_coupon_choices()
    )
    if request.method == "POST" and form.is_valid():
        try:
            lottery_create(
                title=form.cleaned_data["title"],
                cost_points=form.cleaned_data["cost_points"],
                free_draws_per_day=form.cleaned_data["free_draws_per_day"],
                prizes=form.prizes(),
                starts_at=form.cleaned_data.get("starts_at"),
                ends_at=form.cleaned_data.get("ends_at"),
            )
        except QuanziError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Lottery created."))
            return redirect("/dashboard/lotteries/")
    return render(request, "dashboard/lottery_form.html", {"form": form})


@operator_required
def lottery_results(request, lottery_id: int):
    from quanzi.rewards.models import Lottery, LotteryDraw

    lottery = Lottery.objects.prefetch_related("prizes").filter(pk=lottery_id).first()
    if lottery is None:
        raise Http404("no such lottery")
    draws = LotteryDraw.objects.filter(lottery=lottery).select_related("user", "prize")
    page = PageOf(request, draws.order_by("-id"))
    context = {"lottery": lottery, "page": page, "draws": page.items}
    return render(request, "dashboard/lottery_results.html", context)


@operator_required
@require_POST
@domain_errors("/dashboard/lotteries/")
def lottery_close(request, lottery_id: int):
    from quanzi.rewards.lottery import lottery_close as close

    close(lottery_id=lottery_id)
    messages.success(request, _("The lottery is closed; unawarded gifts went back to stock."))
    return redirect("/dashboard/lotteries/")


# --- share and invite rewards ----------------------------------------------------------


@operator_required
def reward_campaigns(request):
    from quanzi.rewards.models import RewardCampaign, RewardGrant, RewardReferral

    page = PageOf(request, RewardCampaign.objects.order_by("-id"))
    ids = [c.pk for c in page.items]
    grants = dict(
        RewardGrant.objects.filter(campaign_id__in=ids, status="granted")
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    people = dict(
        RewardReferral.objects.filter(campaign_id__in=ids, status="qualified")
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    held = dict(
        RewardReferral.objects.filter(campaign_id__in=ids, status="held")
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    coupons = dict(_coupon_choices())
    rows = [
        {
            "campaign": c,
            "granted": grants.get(c.pk, 0),
            "people": people.get(c.pk, 0),
            "held": held.get(c.pk, 0),
            "coupon": coupons.get(c.reward_coupon_template_id, ""),
        }
        for c in page.items
    ]
    return render(request, "dashboard/reward_campaigns.html", {"page": page, "rows": rows})


@operator_required
@require_http_methods(["GET", "POST"])
def reward_campaign_new(request):
    from quanzi.rewards.invites import reward_campaign_create

    form = RewardCampaignForm(
        request.POST if request.method == "POST" else None, coupon_choices=_coupon_choices()
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reward = {}
        if data.get("reward_points"):
            reward["points"] = data["reward_points"]
        if data.get("reward_coupon"):
            reward["coupon_template_id"] = data["reward_coupon"]
        try:
            reward_campaign_create(
                kind=data["kind"],
                trigger="first_order",
                needed=data["needed"],
                reward=reward,
                title=data.get("title") or "",
                max_per_user=data["max_per_user"],
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
            )
        except QuanziError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Reward campaign created."))
            return redirect("/dashboard/rewards/")
    return render(
        request,
        "dashboard/simple_form.html",
        {"form": form, "title": _("New reward campaign"), "back": "/dashboard/rewards/"},
    )


@operator_required
@require_POST
@domain_errors("/dashboard/rewards/")
def reward_campaign_close(request, campaign_id: int):
    from quanzi.rewards.invites import reward_campaign_close as close

    close(campaign_id=campaign_id)
    messages.success(
        request, _("The campaign is closed: people brought in from now on earn nothing.")
    )
    return redirect("/dashboard/rewards/")


# --- group deals: edit ------------------------------------------------------------------


@operator_required
@require_http_methods(["GET", "POST"])
def group_campaign_edit(request, campaign_id: int):
    from quanzi.groupbuy.models import GroupCampaign
    from quanzi.groupbuy.services import campaign_update

    campaign = GroupCampaign.objects.prefetch_related("skus").filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("no such group deal")
    offer = campaign.skus.first()
    initial = {
        "title": campaign.title,
        "group_price": yuan(offer.group_price) if offer else "",
        "leader_price": yuan(offer.leader_price) if offer and offer.leader_price else "",
        "group_size": campaign.group_size,
        "group_ttl_hours": max(1, campaign.group_ttl_seconds // 3600),
        "per_user_limit": campaign.per_user_limit,
        "stock": campaign.stock_allotted,
        "simulated_fill_max_missing": campaign.simulated_fill_max_missing,
        "ends_at": campaign.ends_at,
        "commission_enabled": campaign.commission_enabled,
        "accepts_coupons": campaign.accepts_coupons,
        "accepts_points": campaign.accepts_points,
    }
    form = GroupCampaignForm(request.POST if request.method == "POST" else None, initial=initial)
    del form.fields["sku_id"], form.fields["starts_at"]
    form.fields["stock"].help_text = _("Units already taken by orders stay taken.")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {
            "title": data["title"],
            "group_price": data["group_price"],
            "leader_price": data.get("leader_price") or None,
            "group_size": data["group_size"],
            "group_ttl_seconds": data["group_ttl_hours"] * 3600,
            "per_user_limit": data["per_user_limit"],
            "stock": data["stock"],
            "simulated_fill_max_missing": data.get("simulated_fill_max_missing") or 0,
            "ends_at": data.get("ends_at"),
            "commission_enabled": bool(data.get("commission_enabled")),
            "accepts_coupons": bool(data.get("accepts_coupons")),
            "accepts_points": bool(data.get("accepts_points")),
        }
        try:
            campaign_update(campaign_id=campaign.pk, **changes)
        except QuanziError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("Group deal saved: new groups follow the new terms."))
            return redirect("/dashboard/groups/")
    return render(
        request,
        "dashboard/simple_form.html",
        {
            "form": form,
            "title": _("Edit group deal: %(t)s") % {"t": campaign.title},
            "back": "/dashboard/groups/",
        },
    )
