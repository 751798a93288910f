"""Waves (批次): the operator lists SKUs for a sale date with a cutoff, a pickup date, a
wave price, a per-user limit and a wave stock taken from the SKU's shelf at once."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.catalog.services import stock_reserve
from quanzi.community import clock
from quanzi.community.models import Wave, WaveItem, WaveStatus
from quanzi.core.errors import Invalid
from quanzi.core.logging import get_logger

log = get_logger("quanzi.community")

MAX_ITEMS = 100


def _clean_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise Invalid("invalid_wave", "a wave lists at least one item")
    if len(items) > MAX_ITEMS:
        raise Invalid("invalid_wave", f"at most {MAX_ITEMS} items per wave")
    seen: set[int] = set()
    clean = []
    for item in items:
        sku_id = item.get("sku_id")
        if sku_id in seen:
            raise Invalid("invalid_wave", "an SKU appears once per wave", {"sku_id": sku_id})
        seen.add(sku_id)
        price, stock = item.get("price"), item.get("stock")
        limit = item.get("per_user_limit") or 0
        rate = item.get("leader_rate_bp")
        if not isinstance(price, int) or price <= 0:
            raise Invalid("invalid_price", "the wave price is a whole number of fen above 0")
        if not isinstance(stock, int) or stock < 1 or stock > 10_000_000:
            raise Invalid("invalid_stock", "the wave stock is at least 1 unit")
        if not isinstance(limit, int) or limit < 0:
            raise Invalid("invalid_wave", "per_user_limit is a whole number ≥ 0")
        if rate is not None and (not isinstance(rate, int) or not 0 <= rate <= 5000):
            raise Invalid("invalid_commission", "leader_rate_bp is between 0 and 5000")
        clean.append(
            {
                "sku_id": sku_id,
                "price": price,
                "stock": stock,
                "per_user_limit": limit,
                "leader_rate_bp": rate,
            }
        )
    return sorted(clean, key=lambda i: i["sku_id"])  # SKU rows locked in id order


def wave_create(
    *,
    sale_date: date,
    cutoff_at: datetime,
    pickup_date: date,
    items: list[dict[str, Any]],
    title: str = "",
    pickup_start: time | None = None,
    pickup_end: time | None = None,
) -> Wave:
    """Create and publish a wave: its stock leaves the SKUs' shelves now, in one transaction."""
    if timezone.is_naive(cutoff_at):
        raise Invalid("invalid_wave", "cutoff_at needs a UTC offset")
    cutoff_at = cutoff_at.replace(microsecond=0)  # the boundary is a whole second
    if cutoff_at <= clock.now():
        raise Invalid("invalid_wave", "the cutoff is in the past")
    if pickup_date < timezone.localdate(cutoff_at):
        raise Invalid("invalid_wave", "pickup comes after the cutoff")
    if pickup_start and pickup_end and pickup_end <= pickup_start:
        raise Invalid("invalid_wave", "the pickup window ends after it starts")
    clean = _clean_items(items)
    skus = {
        s.pk: s
        for s in SKU.objects.select_related("product").filter(pk__in=[i["sku_id"] for i in clean])
    }
    for item in clean:
        sku = skus.get(item["sku_id"])
        if sku is None or not sku.is_active or not sku.product.is_active:
            raise Invalid("sku_unavailable", "this item is not on sale", {"sku_id": item["sku_id"]})
        if item["price"] > sku.price:
            raise Invalid(
                "invalid_price", "the wave price is at most the retail price", {"sku_id": sku.pk}
            )
    with transaction.atomic():
        wave = Wave.objects.create(
            title=(title or "")[:80],
            sale_date=sale_date,
            cutoff_at=cutoff_at,
            pickup_date=pickup_date,
            pickup_start=pickup_start,
            pickup_end=pickup_end,
            status=WaveStatus.OPEN,
            published_at=timezone.now(),
        )
        for item in clean:
            stock_reserve(sku_id=item["sku_id"], qty=item["stock"])
            WaveItem.objects.create(wave=wave, remaining=item["stock"], **item)
    log.info("wave published", extra={"wave_id": wave.pk, "items": len(clean)})
    return wave


def waves_open(*, now=None):
    now = now or clock.now()
    return Wave.objects.filter(status=WaveStatus.OPEN, cutoff_at__gt=now).order_by(
        "cutoff_at", "id"
    )


def wave_current(*, now=None) -> Wave | None:
    """The open wave whose cutoff comes first."""
    return waves_open(now=now).first()
