"""Storefront pages of community group buying: the community home with the open wave
and its countdown, choosing a pickup point near me, my pickup codes, and the leader's
page (orders at my point, arrival and shortages, verifying codes, earnings)."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.community import leaders, pickups, selectors
from quanzi.community.models import CommunityOrder, Leader
from quanzi.community.waves import wave_current
from quanzi.core.errors import QuanziError
from quanzi.storefront.web import error_text


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def home(request):
    wave = wave_current()
    chosen = selectors.chosen_point(request.user) if request.user.is_authenticated else None
    codes = selectors.my_pickups(request.user) if request.user.is_authenticated else []
    return render(
        request,
        "community/home.html",
        {
            "wave": selectors.wave_out(wave) if wave else None,
            "chosen": chosen,
            "codes": codes,
            "is_leader": request.user.is_authenticated and request.user.is_leader,
        },
    )


@login_required
@require_POST
def order(request):
    from quanzi.orders.services import order_place

    wave = wave_current()
    chosen = selectors.chosen_point(request.user)
    if chosen is None:
        messages.error(request, _("Choose a pickup point first."))
        return redirect("/community/points/")
    if wave is None or str(wave.pk) != request.POST.get("wave_id"):
        messages.error(request, _("Ordering for this wave has closed."))
        return redirect("/community/")
    items = []
    for key, value in request.POST.items():
        if key.startswith("qty_") and value.strip().isdigit() and int(value) > 0:
            items.append({"sku_id": int(key[4:]), "qty": min(int(value), 999)})
    if not items:
        messages.error(request, _("Choose at least one item."))
        return redirect("/community/")
    try:
        placed = order_place(
            user=request.user,
            items=items,
            channel="community",
            extra={"wave_id": wave.pk, "pickup_point_id": chosen.point_id},
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect("/community/")
    return redirect(f"/orders/{placed.pk}/pay/")


def points(request):
    lat, lng = _float(request.GET.get("lat")), _float(request.GET.get("lng"))
    if lat is None or lng is None:
        lat = lng = None
    chosen = selectors.chosen_point(request.user) if request.user.is_authenticated else None
    listed = selectors.points_nearest(lat=lat, lng=lng)
    for p in listed:
        d = p["distance_m"]
        p["distance_text"] = "" if d is None else f"{d} m" if d < 1000 else f"{d / 1000:.1f} km"
    return render(
        request,
        "community/points.html",
        {
            "points": listed,
            "located": lat is not None,
            "chosen_id": chosen.point_id if chosen else None,
        },
    )


@login_required
@require_POST
def point_choose(request, point_id: int):
    try:
        leaders.point_choose(user=request.user, point_id=point_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect("/community/points/")
    messages.success(request, _("Pickup point saved."))
    return redirect("/community/")


@login_required
def leader_link(request, share_code: str):
    """A leader's share link: sets the point and binds the customer to the leader."""
    leader = leaders.leader_by_share_code(share_code)
    first = (
        selectors.points_usable().filter(leader=leader).order_by("id").first() if leader else None
    )
    if first is None:
        raise Http404
    leaders.point_choose(user=request.user, point_id=first.pk, via_leader=leader)
    return redirect("/community/")


@login_required
def my_codes(request):
    return render(request, "community/codes.html", {"codes": selectors.my_pickups(request.user)})


@login_required
def code_qr(request, order_id: int):
    from quanzi.storefront.poster import qr_image

    co = CommunityOrder.objects.filter(
        order_id=order_id, user=request.user, code_active=True
    ).first()
    if co is None:
        raise Http404
    buffer = io.BytesIO()
    qr_image(co.code, 240).save(buffer, format="PNG")
    return HttpResponse(buffer.getvalue(), content_type="image/png")


def _leader_of(request) -> Leader:
    leader = Leader.objects.select_related("user").filter(user=request.user).first()
    if leader is None:
        raise Http404
    return leader


@login_required
def leader_page(request):
    from quanzi.distribution.selectors import earnings_of

    leader = _leader_of(request)
    return render(
        request,
        "community/leader.html",
        {
            "leader": leader,
            "points": leader.points.order_by("id"),
            "entries": selectors.leader_orders(leader=leader),
            "earnings": earnings_of(user=request.user),
        },
    )


@login_required
@require_POST
def leader_arrival(request, point_id: int):
    _leader_of(request)
    shortages = []
    for key, value in request.POST.items():
        if key.startswith("short_") and value.strip().isdigit() and int(value) > 0:
            shortages.append({"sku_id": int(key[6:]), "qty": int(value)})
    try:
        pickups.arrival_confirm(
            user=request.user,
            point_id=point_id,
            wave_id=int(request.POST.get("wave_id") or 0),
            shortages=shortages,
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Arrival confirmed; customers have been told."))
    return redirect("/community/leader/")


@login_required
@require_POST
def leader_pickup(request, point_id: int):
    _leader_of(request)
    try:
        done = pickups.pickup_verify(
            user=request.user, point_id=point_id, code=request.POST.get("code") or ""
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Order #%(id)s picked up.") % {"id": done.pk})
    return redirect("/community/leader/")
