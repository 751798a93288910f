"""Group buying operations: campaigns, opening and joining groups, success, expiry.

Opening and joining sell through ``orders.services.order_place`` (channel ``"group"``),
so stock, pricing and the ledger stay one pipeline; the channel hooks in ``channel.py``
reserve the slot and react to payment, cancellation and refunds.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.models import SKU
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.sql import insert_many, rows_update
from quanzi.core.tasks import enqueue
from quanzi.groupbuy import notices
from quanzi.groupbuy.channel import (
    NAME,
    group_check_joinable,
    group_with_holders,
    slot_release,
    slot_take,
)
from quanzi.groupbuy.models import (
    ACTIVE_MEMBER,
    CampaignSku,
    Group,
    GroupCampaign,
    GroupMember,
    GroupStatus,
    MemberStatus,
)
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.models import Order, OrderEvent, Refund
from quanzi.orders.models import Status as S
from quanzi.orders.refunds import OPEN as OPEN_REFUND
from quanzi.orders.refunds import refund_create_auto
from quanzi.orders.services import order_place
from quanzi.orders.states import transition
from quanzi.risk.services import RiskInput, risk_check_or_refuse

log = get_logger("quanzi.groupbuy")

MAX_GROUP_SIZE = 100
MIN_TTL, MAX_TTL = 60, 30 * 86_400
MAX_PRICE = 100_000_000


# --- campaigns -------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_offers(skus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not skus:
        raise Invalid("invalid_sku", "a group deal needs at least one SKU", {"field": "skus"})
    clean: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in skus:
        sku_id = item.get("sku_id")
        if not _is_int(sku_id) or sku_id in seen:
            raise Invalid("invalid_sku", "each SKU appears once", {"sku_id": sku_id})
        seen.add(sku_id)
        group_price, leader_price = item.get("group_price"), item.get("leader_price")
        if not _is_int(group_price) or group_price <= 0 or group_price > MAX_PRICE:
            raise Invalid(
                "invalid_price",
                "the group price is a whole number of fen above 0",
                {"sku_id": sku_id, "field": "group_price"},
            )
        if leader_price is not None and (
            not _is_int(leader_price) or leader_price <= 0 or leader_price > group_price
        ):
            raise Invalid(
                "invalid_price",
                "the leader price is between 1 fen and the group price",
                {"sku_id": sku_id, "field": "leader_price"},
            )
        clean.append({"sku_id": sku_id, "group_price": group_price, "leader_price": leader_price})
    return clean


def campaign_create(
    *,
    title: str,
    skus: list[dict[str, Any]],
    group_size: int,
    group_ttl_seconds: int,
    per_user_limit: int,
    stock: int,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    simulated_fill_max_missing: int | None = 0,
    commission_enabled: bool = False,
    accepts_coupons: bool = False,
    accepts_points: bool = False,
) -> GroupCampaign:
    """Create a campaign. Refuses a window overlapping another active campaign on any of
    the same SKUs (409 ``campaign_overlap``)."""
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise Invalid("invalid_title", "a group deal needs a title of at most 120 characters")
    if not _is_int(group_size) or group_size < 2 or group_size > MAX_GROUP_SIZE:
        raise Invalid(
            "group_size_invalid",
            f"a group has between 2 and {MAX_GROUP_SIZE} members",
            {"group_size": group_size},
        )
    if not _is_int(group_ttl_seconds) or not MIN_TTL <= group_ttl_seconds <= MAX_TTL:
        raise Invalid("invalid_ttl", f"a group stays open between {MIN_TTL} seconds and 30 days")
    if not _is_int(per_user_limit) or per_user_limit < 1 or per_user_limit > 10_000:
        raise Invalid("invalid_limit", "the per-user limit is between 1 and 10,000 units")
    if not _is_int(stock) or stock < 1 or stock > 10_000_000:
        raise Invalid("invalid_stock", "allot between 1 and 10,000,000 units to the deal")
    fill = simulated_fill_max_missing or 0
    if not _is_int(fill) or fill < 0 or fill >= group_size:
        raise Invalid(
            "invalid_simulated_fill",
            "simulated fill completes groups missing fewer members than the group size",
        )
    now = timezone.now()
    starts_at = _aware(starts_at) or now
    ends_at = _aware(ends_at)
    if ends_at is not None and (ends_at <= starts_at or ends_at <= now):
        raise Invalid("invalid_window", "the deal must end after it starts, in the future")
    offers = _validate_offers(skus)
    with transaction.atomic():
        # Lock the SKUs so that two campaigns created at once cannot both pass the
        # overlap check.
        sku_ids = sorted(o["sku_id"] for o in offers)
        found = {
            sku.pk: sku
            for sku in SKU.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk__in=sku_ids)
            .order_by("pk")
        }
        for offer in offers:
            sku = found.get(offer["sku_id"])
            if sku is None or not sku.is_active or not sku.product.is_active:
                raise Invalid(
                    "sku_unavailable", "this item is not on sale", {"sku_id": offer["sku_id"]}
                )
            if offer["group_price"] > sku.price:
                raise Invalid(
                    "invalid_price",
                    "the group price cannot be above the retail price",
                    {"sku_id": sku.pk, "field": "group_price"},
                )
        products = {sku.product_id for sku in found.values()}
        if len(products) != 1:
            raise Invalid("skus_of_one_product", "a group deal covers SKUs of one product")
        overlapping = CampaignSku.objects.filter(
            sku_id__in=sku_ids, campaign__is_active=True
        ).filter(Q(campaign__ends_at__isnull=True) | Q(campaign__ends_at__gt=starts_at))
        if ends_at is not None:
            overlapping = overlapping.filter(campaign__starts_at__lt=ends_at)
        clash = overlapping.values("campaign_id", "sku_id").first()
        if clash is not None:
            raise Conflict(
                "campaign_overlap",
                "this SKU is already in a group deal during that time; one deal per SKU at once",
                clash,
            )
        campaign = GroupCampaign.objects.create(
            title=title,
            product_id=products.pop(),
            group_size=group_size,
            group_ttl_seconds=group_ttl_seconds,
            starts_at=starts_at,
            ends_at=ends_at,
            per_user_limit=per_user_limit,
            stock_allotted=stock,
            stock=stock,
            simulated_fill_max_missing=fill,
            commission_enabled=commission_enabled,
            accepts_coupons=accepts_coupons,
            accepts_points=accepts_points,
        )
        CampaignSku.objects.bulk_create(
            [
                CampaignSku(
                    campaign=campaign,
                    sku_id=o["sku_id"],
                    group_price=o["group_price"],
                    leader_price=o["leader_price"],
                )
                for o in offers
            ]
        )
    log.info("group campaign created", extra={"campaign_id": campaign.pk})
    return campaign


def campaign_update(*, campaign_id: int, **changes: Any) -> GroupCampaign:
    """Edit a running campaign. What changes applies to groups opened from now on: a
    group keeps the size and lifetime it opened with, and an order keeps the price it
    was placed at. The allotment can grow, or shrink down to what is already taken.

    ``changes`` may hold: title, group_price, leader_price (None removes it),
    group_size, group_ttl_seconds, per_user_limit, stock (the new allotment), ends_at,
    simulated_fill_max_missing, commission_enabled, accepts_coupons, accepts_points.
    """
    allowed = {
        "title",
        "group_price",
        "leader_price",
        "group_size",
        "group_ttl_seconds",
        "per_user_limit",
        "stock",
        "ends_at",
        "simulated_fill_max_missing",
        "commission_enabled",
        "accepts_coupons",
        "accepts_points",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid("invalid_change", "these cannot be changed", {"fields": sorted(unknown)})
    with transaction.atomic():
        campaign = GroupCampaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound("campaign_not_found", "no such group deal")
        if not campaign.is_active:
            raise Conflict("campaign_ended", "an ended group deal cannot be edited")
        if "title" in changes:
            title = (changes["title"] or "").strip()
            if not title or len(title) > 120:
                raise Invalid(
                    "invalid_title", "a group deal needs a title of at most 120 characters"
                )
            campaign.title = title
        size = changes.get("group_size", campaign.group_size)
        if not _is_int(size) or size < 2 or size > MAX_GROUP_SIZE:
            raise Invalid(
                "group_size_invalid",
                f"a group has between 2 and {MAX_GROUP_SIZE} members",
                {"group_size": size},
            )
        campaign.group_size = size
        ttl = changes.get("group_ttl_seconds", campaign.group_ttl_seconds)
        if not _is_int(ttl) or not MIN_TTL <= ttl <= MAX_TTL:
            raise Invalid(
                "invalid_ttl", f"a group stays open between {MIN_TTL} seconds and 30 days"
            )
        campaign.group_ttl_seconds = ttl
        limit = changes.get("per_user_limit", campaign.per_user_limit)
        if not _is_int(limit) or limit < 1 or limit > 10_000:
            raise Invalid("invalid_limit", "the per-user limit is between 1 and 10,000 units")
        campaign.per_user_limit = limit
        fill = changes.get("simulated_fill_max_missing", campaign.simulated_fill_max_missing)
        fill = fill or 0
        if not _is_int(fill) or fill < 0 or fill >= size:
            raise Invalid(
                "invalid_simulated_fill",
                "simulated fill completes groups missing fewer members than the group size",
            )
        campaign.simulated_fill_max_missing = fill
        if "stock" in changes:
            allotted = changes["stock"]
            taken = campaign.stock_allotted - campaign.stock
            if not _is_int(allotted) or allotted < max(1, taken) or allotted > 10_000_000:
                raise Invalid(
                    "invalid_stock",
                    f"allot at least the {taken} units already taken, at most 10,000,000",
                    {"taken": taken},
                )
            campaign.stock = allotted - taken
            campaign.stock_allotted = allotted
        if "ends_at" in changes:
            ends_at = _aware(changes["ends_at"])
            if ends_at is not None and (ends_at <= campaign.starts_at or ends_at <= timezone.now()):
                raise Invalid("invalid_window", "the deal must end after it starts, in the future")
            campaign.ends_at = ends_at
        for flag in ("commission_enabled", "accepts_coupons", "accepts_points"):
            if flag in changes:
                setattr(campaign, flag, bool(changes[flag]))
        campaign.save()
        if "group_price" in changes or "leader_price" in changes:
            for offer in CampaignSku.objects.select_related("sku").filter(campaign=campaign):
                price = changes.get("group_price", offer.group_price)
                leader = changes.get("leader_price", offer.leader_price)
                if not _is_int(price) or not 1 <= price <= offer.sku.price:
                    raise Invalid(
                        "invalid_price",
                        "the group price is between 0.01 and the retail price",
                        {"field": "group_price"},
                    )
                if leader is not None and (not _is_int(leader) or not 1 <= leader <= price):
                    raise Invalid(
                        "invalid_price",
                        "the leader price is at most the group price",
                        {"field": "leader_price"},
                    )
                offer.group_price, offer.leader_price = price, leader
                offer.save(update_fields=["group_price", "leader_price"])
    log.info("group campaign updated", extra={"campaign_id": campaign.pk})
    return campaign


def campaign_end(*, campaign_id: int) -> GroupCampaign:
    """Stop opening new groups now. Forming groups run to their own expiry."""
    with transaction.atomic():
        campaign = GroupCampaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound("campaign_not_found", "no such group deal")
        if campaign.is_active:
            now = timezone.now()
            campaign.is_active = False
            if campaign.ends_at is None or campaign.ends_at > now:
                campaign.ends_at = max(now, campaign.starts_at + timedelta(seconds=1))
            campaign.save(update_fields=["is_active", "ends_at"])
    return campaign


# --- opening and joining ---------------------------------------------------------------


def group_open(
    *,
    user: User,
    campaign_id: int,
    sku_id: int,
    qty: int,
    address_id: int | None,
    coupon_id: int | None = None,
    points: int = 0,
    share_token: str = "",
) -> Order:
    """Open a group as its leader: a ``pending_payment`` order; the group forms once paid."""
    return order_place(
        user=user,
        items=[{"sku_id": sku_id, "qty": qty}],
        address_id=address_id,
        coupon_id=coupon_id,
        points=points,
        share_token=share_token,
        channel=NAME,
        extra={"campaign_id": campaign_id},
    )


def group_slot_take(*, user: User, group_id: int, sku_id: int) -> GroupMember:
    """Take a place in a forming group ahead of the order that pays for it (a hold).

    The obvious refusals (no such group, not open, full, already in it, an item not in
    the deal) come from plain reads; the decision itself is ``channel.slot_take``'s, in
    a short transaction of its own under the group's lock. Call it outside a transaction
    and pass the hold to ``group_join``; free it with ``group_slot_release`` when the
    join does not go through. While another join of the same person is in flight (their
    place a hold with no order yet), it waits for that one's outcome (docs/groupbuy.md).
    """
    waited_until = None
    while True:
        try:
            return _slot_take_once(user=user, group_id=group_id, sku_id=sku_id)
        except Conflict as exc:
            # The person's own place is a hold whose order is still being placed: another
            # request of theirs is in flight (typically the same join sent again after a
            # timeout, with the same Idempotency-Key). Its outcome decides this answer,
            # so wait for it: once its order holds the place this is ``already_joined``
            # (and a keyed retry then replays the first request's answer); if it let the
            # place go, the place is taken again here.
            if exc.code != "already_joined" or not _own_hold_in_flight(group_id, user.pk):
                raise
            now = time.monotonic()
            if waited_until is None:
                waited_until = now + TWIN_WAIT_SECONDS
            elif now >= waited_until:
                raise
            time.sleep(0.05)


# How long a join waits for the person's own join already in flight (it normally takes
# well under a second); past it the answer is ``already_joined``.
TWIN_WAIT_SECONDS = 10


def _own_hold_in_flight(group_id: int, user_id: int) -> bool:
    return GroupMember.objects.filter(
        group_id=group_id,
        user_id=user_id,
        status__in=ACTIVE_MEMBER,
        order_id__isnull=True,
        hold_until__gt=timezone.now(),
    ).exists()


def _slot_take_once(*, user: User, group_id: int, sku_id: int) -> GroupMember:
    group, holders = group_with_holders(group_id)
    if group is None:
        raise NotFound("group_not_found", "no such group")
    group_check_joinable(group, user_id=user.pk, holders=holders)  # decided under the lock
    _join_risk_ask(user=user, group=group, holders=holders)
    if not CampaignSku.objects.filter(campaign_id=group.campaign_id, sku_id=sku_id).exists():
        raise Invalid(
            "sku_not_in_campaign", "this item is not part of the group deal", {"sku_id": sku_id}
        )
    return slot_take(group_id=group.pk, user_id=user.pk, sku_id=sku_id)


def group_slot_release(*, slot_id: int) -> bool:
    """Free a hold whose order was not placed; a no-op once its order holds the place."""
    return slot_release(member_id=slot_id)


def _join_risk_ask(*, user: User, group: Group, holders: list[int]) -> None:
    """A join related to the leader or to other members, or a group filling up with fresh
    accounts tied to each other (刷单), is refused with ``403`` (``risk_denied``,
    ``risk_verify`` or ``risk_held``). Read without a lock (``holders``: the people
    holding a place, ``group_with_holders``): the slot is checked later."""
    if group.status != GroupStatus.FORMING or group.leader_id == user.pk:
        return  # the channel answers these
    others = set(holders) - {group.leader_id}
    if user.pk in others:
        return  # already a member: the channel answers
    risk_check_or_refuse(
        RiskInput(
            kind="group_join",
            user_id=user.pk,
            counterpart_id=group.leader_id,
            subject=f"group:{group.pk}",
            members=tuple(sorted(others | {user.pk})),
        ),
        what="join",
    )


def group_join(
    *,
    user: User,
    group_id: int,
    sku_id: int,
    qty: int,
    address_id: int | None,
    coupon_id: int | None = None,
    points: int = 0,
    share_token: str = "",
    slot_id: int | None = None,
) -> Order:
    """Take a slot in a forming group: held for the order's payment window.

    The place is taken first, in its own short transaction (``group_slot_take``), and the
    order (stock, allotment, limit, pricing) is placed after it, without the group's
    lock; a failed placement frees the place at once. ``slot_id`` is a hold the caller
    took already (the API takes it before its idempotent transaction). Called inside a
    transaction with no hold, the place is decided under the group's lock in that
    transaction, as part of the placement.

    Risk control is asked first, before any place is taken (``_join_risk_ask``; a hold
    passed in was asked when ``group_slot_take`` took it).
    """
    own_hold = slot_id is None and not transaction.get_connection().in_atomic_block
    if own_hold:
        slot_id = group_slot_take(user=user, group_id=group_id, sku_id=sku_id).pk
    elif slot_id is None:
        group, holders = group_with_holders(group_id)
        if group is not None:  # else the channel answers group_not_found
            _join_risk_ask(user=user, group=group, holders=holders)
    extra: dict[str, Any] = {"group_id": group_id}
    if slot_id is not None:
        extra["slot_id"] = slot_id
    try:
        return order_place(
            user=user,
            items=[{"sku_id": sku_id, "qty": qty}],
            address_id=address_id,
            coupon_id=coupon_id,
            points=points,
            share_token=share_token,
            channel=NAME,
            extra=extra,
        )
    except BaseException:
        if own_hold:
            slot_release(member_id=slot_id)
        raise


# --- success ---------------------------------------------------------------------------


def _ship_order(order: Order, *, group: Group, events: list | None = None) -> bool:
    """A member order of a succeeded group leaves ``grouping`` for ``to_ship``. With
    ``events`` the order is not saved: its new state is the caller's to write, and its
    event is appended there (``transition``)."""
    if order.status in (S.GROUPING, S.PAID):
        transition(
            order,
            S.TO_SHIP,
            note=f"group {group.pk} succeeded",
            save=events is None,
            events=events,
        )
        return True
    if order.status == S.REFUNDING and order.status_before_refund in (S.GROUPING, S.PAID):
        # A refund is being decided: if it is turned down, the order ships.
        order.status_before_refund = S.TO_SHIP
        if events is None:
            order.save(update_fields=["status_before_refund"])
        return True
    return False


def group_succeed(*, group: Group) -> None:
    """Mark a locked group succeeded, in the caller's transaction (the payment that
    completed it, or the expiry sweep's simulated fill).

    The members' orders are not locked here: nothing that holds a group row waits for an
    order row (docs/architecture.md, "Lock order"). Each paid member's order is sent to
    shipping right after commit in its own transaction (``member_ship``), and the
    ``groupbuy.ship_stragglers`` sweep does it should that be interrupted. The paying
    order moves on through ``after_paid``.
    """
    members = list(
        GroupMember.objects.select_related("user")
        .filter(group=group, status=MemberStatus.PAID)
        .order_by("order_id")
    )
    group.status = GroupStatus.SUCCEEDED
    group.closed_at = timezone.now()
    group.save()
    enqueue("quanzi.groupbuy.services.group_ship", group_id=group.pk)
    notices.succeeded(group=group, members=members)
    log.info(
        "group succeeded",
        extra={"group_id": group.pk, "paid": group.paid_count, "simulated": group.simulated},
    )


def member_ship(*, order_id: int) -> bool:
    """Send a paid member's order of a succeeded group to shipping (idempotent)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        member = GroupMember.objects.filter(order_id=order_id, status=MemberStatus.PAID).first()
        if order is None or member is None:
            return False
        # A group's success is final: reading it without its lock is safe.
        group = Group.objects.get(pk=member.group_id)
        if group.status != GroupStatus.SUCCEEDED:
            return False
        return _ship_order(order, group=group)


