"""At the point: the leader confirms arrival (reporting shortages, refunded at once,
most recent orders first) and verifies pickup codes, which completes the order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.community.leaders import point_of_leader
from quanzi.community.models import (
    Arrival,
    CommunityOrder,
    CommunitySettings,
    ShortageRefund,
    Wave,
    WaveStatus,
)
from quanzi.core.errors import Conflict, Invalid, NotFound, RateLimited
from quanzi.core.logging import get_logger
from quanzi.orders.models import Order, OrderLine, Refund
from quanzi.orders.models import Status as S

log = get_logger("quanzi.community")

FAILURE_WINDOW = 600


def _short_plan(point_id: int, wave_id: int, shortages: dict[int, int]) -> dict[int, list[dict]]:
    """Which orders give up which units: the most recent paid orders first. Units that a
    refund in progress already takes back are not counted twice."""
    from quanzi.orders.refunds import OPEN

    plan: dict[int, list[dict]] = defaultdict(list)
    order_ids = CommunityOrder.objects.filter(point_id=point_id, wave_id=wave_id).values("order_id")
    pending: dict[int, int] = defaultdict(int)
    for lines in Refund.objects.filter(order_id__in=order_ids, status__in=OPEN).values_list(
        "lines", flat=True
    ):
        for part in lines:
            pending[part["line_id"]] += part["qty"]
    for sku_id, short in sorted(shortages.items()):
        lines = (
            OrderLine.objects.filter(
                sku_id=sku_id,
                order__status__in=(S.TO_SHIP, S.REFUNDING),
                order_id__in=order_ids,
            )
            .order_by("-order_id")
            .values_list("id", "order_id", "qty", "refunded_qty")
        )
        left = short
        for line_id, order_id, qty, refunded in lines:
            if left <= 0:
                break
            take = min(left, qty - refunded - pending[line_id])
            if take > 0:
                plan[order_id].append({"line_id": line_id, "qty": take})
                left -= take
        if left > 0:
            raise Invalid(
                "shortage_exceeds_orders",
                "more units reported short than were ordered at this point",
                {"sku_id": sku_id, "ordered": short - left},
            )
    return plan


def arrival_confirm(
    *, user: User, point_id: int, wave_id: int, shortages: list[dict[str, Any]] | None = None
) -> Arrival:
    """The goods of ``wave_id`` reached the point; units short are refunded. Once."""
    from quanzi.notifications.services import notify

    point = point_of_leader(user=user, point_id=point_id)
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None:
        raise NotFound("wave_not_found", "no such wave")
    if wave.status != WaveStatus.CLOSED:
        raise Conflict("wave_open", "goods arrive after the wave's cutoff")
    short: dict[int, int] = defaultdict(int)
    for item in shortages or []:
        sku_id, qty = item.get("sku_id"), item.get("qty")
        if not isinstance(sku_id, int) or not isinstance(qty, int) or qty < 1:
            raise Invalid("invalid_shortage", "each shortage names an sku_id and a qty ≥ 1")
        short[sku_id] += qty
    with transaction.atomic():
        existing = Arrival.objects.filter(point=point, wave=wave).first()
        if existing is not None:
            return existing
        plan = _short_plan(point.pk, wave.pk, short)
        try:
            with transaction.atomic():
                arrival = Arrival.objects.create(
                    point=point,
                    wave=wave,
                    shortages=[{"sku_id": k, "qty": v} for k, v in sorted(short.items())],
                    confirmed_by_id=user.pk,
                )
        except IntegrityError:  # confirmed at the same moment by another request
            return Arrival.objects.get(point=point, wave=wave)
        ShortageRefund.objects.bulk_create(
            [
                ShortageRefund(arrival=arrival, order_id=oid, lines=lines)
                for oid, lines in plan.items()
            ]
        )
        for co in CommunityOrder.objects.filter(
            point=point, wave=wave, order__status=S.TO_SHIP
        ).exclude(order_id__in=list(plan)):
            notify(
                user_id=co.user_id,
                kind="community_arrived",
                title="Your goods have arrived",
                body=f"Pick them up at {point.name} with code {co.code}.",
                data={"order_id": co.order_id, "point_id": point.pk},
            )
    log.info(
        "arrival confirmed",
        extra={"point_id": point.pk, "wave_id": wave.pk, "short_orders": len(plan)},
    )
    shortage_refunds_run(arrival_id=arrival.pk)
    return arrival


def shortage_refunds_run(*, arrival_id: int | None = None) -> int:
    """Create the refund of each shortage still without one, each in its own transaction
    (an order busy with another refund waits for the next run)."""
    from quanzi.notifications.services import notify
    from quanzi.orders.refunds import OPEN, refund_create_auto

    pending = ShortageRefund.objects.filter(refund_id__isnull=True)
    if arrival_id is not None:
        pending = pending.filter(arrival_id=arrival_id)
    done = 0
    for short in list(pending.order_by("id")[:500]):
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=short.order_id)
                row = ShortageRefund.objects.select_for_update().get(pk=short.pk)
                if row.refund_id is not None:
                    continue
                if Refund.objects.filter(order=order, status__in=OPEN).exists():
                    continue
                refund = refund_create_auto(
                    order=order, reason="out of stock at the point", lines=row.lines
                )
                row.refund_id = refund.pk
                row.save(update_fields=["refund_id"])
                notify(
                    user_id=order.user_id,
                    kind="community_shortage",
                    title="Part of your order was out of stock",
                    body=f"{refund.amount / 100:.2f} yuan is on its way back to you.",
                    data={"order_id": order.pk, "refund_id": refund.pk},
                )
                done += 1
        except Exception:
            log.exception(
                "shortage refund failed; retried later", extra={"order_id": short.order_id}
            )
    return done


def pickup_verify(*, user: User, point_id: int, code: str) -> Order:
    """The leader types (or scans) the customer's code: the order is picked up and
    completed. A wrong or used code is refused; after ``pickup_attempts_per_10min`` wrong
    codes the point's verifications pause for ten minutes (a code cannot be guessed)."""
    point = point_of_leader(user=user, point_id=point_id)
    limit = CommunitySettings.current().pickup_attempts_per_10min
    failures_key = f"quanzi:community:pickup_failures:{point.pk}"
    if (cache.get(failures_key) or 0) >= limit:
        raise RateLimited(
            "rate_limited",
            "too many wrong codes; try again in a few minutes",
            {"limit": limit, "window_seconds": FAILURE_WINDOW},
        )
    try:
        return _verify(user=user, point=point, code=code)
    except (NotFound, Invalid):
        if cache.add(failures_key, 1, timeout=FAILURE_WINDOW) is False:
            try:
                cache.incr(failures_key)
            except ValueError:
                cache.add(failures_key, 1, timeout=FAILURE_WINDOW)
        raise


