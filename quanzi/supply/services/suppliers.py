"""Who a supplier user is, and the deadline its parcels are measured against."""

from __future__ import annotations

from datetime import datetime, timedelta

from quanzi.catalog.models import Supplier
from quanzi.core.errors import Forbidden
from quanzi.supply.tracking.base import setting

DEFAULT_SHIP_WITHIN_HOURS = 48


def supplier_for_user(user) -> Supplier:
    """The supplier a signed-in user acts for: the role and a linked supplier, else 403."""
    if not getattr(user, "is_authenticated", False) or not user.has_role("supplier"):
        raise Forbidden("forbidden", "this needs the supplier role")
    supplier = Supplier.objects.filter(user_id=user.pk).order_by("id").first()
    if supplier is None:
        raise Forbidden("no_supplier", "this account is not linked to a supplier")
    return supplier


def ship_within() -> timedelta:
    hours = setting("QUANZI_SHIP_WITHIN_HOURS", str(DEFAULT_SHIP_WITHIN_HOURS))
    try:
        return timedelta(hours=max(1, int(hours)))
    except ValueError:
        return timedelta(hours=DEFAULT_SHIP_WITHIN_HOURS)


def ship_by(paid_at: datetime | None) -> datetime | None:
    """A paid order's lines must leave within ``QUANZI_SHIP_WITHIN_HOURS`` (48 h)."""
    return paid_at + ship_within() if paid_at else None