def group_ship(*, group_id: int) -> int:
    """Send the paid members' orders of a succeeded group to shipping, together in one
    transaction (idempotent): their orders locked in id order, each one still waiting
    moved to ``to_ship`` (or, while a refund is decided, set to ship if it is turned
    down), the orders and their events written in one statement each. Returns how many
    it moved."""
    with transaction.atomic():
        # A group's success is final: reading it without its lock is safe.
        group = Group.objects.filter(pk=group_id, status=GroupStatus.SUCCEEDED).first()
        if group is None:
            return 0
        paid = GroupMember.objects.filter(group_id=group_id, status=MemberStatus.PAID)
        orders = list(
            Order.objects.select_for_update().filter(pk__in=paid.values("order_id")).order_by("pk")
        )
        events: list[OrderEvent] = []
        moved = [order for order in orders if _ship_order(order, group=group, events=events)]
        rows_update(
            Order,
            fields=["status", "status_before_refund"],
            rows=[(o.pk, o.status, o.status_before_refund) for o in moved],
        )
        insert_many(events)
    return len(moved)


def groups_ship_stragglers(*, batch: int = 200) -> int:
    """Sweep: ship every paid member order of a succeeded group still waiting for it."""
    ids = list(
        GroupMember.objects.filter(status=MemberStatus.PAID, group__status=GroupStatus.SUCCEEDED)
        .filter(
            Q(order__status__in=[S.PAID, S.GROUPING])
            | Q(order__status=S.REFUNDING, order__status_before_refund__in=[S.PAID, S.GROUPING])
        )
        .order_by("order_id")
        .values_list("order_id", flat=True)[:batch]
    )
    done = 0
    for order_id in ids:
        try:
            if member_ship(order_id=order_id):
                done += 1
        except Exception:  # noqa: BLE001 - one bad order must not stop the others
            log.exception("group member shipping failed", extra={"order_id": order_id})
    return done


