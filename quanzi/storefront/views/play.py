"""The lottery (抽奖), share and invite rewards, and the lists of my bargains, my groups
and my prizes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from quanzi.accounts.models import Address
from quanzi.core.errors import NotFound, QuanziError
from quanzi.storefront import features
from quanzi.storefront.web import error_text, int_or_none

GRID_CELLS = 8  # a 3 × 3 grid around the draw button (九宫格)


@require_GET
def lottery_home(request):
    running = features.lotteries_running()
    if len(running) == 1:
        return redirect(f"/lottery/{running[0]['id']}/")
    return render(request, "storefront/lotteries.html", {"lotteries": running})


def _cells(prizes: list[dict]) -> list[dict]:
    """Eight cells: the prizes in order, repeated to fill the ring."""
    if not prizes:
        return []
    return [prizes[i % len(prizes)] for i in range(GRID_CELLS)]


@require_GET
def lottery_page(request, lottery_id: int):
    user = request.user if request.user.is_authenticated else None
    try:
        lottery = features.lottery_page(lottery_id=lottery_id, user=user)
    except NotFound as exc:
        raise Http404("no such lottery") from exc
    drawn = None
    draw_id = int_or_none(request.GET.get("draw"))
    if user is not None and draw_id is not None:
        drawn = features.my_draw(draw_id=draw_id, user=user)
    cells = _cells(lottery["prizes"])
    stop = None
    if drawn is not None and drawn["slot"] is not None:
        stop = next((i for i, c in enumerate(cells) if c["id"] == drawn["slot"]["id"]), None)
    points = features.points_balance(user=user) if user is not None else None
    context = {
        "lottery": lottery,
        "cells": cells,
        "drawn": drawn,
        "stop": stop,
        "points": points,
    }
    return render(request, "storefront/lottery.html", context)


@require_POST
def lottery_draw(request, lottery_id: int):
    if not request.user.is_authenticated:
        return redirect(f"/login/?next=/lottery/{lottery_id}/")
    try:
        drawn = features.lottery_draw(lottery_id=lottery_id, user=request.user)
    except NotFound as exc:
        raise Http404("no such lottery") from exc
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect(f"/lottery/{lottery_id}/")
    return redirect(f"/lottery/{lottery_id}/?draw={drawn['draw_id']}")


@login_required
@require_GET
def my_prizes(request):
    addresses = list(
        Address.objects.filter(user=request.user, is_deleted=False).order_by("-is_default", "-id")
    )
    context = {"prizes": features.my_prizes(user=request.user), "addresses": addresses}
    return render(request, "storefront/my_prizes.html", context)


@login_required
@require_POST
def prize_claim(request, draw_id: int):
    address_id = int_or_none(request.POST.get("address_id"))
    try:
        order = features.prize_claim(draw_id=draw_id, user=request.user, address_id=address_id)
    except NotFound as exc:
        raise Http404("no such prize") from exc
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect("/me/prizes/")
    messages.success(request, _("Your prize is on its way: it ships like any order."))
    return redirect(f"/orders/{order.pk}/")


@require_GET
def rewards(request):
    user = request.user if request.user.is_authenticated else None
    return render(request, "storefront/rewards.html", features.reward_campaigns(user=user))


@login_required
@require_GET
def my_bargains(request):
    return render(
        request, "storefront/my_bargains.html", {"rows": features.my_bargains(user=request.user)}
    )


@login_required
@require_GET
def my_groups(request):
    return render(
        request, "storefront/my_groups.html", {"rows": features.my_groups(user=request.user)}
    )
