"""Group buying reads: campaigns, open groups for the product page, share-page data."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from quanzi.core.errors import NotFound
from quanzi.groupbuy.channel import group_check_joinable
from quanzi.groupbuy.models import (
    ACTIVE_MEMBER,
    CampaignSku,
    Group,
    GroupCampaign,
    GroupMember,
    GroupStatus,
    MemberStatus,
)
from quanzi.groupbuy.notices import share_path, share_url

_OFFERS = Prefetch(
    "skus", queryset=CampaignSku.objects.select_related("sku").order_by("group_price", "id")
)


def _person(user) -> dict[str, Any]:
    return {"user_id": user.pk, "nickname": user.nickname, "avatar": user.avatar}


def _cover(product) -> str:
    images = list(product.images.all())
    return images[0].url if images else ""


def _offers(campaign: GroupCampaign) -> list[dict[str, Any]]:
    return [
        {
            "sku_id": offer.sku_id,
            "name": offer.sku.name,
            "price": offer.sku.price,
            "group_price": offer.group_price,
            "leader_price": offer.leader_price,
        }
        for offer in campaign.skus.all()
    ]


# --- campaigns -------------------------------------------------------------------------


def campaigns_all() -> QuerySet[GroupCampaign]:
    return GroupCampaign.objects.select_related("product").prefetch_related(
        _OFFERS, "product__images"
    )


def campaigns_admin() -> QuerySet[GroupCampaign]:
    """Campaigns with how many groups each has in every status (``campaign_admin_out``),
    counted in the same query, so a page of campaigns costs what one does."""
    return campaigns_all().annotate(
        **{
            f"groups_{status}": Count("groups", filter=Q(groups__status=status))
            for status in GroupStatus.values
        }
    )


def campaigns_active(*, now=None) -> QuerySet[GroupCampaign]:
    """Campaigns open for new groups now."""
    now = now or timezone.now()
    return campaigns_all().filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), is_active=True, starts_at__lte=now
    )


def campaign_get(*, campaign_id: int, public: bool = False) -> GroupCampaign:
    qs = campaigns_active() if public else campaigns_admin()
    campaign = qs.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("campaign_not_found", "no such group deal")
    return campaign


def campaign_public_out(campaign: GroupCampaign) -> dict[str, Any]:
    offers = _offers(campaign)
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "product": {
            "id": campaign.product_id,
            "title": campaign.product.title,
            "cover": _cover(campaign.product),
        },
        "skus": offers,
        "group_price": min(o["group_price"] for o in offers) if offers else 0,
        "price": min(o["price"] for o in offers) if offers else 0,
        "group_size": campaign.group_size,
        "group_ttl_seconds": campaign.group_ttl_seconds,
        "per_user_limit": campaign.per_user_limit,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "sold_out": campaign.stock <= 0,
        "accepts_coupons": campaign.accepts_coupons,
        "accepts_points": campaign.accepts_points,
    }


def campaign_admin_out(campaign: GroupCampaign) -> dict[str, Any]:
    """An operator's view of a campaign from ``campaigns_admin`` (group counts included)."""
    return {
        **campaign_public_out(campaign),
        "stock": campaign.stock,
        "stock_allotted": campaign.stock_allotted,
        "simulated_fill_max_missing": campaign.simulated_fill_max_missing,
        "commission_enabled": campaign.commission_enabled,
        "is_active": campaign.is_active,
        "created_at": campaign.created_at,
        "groups": {status: getattr(campaign, f"groups_{status}") for status in GroupStatus.values},
    }


def campaign_offer_for_product(*, product_id: int) -> dict[str, Any] | None:
    """The group deal running on a product now (at most one per SKU, see the rules)."""
    campaign = campaigns_active().filter(product_id=product_id).order_by("id").first()
    return campaign_public_out(campaign) if campaign else None


# --- groups ----------------------------------------------------------------------------


def _with_places(qs: QuerySet[Group]) -> QuerySet[Group]:
    return qs.annotate(
        places=Count("members", filter=Q(members__status__in=ACTIVE_MEMBER), distinct=True)
    )


def _joinable_groups(*, now) -> QuerySet[Group]:
    return _with_places(
        Group.objects.filter(status=GroupStatus.FORMING, expires_at__gt=now)
    ).filter(places__lt=F("size"))