def _simulated_fill(group: Group, paid: list[GroupMember], missing: int) -> None:
    """The platform completes the group: it buys the missing units from the supplier."""
    basis = next((m for m in paid if m.is_leader), paid[0])
    cost = basis.sku.supply_price * missing
    group.simulated = True
    group.simulated_members = missing
    group.subsidy = cost
    if cost:
        entry_post(
            key=f"groupfill:{group.pk}",
            kind="group_fill",
            legs=[
                Leg(chart.MARKETING_SUBSIDY, cost),
                Leg(chart.supplier_payable(basis.sku.product.supplier_id), -cost),
            ],
            memo=f"simulated fill of group {group.pk}: {missing} × sku {basis.sku_id}",
        )


# --- expiry ----------------------------------------------------------------------------


def group_expire(*, group_id: int, now: datetime | None = None) -> str | None:
    """Close one group whose time ran out: simulated fill or failure with refunds.

    One short transaction marks the group; it locks only the group row, with NOWAIT (a
    busy group raises ``OperationalError`` and is retried by the next sweep run), and no
    order row. Then each paid member is refunded (or, after a simulated fill, shipped)
    in a transaction of its own, so one member whose order cannot be refunded now (a
    refund of it already in flight) holds up nobody else; the
    ``groupbuy.refund_stragglers`` sweep refunds it later. Unpaid reservations are past
    their payment window already (it never outlives the group): the payment-timeout
    sweep cancels them, and a payment that still comes in finds the group closed and is
    refunded. Returns the outcome, or ``None`` when there was nothing to do.
    """
    now = now or timezone.now()
    with transaction.atomic():
        group = Group.objects.select_for_update(nowait=True).filter(pk=group_id).first()
        if (
            group is None
            or group.status != GroupStatus.FORMING
            or group.expires_at is None
            or group.expires_at > now
        ):
            return None
        campaign = GroupCampaign.objects.get(pk=group.campaign_id)
        members = list(
            GroupMember.objects.select_related("user", "sku__product")
            .filter(group=group, status__in=ACTIVE_MEMBER, order__isnull=False)
            .order_by("order_id")
        )
        paid = [m for m in members if m.status == MemberStatus.PAID]
        missing = group.size - len(paid)
        if paid and 0 < missing <= campaign.simulated_fill_max_missing:
            _simulated_fill(group, paid, missing)
            group_succeed(group=group)
            return GroupStatus.SUCCEEDED
        group.status = GroupStatus.FAILED
        group.closed_at = now
        group.save(update_fields=["status", "closed_at"])
        notices.failed(group=group, members=members)
        log.info("group failed", extra={"group_id": group.pk, "paid": len(paid)})
    for member in paid:
        try:
            _refund_if_owed(member.order_id, f"group {group.pk} failed")
        except Exception:  # noqa: BLE001 - the others are refunded; the sweep retries it
            log.exception(
                "group member refund failed",
                extra={"group_id": group.pk, "order_id": member.order_id},
            )
    return GroupStatus.FAILED


