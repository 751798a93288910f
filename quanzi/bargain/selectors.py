"""Bargain reads: the API answer and the share page's data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from quanzi.bargain.models import Bargain, BargainCampaign, BargainHelp
from quanzi.bargain.models import BargainStatus as B
from quanzi.core.errors import NotFound
from quanzi.core.money import BP


def bargain_share_url(bargain: Bargain) -> str:
    """The owner's share link of the bargain (``/s/<token>``): friends who open it and
    sign up are recorded as brought by this bargain (the brand-new-user bonus)."""
    try:
        from quanzi.social.selectors import share_url
        from quanzi.social.services import share_create
    except ImportError:  # sharing not installed: the page itself
        return f"{settings.PUBLIC_URL}/b/{bargain.pk}"
    link = share_create(sharer=bargain.user, target="bargain", target_id=bargain.pk)
    return share_url(link)


def campaign_out(campaign: BargainCampaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "sku_id": campaign.sku_id,
        "start_price": campaign.start_price,
        "floor_price": campaign.floor_price,
        "helpers_min": campaign.helpers_min,
        "helpers_max": campaign.helpers_max,
        "ttl_seconds": campaign.ttl_seconds,
        "per_user_limit": campaign.per_user_limit,
        "helps_per_day": campaign.helps_per_day,
        "new_user_cut_bp": campaign.new_user_cut_bp,
        "stock": campaign.stock,
        "buy_mode": campaign.buy_mode,
        "accepts_coupon": campaign.accepts_coupon,
        "accepts_points": campaign.accepts_points,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "is_active": campaign.is_active,
    }


def campaigns_running(*, now=None) -> QuerySet[BargainCampaign]:
    from django.db.models import Q

    now = now or timezone.now()
    return BargainCampaign.objects.filter(is_active=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )


def _status(bargain: Bargain, now) -> str:
    # Between the deadline and the sweep, an unbought bargain already reads as expired.
    if bargain.status in (B.OPEN, B.FLOOR_REACHED) and bargain.expires_at <= now:
        return B.EXPIRED
    return bargain.status


def _helpers(bargain: Bargain) -> list[dict[str, Any]]:
    helps = BargainHelp.objects.filter(bargain=bargain).select_related("helper").order_by("seq")
    return [
        {
            "user_id": h.helper_id,
            "nickname": h.helper.nickname,
            "avatar": h.helper.avatar,
            "cut": h.cut,
            "new_user": h.new_user,
            "created_at": h.created_at,
        }
        for h in helps
    ]


def bargain_out(bargain: Bargain) -> dict[str, Any]:
    """The answer of ``GET /bargains/{id}``."""
    now = timezone.now()
    return {
        "id": bargain.pk,
        "campaign_id": bargain.campaign_id,
        "user_id": bargain.user_id,
        "status": _status(bargain, now),
        "start_price": bargain.start_price,
        "floor_price": bargain.floor_price,
        "current_price": bargain.current_price,
        "helpers_count": bargain.helpers_count,
        "helpers": _helpers(bargain),
        "expires_at": bargain.expires_at,
        "order_id": bargain.order_id,
        "share_url": bargain_share_url(bargain),
    }


def bargains_of(*, user_id: int) -> QuerySet[Bargain]:
    return Bargain.objects.filter(user_id=user_id)


def bargain_share_data(bargain_id: int, *, viewer=None) -> dict[str, Any]:
    """Everything the share page shows: item, progress, helpers, countdown, and what the
    viewer may do (help, buy)."""
    bargain = (
        Bargain.objects.select_related("campaign__sku__product", "user")
        .filter(pk=bargain_id)
        .first()
    )
    if bargain is None:
        raise NotFound("bargain_not_found", "no such bargain")
    now = timezone.now()
    status = _status(bargain, now)
    sku = bargain.campaign.sku
    total = bargain.start_price - bargain.floor_price
    cut_so_far = bargain.start_price - bargain.current_price
    viewer_id = getattr(viewer, "pk", None)
    is_owner = viewer_id == bargain.user_id
    helped = (
        viewer_id is not None
        and BargainHelp.objects.filter(bargain=bargain, helper_id=viewer_id).exists()
    )
    floor_only = bargain.campaign.buy_mode == "floor_only"
    return {
        **bargain_out(bargain),
        "status": status,
        "title": bargain.campaign.title or sku.product.title,
        "product_id": sku.product_id,
        "product_title": sku.product.title,
        "sku_name": sku.name,
        "cover": sku.product.cover,
        "retail_price": sku.price,
        "owner": {"user_id": bargain.user_id, "nickname": bargain.user.nickname},
        "cut_so_far": cut_so_far,
        "left_to_cut": bargain.current_price - bargain.floor_price,
        "progress_bp": cut_so_far * BP // total if total else BP,
        "seconds_left": max(0, int((bargain.expires_at - now).total_seconds())),
        "buy_mode": bargain.campaign.buy_mode,
        "is_owner": is_owner,
        "viewer_helped": helped,
        "can_help": viewer_id is not None and not is_owner and not helped and status == B.OPEN,
        "can_buy": is_owner
        and status in (B.OPEN, B.FLOOR_REACHED)
        and (not floor_only or bargain.current_price == bargain.floor_price),
    }
