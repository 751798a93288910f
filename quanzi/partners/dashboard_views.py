"""Dashboard pages of partner channels (operators): partners, their keys, levels, prices
and level coupons, and the report with its CSV."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.partners import reports, services
from quanzi.partners.errors import error_text
from quanzi.partners.models import (
    Partner,
    PartnerCoupon,
    PartnerKey,
    PartnerLevel,
    PartnerMember,
    PartnerPrice,
)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _run(request, work, done: str) -> None:
    try:
        work()
        messages.success(request, done)
    except QuanziError as exc:
        messages.error(request, error_text(exc))


@operator_required
def partners(request):
    if request.method == "POST":
        post = request.POST
        _run(
            request,
            lambda: services.partner_create(name=post.get("name", ""), code=post.get("code", "")),
            _("Partner added."),
        )
        return redirect("/dashboard/partners/")
    rows = list(Partner.objects.order_by("id"))
    counts = {}
    for partner_id in PartnerMember.objects.values_list("partner_id", flat=True):
        counts[partner_id] = counts.get(partner_id, 0) + 1
    for row in rows:
        row.member_count = counts.get(row.pk, 0)
    return render(request, "partners/dash_partners.html", {"rows": rows})


def _get(partner_id: int) -> Partner:
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise Http404("no such partner")
    return partner


@operator_required
def partner(request, partner_id: int):
    found = _get(partner_id)
    return render(
        request,
        "partners/dash_partner.html",
        {
            "partner": found,
            "keys": PartnerKey.objects.filter(partner=found).order_by("-id")[:10],
            "levels": PartnerLevel.objects.filter(partner=found),
            "prices": PartnerPrice.objects.filter(partner=found, is_active=True)
            .select_related("sku__product", "level")
            .order_by("level__rank", "sku_id"),
            "coupons": PartnerCoupon.objects.filter(partner=found).select_related(
                "template", "level"
            ),
        },
    )


@operator_required
@require_POST
def partner_action(request, partner_id: int, action: str):
    _get(partner_id)
    post = request.POST
    works = {
        "settings": (
            lambda: services.partner_update(
                partner_id=partner_id,
                data={
                    "status": post.get("status") or None,
                    "token_max_age": _int(post.get("token_max_age")),
                    "clock_skew": _int(post.get("clock_skew")),
                    "level_days": _int(post.get("level_days")),
                },
            ),
            _("Saved."),
        ),
        "keys": (
            lambda: services.key_rotate(
                partner_id=partner_id,
                kind=post.get("kind", ""),
                secret=post.get("secret", ""),
                public_key=post.get("public_key", ""),
                overlap_hours=_int(post.get("overlap_hours"), 24),
            ),
            _("The new key is in use."),
        ),
        "levels": (
            lambda: services.level_set(
                partner_id=partner_id,
                code=post.get("code", ""),
                name=post.get("name", ""),
                rank=_int(post.get("rank"), 0),
            ),
            _("Saved."),
        ),
        "prices": (
            lambda: services.price_set(
                partner_id=partner_id,
                level_id=_int(post.get("level_id"), 0),
                sku_id=_int(post.get("sku_id"), 0),
                price=round(float(post.get("price") or 0) * 100),
            ),
            _("Saved."),
        ),
        "price-remove": (
            lambda: services.price_remove(partner_id=partner_id, price_id=_int(post.get("id"), 0)),
            _("Removed."),
        ),
        "coupons": (
            lambda: services.coupon_limit(
                partner_id=partner_id,
                level_id=_int(post.get("level_id"), 0),
                template_id=_int(post.get("template_id"), 0),
            ),
            _("Saved."),
        ),
    }
    if action not in works:
        raise Http404("no such action")
    work, done = works[action]
    try:
        _run(request, work, done)
    except ValueError:
        messages.error(request, _("Enter a number."))
    return redirect(f"/dashboard/partners/{partner_id}/")


def _period(request):
    def day(name):
        try:
            return date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    return day("date_from"), day("date_to")


@operator_required
def report(request, partner_id: int):
    found = _get(partner_id)
    date_from, date_to = _period(request)
    try:
        data = reports.partner_report(partner_id=found.pk, date_from=date_from, date_to=date_to)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        data = reports.partner_report(partner_id=found.pk)
    return render(request, "partners/dash_report.html", {"partner": found, "report": data})


@operator_required
def report_csv(request, partner_id: int):
    found = _get(partner_id)
    date_from, date_to = _period(request)
    try:
        text = reports.reconciliation_csv(partner_id=found.pk, date_from=date_from, date_to=date_to)
    except QuanziError:
        text = reports.reconciliation_csv(partner_id=found.pk)
    answer = HttpResponse(text, content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{found.code}-orders.csv"'
    return answer