def groups_expire_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Sweep: close every forming group whose time ran out (idempotent, crash-safe)."""
    now = now or timezone.now()
    ids = list(
        Group.objects.filter(status=GroupStatus.FORMING, expires_at__lte=now)
        .order_by("expires_at", "id")
        .values_list("id", flat=True)[:batch]
    )
    done = 0
    for group_id in ids:
        try:
            if group_expire(group_id=group_id, now=now):
                done += 1
        except OperationalError:
            log.info("group busy; next run closes it", extra={"group_id": group_id})
        except Exception:  # noqa: BLE001 - one bad group must not stop the others
            log.exception("group expiry failed", extra={"group_id": group_id})
    return done


# --- refunds the groups owe ------------------------------------------------------------


def _refund_if_owed(order_id: int, reason: str) -> bool:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status not in (S.PAID, S.GROUPING):
            return False
        if Refund.objects.filter(order=order, status__in=OPEN_REFUND).exists():
            # Another refund of this order is in flight (a second payment going back):
            # one refund at a time per order; the stragglers sweep comes back for it.
            log.info("order busy with a refund; refunded later", extra={"order_id": order_id})
            return False
        member = GroupMember.objects.select_related("group").filter(order=order).first()
        owed = member is not None and (
            member.status == MemberStatus.LOST
            or (member.status == MemberStatus.PAID and member.group.status == GroupStatus.FAILED)
        )
        if not owed:
            return False
        refund_create_auto(order=order, reason=reason)
        return True


def member_refund_lost(*, order_id: int) -> bool:
    """Refund in full an order that paid for a slot its group could no longer give."""
    return _refund_if_owed(order_id, "group slot lost")


def groups_refund_stragglers(*, batch: int = 200) -> int:
    """Sweep: refund every paid order that a failed group (or a lost slot) still owes.

    Covers orders whose own refund was in progress when their group failed (and was then
    turned down or was partial) and lost slots whose after-commit refund was interrupted.
    """
    ids = list(
        GroupMember.objects.filter(
            Q(status=MemberStatus.LOST)
            | Q(status=MemberStatus.PAID, group__status=GroupStatus.FAILED),
            order__status__in=[S.PAID, S.GROUPING],
        )
        .order_by("order_id")
        .values_list("order_id", flat=True)[:batch]
    )
    done = 0
    for order_id in ids:
        try:
            if _refund_if_owed(order_id, "group failed"):
                done += 1
        except Exception:  # noqa: BLE001 - one bad order must not stop the others
            log.exception("group refund failed", extra={"order_id": order_id})
    return done