def _verify(*, user: User, point, code: str) -> Order:
    from quanzi.orders.services import order_complete
    from quanzi.orders.states import transition

    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise Invalid("invalid_pickup_code", "a pickup code is 6 digits")
    with transaction.atomic():
        co = CommunityOrder.objects.filter(point=point, code=code, code_active=True).first()
        if co is None:
            if CommunityOrder.objects.filter(
                point=point, code=code, picked_up_at__isnull=False
            ).exists():
                raise Conflict("pickup_code_used", "this code was used already")
            raise NotFound("invalid_pickup_code", "no order at this point has this code")
        order = Order.objects.select_for_update().get(pk=co.order_id)
        co = CommunityOrder.objects.select_for_update().get(pk=co.pk)
        if co.picked_up_at is not None or not co.code_active:
            raise Conflict("pickup_code_used", "this code was used already")
        if not Arrival.objects.filter(point=point, wave_id=co.wave_id).exists():
            raise Conflict("not_arrived", "confirm the arrival of this wave's goods first")
        if order.status != S.TO_SHIP:
            raise Conflict(
                "not_collectable", f"an order that is {order.status} cannot be picked up"
            )
        transition(order, S.PICKED_UP, actor_id=user.pk, note=f"picked up at point {point.pk}")
        co.picked_up_at = timezone.now()
        co.code_active = False
        co.save(update_fields=["picked_up_at", "code_active"])
        order = order_complete(order_id=order.pk, note="picked up")
    log.info("order picked up", extra={"order_id": order.pk, "point_id": point.pk})
    return order
