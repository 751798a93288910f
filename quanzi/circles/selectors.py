"""Reads: circle lists (by label, nearest, recommended), a circle's page, its feed, its
deals and its health figures (as the daily job left them)."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet

from quanzi.circles.models import (
    Announcement,
    Circle,
    CircleStatus,
    Cohort,
    Deal,
    DealKind,
    HealthDay,
    Membership,
    MemberStatus,
    Post,
    Snapshot,
)


def circles_active() -> QuerySet[Circle]:
    return Circle.objects.filter(status=CircleStatus.ACTIVE)


def circles_find(*, label_id: int | None = None, q: str = "") -> QuerySet[Circle]:
    qs = circles_active().prefetch_related("labels")
    if label_id:
        qs = qs.filter(labels__id=label_id)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("-member_count", "-id")


def circles_nearest(*, lat: float, lng: float, limit: int = 20) -> list[tuple[Circle, int]]:
    """Circles with a place (community leaders' circles), nearest first, with metres."""
    found = []
    for circle in (
        circles_active().filter(lat__isnull=False, lng__isnull=False).prefetch_related("labels")
    ):
        found.append((circle, _metres(lat, lng, circle.lat, circle.lng)))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return int(2 * r * math.asin(math.sqrt(a)))


def circles_recommended(*, user, limit: int = 6) -> list[Circle]:
    """Circles the person's friends are in, whose members bought what they bought, or
    sharing a label with their circles, best first (``circles/suggest.py``); else the
    biggest ones they are not in."""
    from quanzi.circles.suggest import circle_scores

    qs = circles_active().prefetch_related("labels")
    if user is not None and user.is_authenticated:
        scores = circle_scores(user_id=user.pk)
        if scores:
            found = {c.pk: c for c in qs.filter(pk__in=list(scores))}
            ranked = sorted(found.values(), key=lambda c: (-scores[c.pk], -c.member_count, -c.pk))
            return ranked[:limit]
        qs = qs.exclude(
            pk__in=Membership.objects.filter(
                user=user, status__in=[MemberStatus.MEMBER, MemberStatus.PENDING]
            ).values("circle_id")
        )
    return list(qs.order_by("-member_count", "-id")[:limit])


def memberships_by_circle(*, user) -> dict[int, Membership]:
    """The viewer's memberships by circle id (one query; none for an anonymous viewer)."""
    if user is None or not user.is_authenticated:
        return {}
    return {m.circle_id: m for m in Membership.objects.filter(user=user)}


def circles_of(*, user) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user, status__in=[MemberStatus.MEMBER, MemberStatus.PENDING])
        .select_related("circle")
        .order_by("-joined_at", "-id")
    )


def circle_out(circle: Circle, *, membership: Membership | None = None) -> dict[str, Any]:
    return {
        "id": circle.pk,
        "name": circle.name,
        "cover": circle.cover,
        "description": circle.description,
        "rules": circle.rules,
        "labels": [{"id": label.pk, "name": label.name} for label in circle.labels.all()],
        "tags": list(circle.tags),
        "owner_id": circle.owner_id,
        "join_policy": circle.join_policy,
        "question": circle.question,
        "cap": circle.cap,
        "members_only": circle.members_only,
        "status": circle.status,
        "member_count": circle.member_count,
        "my_status": membership.status if membership is not None else None,
        "my_role": membership.role if membership is not None else None,
    }


def can_read_feed(circle: Circle, membership: Membership | None) -> bool:
    if not circle.members_only:
        return True
    return membership is not None and membership.status == MemberStatus.MEMBER


def feed_notes(*, circle: Circle, limit: int = 30) -> list:
    from quanzi.content.models import Note, NoteStatus, Visibility

    note_ids = Post.objects.filter(circle=circle).order_by("-id").values_list("note_id", flat=True)
    notes = (
        Note.objects.filter(
            pk__in=list(note_ids[:limit]),
            status=NoteStatus.PUBLISHED,
            visibility=Visibility.VISIBLE,
        )
        .select_related("author")
        .order_by("-published_at", "-id")
    )
    return list(notes)


def announcements_pinned(*, circle: Circle) -> list[Announcement]:
    return list(circle.announcements.filter(pinned=True).order_by("-id")[:5])


