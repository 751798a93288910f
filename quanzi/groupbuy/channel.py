"""The ``"group"`` selling channel and the group subsidy observer.

Registered from ``GroupbuyConfig.ready()``. Every hook runs inside the transaction of
the order change that calls it (placement, payment, cancellation, refund).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.catalog.services import OutOfStock
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.sql import counter_add_capped, models_of, rows_update
from quanzi.core.tasks import enqueue
from quanzi.groupbuy import notices
from quanzi.groupbuy.models import (
    ACTIVE_MEMBER,
    CampaignSku,
    Group,
    GroupCampaign,
    GroupMember,
    GroupStatus,
    MemberStatus,
    UserQuota,
)
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext
from quanzi.orders.models import Status as S

log = get_logger("quanzi.groupbuy")

NAME = "group"


def group_lock(group_id: int) -> Group:
    group = Group.objects.select_for_update().filter(pk=group_id).first()
    if group is None:
        raise NotFound("group_not_found", "no such group")
    return group


def campaign_check_open(campaign: GroupCampaign, *, now=None) -> None:
    """Raise unless new groups may be opened in ``campaign`` now."""
    now = now or timezone.now()
    if (
        not campaign.is_active
        or campaign.starts_at > now
        or (campaign.ends_at is not None and campaign.ends_at <= now)
    ):
        raise Conflict(
            "campaign_not_active",
            "this group deal is not running now",
            {
                "campaign_id": campaign.pk,
                "starts_at": campaign.starts_at.isoformat(),
                "ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None,
            },
        )


def places_taken(group: Group) -> int:
    """Members holding a place: paid, reserved inside their payment window, or a hold
    whose order is being placed."""
    return GroupMember.objects.filter(group=group, status__in=ACTIVE_MEMBER).count()


def _refuse_unless_joinable(group: Group, *, user_id: int, holders: list[int], now) -> None:
    """The rules of ``group_check_joinable``, given the users holding a place."""
    if group.status == GroupStatus.PENDING:
        raise Conflict("group_not_open", "this group opens once its leader has paid")
    if group.status != GroupStatus.FORMING or (group.expires_at and group.expires_at <= now):
        raise Conflict("group_closed", "this group is no longer open", {"status": group.status})
    if group.leader_id == user_id:
        raise Conflict("own_group", "you lead this group; share it with friends instead")
    if user_id in holders:
        raise Conflict("already_joined", "you are already in this group")
    if len(holders) >= group.size:
        raise Conflict(
            "group_full",
            "every place in this group is taken; open a new one",
            {"size": group.size},
        )


def group_holders(group: Group) -> list[int]:
    """The people holding a place in ``group`` (paid, reserved, or a hold), read now."""
    return list(
        GroupMember.objects.filter(group=group, status__in=ACTIVE_MEMBER).values_list(
            "user_id", flat=True
        )
    )


def group_with_holders(group_id: int) -> tuple[Group | None, list[int]]:
    """The group and the people holding a place in it, read now, in one written-out
    statement (a join's plain-read refusals, asked by every buyer of a rush)."""
    rows = models_of(
        Group,
        f"SELECT {{columns}}, m.user_id FROM {Group._meta.db_table} g"
        f" LEFT JOIN {GroupMember._meta.db_table} m"
        " ON m.group_id = g.id AND m.status IN (%s, %s)"
        " WHERE g.id = %s ORDER BY m.id",
        [*ACTIVE_MEMBER, group_id],
        table="g",
        extra=("holder_id",),
    )
    if not rows:
        return None, []
    return rows[0], [row.holder_id for row in rows if row.holder_id is not None]


def group_check_joinable(
    group: Group, *, user_id: int, now=None, holders: list[int] | None = None
) -> None:
    """Raise unless ``user_id`` may take a slot in ``group`` now.

    Authoritative only with the group row locked (places are taken only under it, so the
    count of places cannot change under it except downwards, by a released place);
    without the lock it is a fast refusal.
    """
    now = now or timezone.now()
    if holders is None:
        holders = group_holders(group)
    _refuse_unless_joinable(group, user_id=user_id, holders=holders, now=now)


# A place taken ahead of its order is held this long for the order to be placed (it
# normally takes well under a second); past it, the place may be given to someone else.
HOLD_SECONDS = 60


def slot_take(*, group_id: int, user_id: int, sku_id: int, now=None) -> GroupMember:
    """Take a place in a forming group for ``user_id``: a hold without an order yet.

    Its own short transaction when called outside one (``services.group_join`` does):
    the group's row is locked only for the decision (lock, release the holds that ran
    out, read who holds a place, insert the hold, commit), never while stock, the
    campaign's allotment or the order are written. The order placed next attaches to
    the hold (``GroupChannel.reserve``); should it fail, ``slot_release`` frees it.
    """
    now = now or timezone.now()
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if own_transaction and connection.vendor == "postgresql":
            # The group's lock is let go without waiting for the disk. Nothing is lost by
            # it: the order attaching to the hold commits after it, synchronously, which
            # flushes the hold too; a hold lost in a crash had no order yet.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        group = group_lock(group_id)
        members = list(
            GroupMember.objects.filter(group=group, status__in=ACTIVE_MEMBER).values_list(
                "pk", "user_id", "order_id", "hold_until"
            )
        )
        ran_out = [pk for pk, _, order_id, until in members if order_id is None and until <= now]
        if ran_out:
            # Holds whose order never came give their place back. An order attaching to
            # one right now holds its row: this waits for it and then leaves it alone.
            GroupMember.objects.filter(
                pk__in=ran_out, order__isnull=True, status=MemberStatus.RESERVED
            ).update(status=MemberStatus.RELEASED)
            members = list(
                GroupMember.objects.filter(group=group, status__in=ACTIVE_MEMBER).values_list(
                    "pk", "user_id", "order_id", "hold_until"
                )
            )
        holders = [user_id for _, user_id, _, _ in members]
        _refuse_unless_joinable(group, user_id=user_id, holders=holders, now=now)
        return GroupMember.objects.create(
            group=group,
            user_id=user_id,
            sku_id=sku_id,
            qty=0,
            hold_until=now + timedelta(seconds=HOLD_SECONDS),
        )


def slot_release(*, member_id: int) -> bool:
    """Free a hold whose order was not placed (no-op once an order holds the place).

    Lowers the group's count of places without its lock, like a cancelled reservation.
    """
    return bool(
        GroupMember.objects.filter(
            pk=member_id, order__isnull=True, status=MemberStatus.RESERVED
        ).update(status=MemberStatus.RELEASED)
    )


def holds_release_expired(*, now=None, batch: int = 500) -> int:
    """Sweep: release holds whose order never came (a process died between the two)."""
    now = now or timezone.now()
    ids = list(
        GroupMember.objects.filter(
            order__isnull=True, status=MemberStatus.RESERVED, hold_until__lte=now
        ).values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    return GroupMember.objects.filter(
        pk__in=ids, order__isnull=True, status=MemberStatus.RESERVED
    ).update(status=MemberStatus.RELEASED)


def group_expiry(campaign: GroupCampaign, start) -> object:
    expires = start + timedelta(seconds=campaign.group_ttl_seconds)
    if campaign.ends_at is not None and campaign.ends_at < expires:
        expires = campaign.ends_at
    return expires


def _limit_error(campaign: GroupCampaign, held: int) -> Conflict:
    return Conflict(
        "limit_exceeded",
        "you have reached the purchase limit of this group deal",
        {"limit": campaign.per_user_limit, "held": held},
    )


def units_take(*, campaign: GroupCampaign, user_id: int, qty: int) -> None:
    """Take ``qty`` from the campaign's allotment and the person's limit (a conditional
    UPDATE and a conditional upsert)."""
    taken = GroupCampaign.objects.filter(pk=campaign.pk, stock__gte=qty).update(
        stock=F("stock") - qty
    )
    if taken != 1:
        raise OutOfStock(
            "out_of_stock", "this group deal is sold out", {"campaign_id": campaign.pk}
        )
    added = counter_add_capped(
        UserQuota,
        keys={"campaign": campaign.pk, "user": user_id},
        field="units",
        amount=qty,
        cap=campaign.per_user_limit,
    )
    if not added:
        held = (
            UserQuota.objects.filter(campaign_id=campaign.pk, user_id=user_id)
            .values_list("units", flat=True)
            .first()
        )
        raise _limit_error(campaign, held or 0)


def units_return(*, member: GroupMember, qty: int) -> None:
    """Give ``qty`` of a member's units back to the allotment and the person's limit."""
    qty = min(qty, member.qty - member.returned_qty)
    if qty <= 0:
        return
    campaign_id = member.group.campaign_id
    GroupCampaign.objects.filter(pk=campaign_id).update(stock=F("stock") + qty)
    UserQuota.objects.filter(campaign_id=campaign_id, user_id=member.user_id).update(
        units=F("units") - qty
    )
    member.returned_qty += qty
    member.save(update_fields=["returned_qty"])


def _expired(group: Group, now) -> bool:
    return group.expires_at is not None and group.expires_at <= now


class GroupChannel(Channel):
    """Orders that open or join a group. ``extra``: ``campaign_id`` (open) or ``group_id``."""

    name = NAME
    reserves_sku_stock = True

    def price(self, ctx: PlaceContext) -> None:
        now = timezone.now()
        group_id = ctx.extra.get("group_id")
        group = None
        if group_id is not None:
            if not isinstance(group_id, int):
                raise Invalid("invalid_group_order", "a group order names its group")
            group = Group.objects.select_related("campaign").filter(pk=group_id).first()
            if group is None:
                raise NotFound("group_not_found", "no such group")
            if ctx.extra.get("slot_id") is None:
                group_check_joinable(group, user_id=ctx.user.pk, now=now)  # re-checked under lock
            elif group.status != GroupStatus.FORMING or _expired(group, now):
                # The place was taken (slot_take); the group closed since.
                raise Conflict(
                    "group_closed", "this group is no longer open", {"status": group.status}
                )
            campaign = group.campaign
        else:
            campaign_id = ctx.extra.get("campaign_id")
            if not isinstance(campaign_id, int):
                raise Invalid("invalid_group_order", "a group order names its campaign")
            campaign = GroupCampaign.objects.filter(pk=campaign_id).first()
            if campaign is None:
                raise NotFound("campaign_not_found", "no such group deal")
            campaign_check_open(campaign, now=now)
        if len(ctx.lines) != 1:
            raise Invalid("invalid_group_order", "a group order buys one item of its deal")
        line = ctx.lines[0]
        offer = CampaignSku.objects.filter(campaign=campaign, sku_id=line.sku.pk).first()
        if offer is None:
            raise Invalid(
                "sku_not_in_campaign",
                "this item is not part of the group deal",
                {"sku_id": line.sku.pk},
            )
        held = (
            UserQuota.objects.filter(campaign=campaign, user_id=ctx.user.pk)
            .values_list("units", flat=True)
            .first()
        ) or 0
        if held + line.qty > campaign.per_user_limit:
            raise _limit_error(campaign, held)  # fast refusal; units_take decides for real
        is_leader = group is None
        leader_priced = is_leader and bool(offer.leader_price)
        price = offer.leader_price if leader_priced else offer.group_price
        line.unit_price = min(price, line.sku.price)
        ctx.extra["_price_kind"] = "leader" if leader_priced else "group"
        ctx.commission_enabled = campaign.commission_enabled
        ctx.accepts_coupon = campaign.accepts_coupons
        ctx.accepts_points = campaign.accepts_points
        if group is not None:
            ctx.channel_ref = str(group.pk)
        ctx.extra["_group"] = group
        ctx.extra["_campaign"] = campaign
        ctx.extra["_leader"] = is_leader

    def reserve(self, ctx: PlaceContext, order) -> None:
        # Lock order: SKU (the core, before this) → campaign → quota → group, the order
        # every group path follows (see the package docstring). A join whose place was
        # taken beforehand (``slot_id``, see ``slot_take``) locks no group row here.
        campaign: GroupCampaign = ctx.extra["_campaign"]
        line = ctx.lines[0]
        user_id = ctx.user.pk
        units_take(campaign=campaign, user_id=user_id, qty=line.qty)
        slot_id = ctx.extra.get("slot_id")
        if slot_id is not None:
            group: Group = ctx.extra["_group"]
            self._cap_expiry(order, group)
            # The hold becomes the order's place. Its row lock (held to commit) keeps a
            # joiner releasing run-out holds off it; a hold already released is gone.
            attached = GroupMember.objects.filter(
                pk=slot_id,
                group_id=group.pk,
                user_id=user_id,
                order__isnull=True,
                status=MemberStatus.RESERVED,
            ).update(order=order, sku=line.sku, qty=line.qty, hold_until=None)
            if attached != 1:
                raise Conflict(
                    "group_full",
                    "every place in this group is taken; open a new one",
                    {"size": group.size},
                )
            log.info(
                "group slot reserved",
                extra={"group_id": group.pk, "order_id": order.pk, "user_id": user_id},
            )
            return
        if ctx.extra["_leader"]:
            group = Group.objects.create(
                campaign=campaign, leader_id=user_id, size=campaign.group_size
            )
            order.channel_ref = str(group.pk)
            fields = ["channel_ref"]
            if campaign.ends_at is not None and order.expires_at > campaign.ends_at:
                order.expires_at = campaign.ends_at
                fields.append("expires_at")
            order.save(update_fields=fields)
        else:
            # No place taken beforehand (a caller inside a transaction of its own): the
            # decision is made here, under the group's lock held to this commit.
            group = group_lock(int(ctx.channel_ref))
            group_check_joinable(group, user_id=user_id)  # "full?" under the lock
            self._cap_expiry(order, group)
        GroupMember.objects.create(
            group=group,
            user_id=user_id,
            order=order,
            sku=line.sku,
            qty=line.qty,
            is_leader=bool(ctx.extra["_leader"]),
        )
        log.info(
            "group slot reserved",
            extra={"group_id": group.pk, "order_id": order.pk, "user_id": user_id},
        )

    @staticmethod
    def _cap_expiry(order, group: Group) -> None:
        if group.expires_at is not None and order.expires_at > group.expires_at:
            # The slot is held no longer than the group itself lives.
            order.expires_at = group.expires_at
            order.save(update_fields=["expires_at"])

    def after_paid(self, order) -> str:
        # The group locked through the order's member in one statement (no row: not a
        # group order of ours, nothing to decide), then the member read under the lock.
        group = (
            Group.objects.select_for_update(of=("self",)).filter(members__order_id=order.pk).first()
        )
        if group is None:
            return S.TO_SHIP
        member = GroupMember.objects.select_related("user").get(order_id=order.pk)
        now = timezone.now()
        # A forming group takes money only inside its window: past ``expires_at`` the
        # place is lost even before the expiry sweep has closed the group.
        slot_held = member.status == MemberStatus.RESERVED and (
            (group.status == GroupStatus.FORMING and not _expired(group, now))
            or (group.status == GroupStatus.PENDING and member.is_leader)
        )
        if not slot_held:
            return self._slot_lost(order, group, member)
        member.status = MemberStatus.PAID
        member.paid_at = now
        rows_update(
            GroupMember, fields=["status", "paid_at"], rows=[(member.pk, member.status, now)]
        )
        group.paid_count += 1
        fields = ["paid_count"]
        if group.status == GroupStatus.PENDING:
            campaign = GroupCampaign.objects.get(pk=group.campaign_id)
            group.status = GroupStatus.FORMING
            group.formed_at = now
            group.expires_at = group_expiry(campaign, now)
            fields += ["status", "formed_at", "expires_at"]
        rows_update(Group, fields=fields, rows=[(group.pk, *(getattr(group, f) for f in fields))])
        if group.paid_count >= group.size:
            from quanzi.groupbuy.services import group_succeed

            group_succeed(group=group)
            return S.TO_SHIP
        notices.member_paid(group=group, member=member)
        return S.GROUPING

    def _slot_lost(self, order, group: Group, member: GroupMember) -> str:
        """A payment came in for a slot the group can no longer give: return it in full."""
        member.status = MemberStatus.LOST
        member.save(update_fields=["status"])
        # The refund is created after commit, once the payment is recorded as the order's
        # (the refund must go back through it); the stragglers sweep is the safety net.
        enqueue("quanzi.groupbuy.services.member_refund_lost", order_id=order.pk)
        notices.slot_lost(group=group, member=member)
        log.warning(
            "payment for a lost group slot; refunding",
            extra={"group_id": group.pk, "order_id": order.pk, "group_status": group.status},
        )
        return S.PAID

    def on_cancelled(self, order) -> None:
        # The order is locked by the caller, and only paths holding it change its member
        # row. Freeing the place touches no shared group row, so this never waits on a
        # payment in flight (the payment-timeout sweep cancels many orders in one
        # transaction).
        member = GroupMember.objects.select_related("group").filter(order_id=order.pk).first()
        if member is None or member.status != MemberStatus.RESERVED:
            return
        units_return(member=member, qty=member.qty)
        member.status = MemberStatus.RELEASED
        member.save(update_fields=["status"])
        if member.is_leader and member.group.status == GroupStatus.PENDING:
            # Nobody else can be in a group whose leader has not paid.
            group = group_lock(member.group_id)
            if group.status == GroupStatus.PENDING:
                group.status = GroupStatus.CANCELLED
                group.closed_at = timezone.now()
                group.save(update_fields=["status", "closed_at"])

    def on_refunded(self, order, refund) -> None:
        member = GroupMember.objects.select_related("group").filter(order_id=order.pk).first()
        if member is None:
            return
        if refund.restock:
            units_return(member=member, qty=sum(part["qty"] for part in refund.lines))
        group = group_lock(member.group_id)
        if (
            order.status == S.REFUNDED
            and member.status == MemberStatus.PAID
            and group.status != GroupStatus.SUCCEEDED
        ):
            # Refunded in full before the group succeeded: the place is free again (a
            # forming group) or the failed group's refund is done.
            member.status = MemberStatus.REFUNDED
            member.save(update_fields=["status"])
            group.paid_count -= 1
            group.save(update_fields=["paid_count"])
        if refund.amount > 0:
            notices.refunded(group=group, member=member, refund=refund)

    def may_ship(self, order) -> bool:
        return Group.objects.filter(
            members__order_id=order.pk, status=GroupStatus.SUCCEEDED
        ).exists()


class GroupSubsidy(OrderObserver):
    """At settlement, a group price below the supply cost books the gap as marketing
    subsidy instead of silently shrinking platform revenue."""

    def settlement_legs(self, order, net_lines):
        from quanzi.ledger import accounts as chart
        from quanzi.ledger.services import Leg

        if order.channel != NAME:
            return []
        lines = {line.pk: line for line in order.lines.all()}
        gap = 0
        for net in net_lines:
            line = lines[net["line_id"]]
            gap += max(0, (line.supply_price - line.unit_price) * net["qty"])
        return [Leg(chart.MARKETING_SUBSIDY, gap)] if gap else []
