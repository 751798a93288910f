"""Group buying (/g/<id>) and friend bargaining (/b/<id>): the share pages and their
buttons. Orders go through the checkout page with the deal's channel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from quanzi.core.errors import NotFound, QuanziError
from quanzi.core.money import yuan
from quanzi.storefront import cart as session_cart
from quanzi.storefront import features
from quanzi.storefront.forms import BuyForm
from quanzi.storefront.web import back, error_text, int_or_none


def _login_first(request, next_url: str):
    return redirect(f"/login/?next={next_url}")


@require_POST
def group_start(request):
    """ "发起拼团" on the product page: open a group of the deal at the group price."""
    form = BuyForm(request.POST)
    campaign_id = int_or_none(request.POST.get("campaign_id"))
    if not form.is_valid() or campaign_id is None:
        messages.error(request, _("Choose a variant and a quantity."))
        return back(request, "/")
    session_cart.checkout_set(
        request.session,
        items=[{"sku_id": form.cleaned_data["sku_id"], "qty": form.cleaned_data["qty"]}],
        source="group",
        channel="group",
        extra={"campaign_id": campaign_id},
    )
    if not request.user.is_authenticated:
        return _login_first(request, "/checkout/")
    return redirect("/checkout/")


@require_GET
def group_page(request, group_id: int):
    viewer = request.user if request.user.is_authenticated else None
    try:
        data = features.group_page(group_id=group_id, viewer=viewer)
    except NotFound as exc:
        raise Http404("no such group") from exc
    slots = data["members"] + [None] * max(0, data["size"] - len(data["members"]))
    reason = data["viewer"]["reason"]
    context = {
        "g": data,
        "slots": slots[:12],
        "more_slots": max(0, len(slots) - 12),
        "reason_text": error_text(QuanziError(reason)) if reason else "",
        "default_sku": data["skus"][0]["sku_id"] if data["skus"] else None,
        "share_link": request.build_absolute_uri(data["share_path"]),
        "poster_url": f"/poster/g/{data['id']}.png",
    }
    return render(request, "storefront/group.html", context)


@require_POST
def group_join(request, group_id: int):
    form = BuyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a variant and a quantity."))
        return redirect(f"/g/{group_id}")
    session_cart.checkout_set(
        request.session,
        items=[{"sku_id": form.cleaned_data["sku_id"], "qty": form.cleaned_data["qty"]}],
        source="group",
        channel="group",
        extra={"group_id": group_id},
    )
    if not request.user.is_authenticated:
        return _login_first(request, "/checkout/")
    return redirect("/checkout/")


@require_POST
def bargain_start(request):
    campaign_id = int_or_none(request.POST.get("campaign_id"))
    if not request.user.is_authenticated:
        return _login_first(request, request.POST.get("next") or "/")
    if campaign_id is None:
        raise Http404("no such bargain campaign")
    from quanzi.bargain import services as bargain

    try:
        started = bargain.bargain_start(user=request.user, campaign_id=campaign_id)
    except NotFound as exc:
        raise Http404("no such bargain campaign") from exc
    except QuanziError as exc:
        running = (exc.detail or {}).get("bargain_id")
        if exc.code == "bargain_in_progress" and running:
            return redirect(f"/b/{running}")
        messages.error(request, error_text(exc))
        return back(request, "/")
    own = bargain.bargain_self_cut(bargain_id=started.pk, user=request.user)
    if own is not None:
        messages.success(
            request,
            _("You cut ¥%(cut)s off yourself. Ask friends to cut the rest!")
            % {"cut": yuan(own.cut)},
        )
    else:
        messages.success(request, _("Bargain started: ask friends to help you cut the price!"))
    return redirect(f"/b/{started.pk}")


@require_GET
def bargain_page(request, bargain_id: int):
    viewer = request.user if request.user.is_authenticated else None
    try:
        data = features.bargain_page(bargain_id=bargain_id, viewer=viewer)
    except NotFound as exc:
        raise Http404("no such bargain") from exc
    context = {
        "b": data,
        "progress": min(100, data["progress_bp"] // 100),
        # The starter's own first cut is hers, not a friend's.
        "friends_helped": sum(h["user_id"] != data["owner"]["user_id"] for h in data["helpers"]),
        "share_link": request.build_absolute_uri(f"/b/{data['id']}"),
    }
    return render(request, "storefront/bargain.html", context)


def bargain_alias(request, bargain_id: int):
    return redirect(f"/b/{bargain_id}", permanent=True)


@require_POST
def bargain_help(request, bargain_id: int):
    if not request.user.is_authenticated:
        return _login_first(request, f"/b/{bargain_id}")
    from quanzi.bargain import services as bargain

    try:
        helped = bargain.bargain_help(bargain_id=bargain_id, helper=request.user)
    except NotFound as exc:
        raise Http404("no such bargain") from exc
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("You cut ¥%(cut)s off. Thank you for helping!") % {"cut": yuan(helped.cut)},
        )
    return redirect(f"/b/{bargain_id}")


@login_required
@require_POST
def bargain_buy(request, bargain_id: int):
    try:
        data = features.bargain_page(bargain_id=bargain_id, viewer=request.user)
    except NotFound as exc:
        raise Http404("no such bargain") from exc
    if not data["is_owner"]:
        raise Http404("no such bargain")
    sku_id = features.bargain_sku_id(campaign_id=data["campaign_id"])
    session_cart.checkout_set(
        request.session,
        items=[{"sku_id": sku_id, "qty": 1}],
        source="bargain",
        channel="bargain",
        extra={"bargain_id": bargain_id},
    )
    return redirect("/checkout/")


SHARE_PATHS = {
    "product": "/p/{id}",
    "group": "/g/{id}",
    "bargain": "/b/{id}",
    "shop": "/shop/{id}",
    "note": "/n/{id}",
}


@require_POST
def share(request):
    """The share button: the person's own tracked link for a product, group or bargain."""
    target = request.POST.get("target") or ""
    target_id = int_or_none(request.POST.get("id"))
    if target not in SHARE_PATHS or target_id is None or target_id < 1:
        return JsonResponse({"error": _("Nothing to share.")}, status=400)
    path = SHARE_PATHS[target].format(id=target_id)
    user = request.user if request.user.is_authenticated else None
    try:
        url = features.share_link(
            request, user=user, target=target, target_id=target_id, path=path, channel="link"
        )
    except QuanziError as exc:
        return JsonResponse({"error": error_text(exc)}, status=exc.status)
    return JsonResponse({"url": url})
