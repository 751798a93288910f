"""Leaders and pickup points: applications, the operator's decisions, pauses, and the
point a customer chooses (nearest first, remembered, or set by a leader's share link)."""

from __future__ import annotations

import math
import secrets
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.community.models import (
    ApplicationStatus,
    CustomerPoint,
    Leader,
    LeaderApplication,
    LeaderStatus,
    PickupPoint,
    PointPause,
    PointStatus,
)
from quanzi.core.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from quanzi.core.logging import get_logger

log = get_logger("quanzi.community")

EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    """Great-circle distance in metres (haversine): right across the 180° meridian too."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))))


def _clean_point(data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    address = str(data.get("address") or "").strip()
    if not name or len(name) > 60:
        raise Invalid("invalid_point", "a pickup point needs a name of at most 60 characters")
    if not address or len(address) > 200:
        raise Invalid("invalid_point", "a pickup point needs an address")
    lat, lng = data.get("lat"), data.get("lng")
    if not isinstance(lat, int | float) or not isinstance(lng, int | float):
        raise Invalid("invalid_point", "a pickup point needs its latitude and longitude")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Invalid("invalid_point", "latitude is within ±90 and longitude within ±180")
    capacity = data.get("capacity") or 0
    if not isinstance(capacity, int) or capacity < 0:
        raise Invalid("invalid_point", "capacity is a whole number ≥ 0")
    return {
        "name": name,
        "address": address,
        "lat": float(lat),
        "lng": float(lng),
        "hours": str(data.get("hours") or "")[:60],
        "photo": str(data.get("photo") or "")[:300],
        "area": str(data.get("area") or "")[:60],
        "capacity": capacity,
    }


def application_create(*, user: User, point: dict[str, Any]) -> LeaderApplication:
    """A customer applies to run a pickup point (as a new or an existing leader)."""
    clean = _clean_point(point)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if LeaderApplication.objects.filter(user=user, status=ApplicationStatus.PENDING).exists():
            raise Conflict("application_pending", "your last application is still being reviewed")
        leader = Leader.objects.filter(user=user).first()
        if leader is not None and leader.status == LeaderStatus.CLOSED:
            raise Conflict("leader_closed", "this leader account was closed by the operator")
        return LeaderApplication.objects.create(user=user, point=clean)


def _share_code() -> str:
    return secrets.token_urlsafe(6)[:8]


def _lock_application(application_id: int) -> LeaderApplication:
    app = LeaderApplication.objects.select_for_update().filter(pk=application_id).first()
    if app is None:
        raise NotFound("application_not_found", "no such application")
    return app


def application_approve(*, application_id: int, operator: User) -> LeaderApplication:
    """Approve: the applicant becomes a leader (role ``leader``) with a new point."""
    with transaction.atomic():
        app = _lock_application(application_id)
        if app.status == ApplicationStatus.APPROVED:
            return app
        if app.status != ApplicationStatus.PENDING:
            raise InvalidTransition("invalid_transition", f"a {app.status} application is final")
        leader = Leader.objects.filter(user_id=app.user_id).first()
        if leader is None:
            leader = Leader.objects.create(
                user_id=app.user_id, share_code=_share_code(), decided_at=timezone.now()
            )
        elif leader.status == LeaderStatus.CLOSED:
            raise Conflict("leader_closed", "this leader account was closed")
        point = PickupPoint.objects.create(leader=leader, **app.point)
        app.status = ApplicationStatus.APPROVED
        app.leader, app.created_point = leader, point
        app.decided_at = timezone.now()
        app.save()
        user = User.objects.get(pk=app.user_id)
        if not user.is_leader:
            user.is_leader = True
            user.save()
    log.info(
        "leader approved",
        extra={"application_id": app.pk, "leader_id": leader.pk, "point_id": point.pk},
    )
    return app


def application_reject(
    *, application_id: int, operator: User, reason: str = ""
) -> LeaderApplication:
    with transaction.atomic():
        app = _lock_application(application_id)
        if app.status == ApplicationStatus.REJECTED:
            return app
        if app.status != ApplicationStatus.PENDING:
            raise InvalidTransition("invalid_transition", f"a {app.status} application is final")
        app.status = ApplicationStatus.REJECTED
        app.reason = (reason or "")[:200]
        app.decided_at = timezone.now()
        app.save()
        return app


LEADER_MOVES = {
    "suspend": ({LeaderStatus.ACTIVE}, LeaderStatus.SUSPENDED),
    "reinstate": ({LeaderStatus.SUSPENDED}, LeaderStatus.ACTIVE),
    "close": ({LeaderStatus.ACTIVE, LeaderStatus.SUSPENDED}, LeaderStatus.CLOSED),
}


def leader_set_status(*, leader_id: int, action: str, operator: User) -> Leader:
    """The operator suspends, reinstates or closes a leader (and so all its points)."""
    if action not in LEADER_MOVES:
        raise Invalid("invalid_action", "suspend, reinstate or close")
    allowed, target = LEADER_MOVES[action]
    with transaction.atomic():
        leader = Leader.objects.select_for_update().filter(pk=leader_id).first()
        if leader is None:
            raise NotFound("leader_not_found", "no such leader")
        if leader.status == target:
            return leader
        if leader.status not in allowed:
            raise InvalidTransition(
                "invalid_transition", f"a {leader.status} leader cannot be {action}ed"
            )
        leader.status = target
        leader.decided_at = timezone.now()
        leader.save(update_fields=["status", "decided_at"])
        if target == LeaderStatus.CLOSED:
            leader.points.update(status=PointStatus.CLOSED)
    log.info("leader status", extra={"leader_id": leader.pk, "status": target})
    return leader


def point_set_status(*, point_id: int, status: str, operator: User) -> PickupPoint:
    if status not in PointStatus.values:
        raise Invalid("invalid_status", "active, suspended or closed")
    with transaction.atomic():
        point = PickupPoint.objects.select_for_update().filter(pk=point_id).first()
        if point is None:
            raise NotFound("point_not_found", "no such pickup point")
        if point.status == PointStatus.CLOSED and status != PointStatus.CLOSED:
            raise InvalidTransition("invalid_transition", "a closed point stays closed")
        point.status = status
        point.save(update_fields=["status"])
        return point


def point_of_leader(*, user: User, point_id: int) -> PickupPoint:
    """The point ``point_id`` if ``user`` leads it (else 404: not theirs looks missing)."""
    point = PickupPoint.objects.select_related("leader").filter(pk=point_id).first()
    if point is None or point.leader.user_id != user.pk:
        if point is not None and user.is_operator:
            return point
        raise NotFound("point_not_found", "no such pickup point")
    if point.leader.status != LeaderStatus.ACTIVE:
        raise Forbidden("leader_suspended", "this leader account is suspended")
    return point


def point_pause(*, user: User, point_id: int, dates: list[date], paused: bool = True) -> list[date]:
    """The leader takes no orders at the point for ``dates`` (or takes them again)."""
    point = point_of_leader(user=user, point_id=point_id)
    if len(dates) > 60:
        raise Invalid("too_many_dates", "pause at most 60 days at once")
    with transaction.atomic():
        if paused:
            PointPause.objects.bulk_create(
                [PointPause(point=point, date=d) for d in dates], ignore_conflicts=True
            )
        else:
            PointPause.objects.filter(point=point, date__in=dates).delete()
    return sorted(PointPause.objects.filter(point=point).values_list("date", flat=True))


def point_is_paused(point: PickupPoint, on: date) -> bool:
    return PointPause.objects.filter(point=point, date=on).exists()


def point_usable(point: PickupPoint) -> bool:
    return point.status == PointStatus.ACTIVE and point.leader.status == LeaderStatus.ACTIVE


def point_choose(*, user: User, point_id: int, via_leader: Leader | None = None) -> CustomerPoint:
    """Remember the customer's point; a leader's share link also binds the customer to
    that leader for attribution (the first binding stays)."""
    point = PickupPoint.objects.select_related("leader").filter(pk=point_id).first()
    if point is None or not point_usable(point):
        raise NotFound("point_not_found", "this pickup point is not taking orders")
    with transaction.atomic():
        chosen, _ = CustomerPoint.objects.select_for_update().get_or_create(
            user=user, defaults={"point": point}
        )
        chosen.point = point
        if (
            via_leader is not None
            and chosen.bound_leader_id is None
            and via_leader.user_id != user.pk
        ):
            chosen.bound_leader = via_leader
            chosen.bound_at = timezone.now()
        chosen.save()
        return chosen


def leader_by_share_code(code: str) -> Leader | None:
    return Leader.objects.filter(share_code=code, status=LeaderStatus.ACTIVE).first()
