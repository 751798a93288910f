"""The storefront's landing page of partner arrivals: ``/p/<code>?token=…`` (or
``?code=…``) and the partner's prices.

Opening the link changes nothing: the visitor confirms with a button (a POST with the
CSRF token), so another site cannot sign a visitor in or link their account by making
the browser open a link. The confirmation verifies the token or uses the code, signs in
(or links the signed-in account) and shows the prices of the level.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.partners import arrivals
from quanzi.partners.channel import member_active
from quanzi.partners.errors import error_text
from quanzi.partners.models import Partner, PartnerStatus
from quanzi.partners.selectors import offers_for


def _partner(code: str) -> Partner:
    partner = Partner.objects.filter(code=code, status=PartnerStatus.ACTIVE).first()
    if partner is None:
        raise Http404("no such partner")
    return partner


def landing(request, code: str):
    partner = _partner(code)
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        token, one_time = request.POST.get("token", ""), request.POST.get("code", "")
        try:
            if token:
                came = arrivals.arrival_by_token(partner_code=code, token=token, user=user)
            else:
                came = arrivals.arrival_by_code(partner_code=code, code=one_time, user=user)
        except QuanziError as exc:
            messages.error(request, error_text(exc))
            return redirect(f"/p/{code}")
        if user is None:
            login(request, came.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Welcome, %(level)s member of %(partner)s.")
            % {"level": came.member.level.name, "partner": partner.name},
        )
        return redirect(f"/p/{code}")
    member = member_active(user_id=getattr(user, "pk", None), partner_id=partner.pk)
    return render(
        request,
        "partners/landing.html",
        {
            "partner": partner,
            "token": request.GET.get("token", "")[:4096],
            "code": request.GET.get("code", "")[:64],
            "member": member,
            "offers": offers_for(partner=partner, user=user),
        },
    )


@login_required
@require_POST
def buy(request, code: str):
    from quanzi.storefront import cart as session_cart

    _partner(code)
    try:
        sku_id = int(request.POST.get("sku_id", ""))
    except ValueError as exc:
        raise Http404("no such item") from exc
    session_cart.checkout_set(
        request.session,
        items=[{"sku_id": sku_id, "qty": 1}],
        source="partner",
        channel="partner",
        extra={"partner": code},
    )
    return redirect("/checkout/")
