"""Group buying invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, F, Q, Sum

from quanzi.groupbuy.models import (
    ACTIVE_MEMBER,
    Group,
    GroupCampaign,
    GroupMember,
    GroupStatus,
    MemberStatus,
    UserQuota,
)
from quanzi.ledger.checks import invariant
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.orders.models import Status as S

SHIPPING_ON = [S.TO_SHIP, S.SHIPPED, S.DELIVERED, S.PICKED_UP, S.COMPLETED]


@invariant("groups never hold more members than their size")
def _group_counts() -> Iterator[str]:
    counted = Group.objects.annotate(
        active=Count("members", filter=Q(members__status__in=ACTIVE_MEMBER)),
        paid=Count("members", filter=Q(members__status=MemberStatus.PAID)),
    )
    for group in counted.filter(active__gt=F("size"))[:20]:
        yield f"group {group.pk} holds {group.active} places of {group.size}"
    for group in counted.exclude(paid_count=F("paid"))[:20]:
        yield f"group {group.pk} counts {group.paid_count} paid members but has {group.paid}"


@invariant("group campaign allotments add up")
def _allotments() -> Iterator[str]:
    held = dict(
        GroupMember.objects.values_list("group__campaign_id")
        .annotate(units=Sum(F("qty") - F("returned_qty")))
        .values_list("group__campaign_id", "units")
    )
    for campaign in GroupCampaign.objects.only("id", "stock", "stock_allotted").iterator():
        units = held.get(campaign.pk) or 0
        if campaign.stock + units != campaign.stock_allotted:
            yield (
                f"campaign {campaign.pk}: {campaign.stock} left + {units} held "
                f"!= {campaign.stock_allotted} allotted"
            )


@invariant("group buyers' limits match their units")
def _quotas() -> Iterator[str]:
    held: dict[tuple[int, int], int] = defaultdict(int)
    rows = (
        GroupMember.objects.values_list("group__campaign_id", "user_id")
        .annotate(units=Sum(F("qty") - F("returned_qty")))
        .values_list("group__campaign_id", "user_id", "units")
    )
    for campaign_id, user_id, units in rows:
        held[(campaign_id, user_id)] = units or 0
    for quota in UserQuota.objects.iterator():
        units = held.pop((quota.campaign_id, quota.user_id), 0)
        if quota.units != units:
            yield f"user {quota.user_id} in campaign {quota.campaign_id} counts {quota.units} units, holds {units}"
    for (campaign_id, user_id), units in list(held.items())[:20]:
        if units:
            yield f"user {user_id} holds {units} units in campaign {campaign_id} without a quota row"


@invariant("group orders ship only after their group succeeded")
def _ship_after_success() -> Iterator[str]:
    early = GroupMember.objects.exclude(group__status=GroupStatus.SUCCEEDED).filter(
        order__status__in=SHIPPING_ON
    )
    for member in early[:20]:
        yield f"order {member.order_id} ships but group {member.group_id} has not succeeded"
    stuck = GroupMember.objects.filter(
        group__status=GroupStatus.SUCCEEDED, status=MemberStatus.PAID, order__status=S.GROUPING
    )
    for member in stuck[:20]:
        yield f"order {member.order_id} still grouping in succeeded group {member.group_id}"


@invariant("simulated group fills are booked once")
def _fills_booked() -> Iterator[str]:
    booked = dict(
        Posting.objects.filter(entry__kind="group_fill", account__code="marketing_subsidy")
        .values_list("entry__key")
        .annotate(total=Sum("amount"))
        .values_list("entry__key", "total")
    )
    for group in Group.objects.filter(simulated=True).only("id", "subsidy").iterator():
        amount = booked.pop(f"groupfill:{group.pk}", 0)
        if amount != group.subsidy:
            yield f"simulated group {group.pk} owes a subsidy of {group.subsidy}, booked {amount}"
    for key in list(booked)[:20]:
        yield f"{key} booked for a group that was not filled by the platform"
    if (
        JournalEntry.objects.filter(kind="group_fill")
        .exclude(key__startswith="groupfill:")
        .exists()
    ):
        yield "a group fill entry without a groupfill key"