def deals_of(*, circle: Circle) -> list[dict[str, Any]]:
    """The circle's deals with what a buyer needs (title, price, end for the countdown)."""
    from quanzi.bargain.models import BargainCampaign
    from quanzi.groupbuy.models import GroupCampaign
    from quanzi.marketing.models import CouponTemplate

    out: list[dict[str, Any]] = []
    deals = list(Deal.objects.filter(circle=circle).order_by("id"))
    ids = {kind: [d.ref_id for d in deals if d.kind == kind] for kind in DealKind.values}
    groups = {
        c.pk: c
        for c in GroupCampaign.objects.filter(pk__in=ids["group"]).prefetch_related("skus__sku")
    }
    bargains = {
        c.pk: c for c in BargainCampaign.objects.filter(pk__in=ids["bargain"]).select_related("sku")
    }
    coupons = {c.pk: c for c in CouponTemplate.objects.filter(pk__in=ids["coupon"])}
    for deal in deals:
        item: dict[str, Any] = {"id": deal.pk, "kind": deal.kind, "ref_id": deal.ref_id}
        if deal.kind == DealKind.GROUP and deal.ref_id in groups:
            c = groups[deal.ref_id]
            offer = c.skus.all()[0] if c.skus.all() else None
            item.update(
                title=c.title,
                price=offer.group_price if offer else None,
                retail=offer.sku.price if offer else None,
                sku_id=offer.sku_id if offer else None,
                group_size=c.group_size,
                ends_at=c.ends_at,
                active=c.is_active,
            )
        elif deal.kind == DealKind.BARGAIN and deal.ref_id in bargains:
            c = bargains[deal.ref_id]
            item.update(
                title=c.title or c.sku.name,
                price=c.floor_price,
                retail=c.start_price,
                sku_id=c.sku_id,
                ends_at=c.ends_at,
                active=c.is_active,
            )
        elif deal.kind == DealKind.COUPON and deal.ref_id in coupons:
            c = coupons[deal.ref_id]
            item.update(
                title=c.name,
                price=c.amount or None,
                retail=None,
                sku_id=None,
                ends_at=c.valid_until,
                active=c.is_active,
            )
        else:
            continue
        out.append(item)
    return out


def health_of(*, circle: Circle) -> dict[str, Any]:
    days = list(HealthDay.objects.filter(circle=circle).order_by("day"))
    cohorts = list(Cohort.objects.filter(circle=circle).order_by("week_start"))
    snapshot = Snapshot.objects.filter(circle=circle).first()
    last = days[-1] if days else None
    recent = days[-30:]
    members = last.members if last else circle.member_count
    orders = sum(d.orders for d in days)
    gmv = sum(d.gmv for d in days)
    posts = sum(d.posts for d in days)
    per = max(members, 1)
    return {
        "circle_id": circle.pk,
        "members": members,
        "joins": sum(d.joins for d in recent),
        "leaves": sum(d.leaves for d in recent),
        "active_7d": last.active_7d if last else 0,
        "active_30d": last.active_30d if last else 0,
        "posts_per_member_x100": posts * 100 // per,
        "orders_per_member_x100": orders * 100 // per,
        "gmv_per_member": gmv // per,
        "gmv": gmv,
        "orders": orders,
        "days": [
            {
                "day": d.day,
                "members": d.members,
                "joins": d.joins,
                "leaves": d.leaves,
                "active_7d": d.active_7d,
                "active_30d": d.active_30d,
                "posts": d.posts,
                "orders": d.orders,
                "gmv": d.gmv,
            }
            for d in days
        ],
        "retention": [
            {
                "week_start": c.week_start,
                "joined": c.joined,
                "members": list(c.members),
                "active": list(c.active),
                "member_share_bp": [m * 10_000 // c.joined if c.joined else 0 for m in c.members],
                "active_share_bp": [a * 10_000 // c.joined if c.joined else 0 for a in c.active],
            }
            for c in cohorts
        ],
        "top_contributors": list(snapshot.top_contributors) if snapshot else [],
        "churn_alert": bool(snapshot and snapshot.churn_alert),
        "computed_on": snapshot.day if snapshot else None,
    }