def open_groups_for_product(
    *, product_id: int, limit: int = 5, exclude_user_id: int | None = None
) -> list[dict[str, Any]]:
    """Forming groups of the product with free places, those needing fewest first
    (陌生人拼团: strangers on the product page can join them)."""
    now = timezone.now()
    qs = (
        _joinable_groups(now=now)
        .filter(campaign__product_id=product_id)
        .select_related("leader", "campaign")
        .annotate(need=F("size") - F("paid_count"))
        .order_by("need", "expires_at", "id")
    )
    if exclude_user_id is not None:
        mine = GroupMember.objects.filter(user_id=exclude_user_id, status__in=ACTIVE_MEMBER)
        qs = qs.exclude(leader_id=exclude_user_id).exclude(pk__in=mine.values("group_id"))
    groups = list(qs[: max(1, min(limit, 50))])
    prices = {
        row["campaign_id"]: row["group_price"]
        for row in CampaignSku.objects.filter(campaign_id__in={g.campaign_id for g in groups})
        .order_by("campaign_id", "-group_price")
        .values("campaign_id", "group_price")
    }  # the lowest group price per campaign wins (ordered last)
    return [
        {
            "group_id": group.pk,
            "campaign_id": group.campaign_id,
            "leader": _person(group.leader),
            "size": group.size,
            "paid_members": group.paid_count,
            "missing": group.missing,
            "free_places": group.size - group.places,
            "expires_at": group.expires_at,
            "seconds_left": max(0, int((group.expires_at - now).total_seconds())),
            "group_price": prices.get(group.campaign_id, 0),
            "share_url": share_url(group.pk),
        }
        for group in groups
    ]


def _visible_to(group: Group, viewer) -> bool:
    if group.status not in (GroupStatus.PENDING, GroupStatus.CANCELLED):
        return True
    return viewer is not None and (viewer.pk == group.leader_id or viewer.is_operator)


def group_get(*, group_id: int, viewer=None) -> Group:
    group = (
        Group.objects.select_related("campaign__product", "leader")
        .prefetch_related("campaign__product__images", Prefetch("campaign__skus", _OFFERS.queryset))
        .filter(pk=group_id)
        .first()
    )
    if group is None or not _visible_to(group, viewer):
        # A group whose leader has not paid is nobody else's business yet.
        raise NotFound("group_not_found", "no such group")
    return group


def _shown_members(group: Group) -> list[GroupMember]:
    statuses = [MemberStatus.PAID, MemberStatus.REFUNDED]
    if group.status in (GroupStatus.PENDING, GroupStatus.FORMING):
        statuses.append(MemberStatus.RESERVED)
    if group.status == GroupStatus.FAILED:
        statuses = [MemberStatus.PAID, MemberStatus.REFUNDED]
    return list(
        GroupMember.objects.select_related("user")
        .filter(group=group, status__in=statuses)
        .order_by("-is_leader", "id")
    )


def _viewer_state(group: Group, viewer, members: list[GroupMember]) -> dict[str, Any]:
    if viewer is None:
        return {"joined": False, "can_join": group.status == GroupStatus.FORMING, "reason": None}
    joined = any(m.user_id == viewer.pk for m in members)
    reason = None
    try:
        group_check_joinable(group, user_id=viewer.pk)
    except Exception as exc:  # noqa: BLE001 - a refusal is the answer here
        reason = getattr(exc, "code", "group_closed")
    return {"joined": joined, "can_join": reason is None, "reason": reason}


def group_share_data(*, group_id: int, viewer=None) -> dict[str, Any]:
    """Everything the share page (/g/<id>) shows: avatars, countdown, places missing."""
    group = group_get(group_id=group_id, viewer=viewer)
    now = timezone.now()
    members = _shown_members(group)
    campaign = group.campaign
    offers = _offers(campaign)
    seconds_left = 0
    if group.status == GroupStatus.FORMING and group.expires_at:
        seconds_left = max(0, int((group.expires_at - now).total_seconds()))
    member_rows = [
        {
            **_person(m.user),
            "is_leader": m.is_leader,
            "paid": m.status in (MemberStatus.PAID, MemberStatus.REFUNDED),
        }
        for m in members
    ]
    return {
        "id": group.pk,
        "campaign_id": group.campaign_id,
        "status": group.status,
        "size": group.size,
        "paid_members": group.paid_count,
        "missing": group.missing,
        "free_places": group.size - sum(m.status in ACTIVE_MEMBER for m in members),
        "simulated": group.simulated,
        "expires_at": group.expires_at,
        "seconds_left": seconds_left,
        "leader": _person(group.leader),
        "members": member_rows,
        "avatars": [row["avatar"] for row in member_rows],
        "share_url": share_url(group.pk),
        "share_path": share_path(group.pk),
        "title": campaign.title,
        "product": {
            "id": campaign.product_id,
            "title": campaign.product.title,
            "cover": _cover(campaign.product),
        },
        "skus": offers,
        "group_price": min(o["group_price"] for o in offers) if offers else 0,
        "price": min(o["price"] for o in offers) if offers else 0,
        "viewer": _viewer_state(group, viewer, members),
    }


def groups_of_user(*, user_id: int) -> QuerySet[Group]:
    mine = GroupMember.objects.filter(user_id=user_id).exclude(status=MemberStatus.RELEASED)
    return Group.objects.filter(pk__in=mine.values("group_id")).select_related("campaign")


def product_extra(product, user) -> dict[str, Any]:
    """``GET /products/{id}`` gains ``open_groups`` and the running ``group_deal``."""
    return {
        "open_groups": open_groups_for_product(
            product_id=product.pk, limit=5, exclude_user_id=user.pk if user else None
        ),
        "group_deal": campaign_offer_for_product(product_id=product.pk),
    }
