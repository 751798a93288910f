"""The personal centre's pages: coupons, points, membership, earnings, team,
withdrawals and the invite code."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.core.errors import NotFound, QuanziError
from quanzi.core.platform_settings import get_settings
from quanzi.storefront.forms import YuanField
from quanzi.storefront.poster import qr_image
from quanzi.storefront.web import error_text, form_add_domain_error

# --- coupons --------------------------------------------------------------------------


@login_required
def my_coupons(request):
    from quanzi.marketing.selectors import coupon_out, coupons_of

    status = request.GET.get("status") or "unused"
    if status not in ("unused", "used", "expired"):
        status = "unused"
    qs = coupons_of(user_id=request.user.pk, status=status).order_by("-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "storefront/my_coupons.html",
        {"coupons": [coupon_out(c) for c in page.object_list], "page": page, "status": status},
    )


def coupon_centre(request):
    from quanzi.marketing.selectors import coupon_template_out, coupon_templates_claimable

    templates = [coupon_template_out(t) for t in coupon_templates_claimable().order_by("-id")[:50]]
    return render(request, "storefront/coupon_centre.html", {"templates": templates})


@require_POST
def coupon_claim(request, template_id: int):
    if not request.user.is_authenticated:
        return redirect("/login/?next=/coupons/")
    from quanzi.marketing.services import coupon_claim as claim

    try:
        claim(user=request.user, template_id=template_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Coupon claimed! It is waiting in My coupons."))
    return redirect("/coupons/")


# --- points ---------------------------------------------------------------------------


@login_required
def my_points(request):
    from quanzi.marketing.selectors import points_history, points_summary

    page = Paginator(points_history(user_id=request.user.pk).order_by("-id"), 20).get_page(
        request.GET.get("page")
    )
    from quanzi.marketing.signin import sign_in_calendar

    settings = get_settings().points
    return render(
        request,
        "storefront/my_points.html",
        {
            "calendar": sign_in_calendar(user_id=request.user.pk),
            "summary": points_summary(user_id=request.user.pk),
            "page": page,
            "txns": list(page.object_list),
            "sign_in_points": settings.sign_in_points,
            "yuan_per_100": settings.yuan_per_100_points,
        },
    )


@login_required
@require_POST
def points_sign_in(request):
    from quanzi.marketing.services import sign_in

    try:
        result = sign_in(user=request.user)
    except QuanziError as exc:
        messages.info(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Signed in: +%(n)s points, %(d)s days in a row. See you tomorrow!")
            % {"n": result["points"], "d": result["streak"]},
        )
    return redirect("/me/points/")


# --- membership -----------------------------------------------------------------------


def membership(request):
    from quanzi.membership.selectors import level_out, levels_all, plan_out, plans_active

    state = None
    if request.user.is_authenticated:
        from quanzi.membership.selectors import membership_state

        state = membership_state(user=request.user)
    return render(
        request,
        "storefront/membership.html",
        {
            "state": state,
            "plans": [plan_out(p) for p in plans_active().order_by("price")],
            "levels": [level_out(level) for level in levels_all()],
        },
    )


@require_POST
def membership_buy(request, plan_id: int):
    if not request.user.is_authenticated:
        return redirect("/login/?next=/membership/")
    from quanzi.membership.services import plan_buy

    try:
        order = plan_buy(user=request.user, plan_id=plan_id)
    except NotFound as exc:
        raise Http404("no such plan") from exc
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect("/membership/")
    return redirect(f"/orders/{order.pk}/pay/")


# --- distribution: earnings, team, withdrawals, invite -------------------------------


WITHDRAW_FIELDS = {
    "below_minimum": "amount",
    "insufficient_balance": "amount",
    "daily_limit_exceeded": "amount",
    "unknown_gateway": "gateway",
    "gateway_not_configured": "gateway",
    "gateway_disabled": "gateway",
    "payee_required": "payee_account",
    "payout_account_missing": "payee_account",
    "invalid_payee_account": "payee_account",
    "invalid_openid": "payee_account",
    "payee_name_required": "payee_name",
    "invalid_payee_name": "payee_name",
}
GATEWAY_LABELS = {
    "wechatpay": gettext_lazy("WeChat Pay"),
    "alipay": gettext_lazy("Alipay"),
    "sandbox": gettext_lazy("Sandbox"),
}


# Where a withdrawal paid through each gateway lands.
PAYOUT_DESTINATIONS = {
    "wechatpay": gettext_lazy("your WeChat change (零钱)"),
    "alipay": gettext_lazy("your Alipay balance"),
    "sandbox": gettext_lazy("the sandbox account (demo money)"),
}


class WithdrawForm(forms.Form):
    amount = YuanField(label=gettext_lazy("Amount (¥)"), min_value=0.01)
    gateway = forms.ChoiceField(label=gettext_lazy("Paid to"), choices=(), required=False)
    payee_account = forms.CharField(
        label=gettext_lazy("Account"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Alipay: your mobile number, e-mail or 2088… user id. WeChat Pay: your openid, "
            "unless it is set already."
        ),
    )
    payee_name = forms.CharField(
        label=gettext_lazy("Real name"),
        required=False,
        max_length=40,
        help_text=gettext_lazy(
            "The account owner's real name: always for Alipay, from ¥2,000 for WeChat Pay."
        ),
    )

    def __init__(self, *args, gateways: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [(g, GATEWAY_LABELS.get(g, g)) for g in gateways]
        if gateways:
            self.fields["gateway"].initial = gateways[0]


@login_required
def my_earnings(request):
    from quanzi.distribution.models import Commission
    from quanzi.distribution.selectors import commission_out, earnings_of

    qs = Commission.objects.filter(beneficiary=request.user).order_by("-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "storefront/my_earnings.html",
        {
            "earnings": earnings_of(user=request.user),
            "commissions": [commission_out(c) for c in page.object_list],
            "page": page,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_withdrawals(request):
    from quanzi.distribution.models import Withdrawal
    from quanzi.distribution.selectors import earnings_of, withdrawal_out
    from quanzi.distribution.withdrawals import withdrawal_gateways, withdrawal_request

    form = WithdrawForm(
        request.POST if request.method == "POST" else None, gateways=withdrawal_gateways()
    )
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal_request(
                user=request.user,
                amount=form.cleaned_data["amount"],
                gateway=form.cleaned_data["gateway"] or None,
                payee_account=form.cleaned_data["payee_account"],
                payee_name=form.cleaned_data["payee_name"],
            )
        except QuanziError as exc:
            form_add_domain_error(form, exc, codes=WITHDRAW_FIELDS)
        else:
            messages.success(request, _("Withdrawal requested."))
            return redirect("/me/withdrawals/")
    qs = Withdrawal.objects.filter(user=request.user).order_by("-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    settings = get_settings().distribution
    destinations = [str(PAYOUT_DESTINATIONS.get(g, g)) for g in withdrawal_gateways()]
    return render(
        request,
        "storefront/my_withdrawals.html",
        {
            "form": form,
            "earnings": earnings_of(user=request.user),
            "withdrawals": [withdrawal_out(w) for w in page.object_list],
            "page": page,
            "rules": settings,
            "destinations": destinations,
        },
    )


@login_required
def my_team(request):
    from quanzi.distribution.selectors import team_of

    return render(request, "storefront/my_team.html", {"team": team_of(user=request.user)})


@login_required
def my_invite(request):
    from quanzi.social.selectors import people_brought_by

    link = request.build_absolute_uri(f"/register/?invite={request.user.invite_code}")
    invited = list(request.user.downlines.order_by("-id")[:50])
    # A friend who used the invite code and came through a share is listed once.
    seen = {u.pk for u in invited}
    brought = [u for u in people_brought_by(user=request.user)[:100] if u.pk not in seen][:50]
    return render(
        request,
        "storefront/my_invite.html",
        {"link": link, "brought": brought, "invited": invited},
    )


@login_required
def my_invite_qr(request):
    link = request.build_absolute_uri(f"/register/?invite={request.user.invite_code}")
    out = io.BytesIO()
    qr_image(link, 360).save(out, format="PNG")
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
