"""Operator writes of distribution: held commissions, ranks.

The other operations live beside the rules they implement: binding.py (referrers),
commission.py (freeze, reverse, settle), distributors.py (qualification and
applications), ranks.py (upgrade, detach), withdrawals.py, shops.py.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.distribution import books
from quanzi.distribution.commission import status_of
from quanzi.distribution.models import Commission, CommissionReversal, DistributorRank
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post

log = get_logger("quanzi.distribution")


def _lock_commission(commission_id: int) -> Commission:
    commission = Commission.objects.select_for_update().filter(pk=commission_id).first()
    if commission is None:
        raise NotFound("commission_not_found", "no such commission")
    return commission


def commission_release(*, commission_id: int, operator: User) -> Commission:
    """A held commission passes review: it is paid like any other (at settlement, or
    now if its order has settled already)."""
    with transaction.atomic():
        commission = _lock_commission(commission_id)
        if not commission.held or commission.net <= 0:
            raise Conflict("not_held", "this commission is not waiting for review")
        if commission.settled_at is not None:
            entry_post(
                key=f"commission:{commission.pk}:release",
                kind="commission_release",
                legs=[
                    Leg(books.HELD, commission.net),
                    books.available_leg(commission.beneficiary_id, -commission.net),
                ],
                order_id=commission.order_id,
                memo=f"held commission {commission.pk} released",
            )
        commission.held = False
        commission.hold_reason = f"released by {operator.pk}"[:40]
        commission.status = status_of(commission)
        commission.save(update_fields=["held", "hold_reason", "status"])
    log.info("commission released", extra={"commission_id": commission.pk})
    return commission


def commission_void(*, commission_id: int, operator: User) -> Commission:
    """A held commission fails review: nobody earns it; settled money returns to the
    platform."""
    with transaction.atomic():
        commission = _lock_commission(commission_id)
        if not commission.held or commission.net <= 0:
            raise Conflict("not_held", "this commission is not waiting for review")
        delta = commission.net
        settled = commission.settled_at is not None
        CommissionReversal.objects.create(
            commission=commission, kind="void", amount=delta, after_settlement=settled
        )
        if settled:
            entry_post(
                key=f"commission:{commission.pk}:void",
                kind="commission_void",
                legs=[Leg(books.HELD, delta), Leg(chart.PLATFORM_REVENUE, -delta)],
                order_id=commission.order_id,
                memo=f"held commission {commission.pk} voided",
            )
        commission.reversed_amount = commission.amount
        commission.hold_reason = f"voided by {operator.pk}"[:40]
        commission.status = status_of(commission)
        commission.save(update_fields=["reversed_amount", "hold_reason", "status"])
    log.info("commission voided", extra={"commission_id": commission.pk})
    return commission


HEAD_COUNT_KEYS = ("min_team",)


def _rank_fields(data: dict) -> dict:
    """A rank's fields, checked. A rank depends on the distributor's own sales only: a
    head-count threshold is refused (``pyramid_forbidden``; 0 is accepted from older
    clients and means nothing)."""
    for key in HEAD_COUNT_KEYS:
        if data.get(key):
            raise Invalid(
                "pyramid_forbidden",
                "a rank may depend on the distributor's own sales only: pay that grows with "
                "the number of people brought in is pyramid selling (以发展人员数量计酬)",
                {"field": key},
            )
    fields = {}
    if "name" in data and data["name"] is not None:
        name = str(data["name"]).strip()
        if not name or len(name) > 40:
            raise Invalid("invalid_rank", "a rank name has 1 to 40 characters")
        fields["name"] = name
    for key, low, high in (
        ("level", 1, 100),
        ("min_sales", 0, 10**12),
        ("multiplier_bp", 0, 50_000),
    ):
        if data.get(key) is not None:
            value = data[key]
            if not isinstance(value, int) or not low <= value <= high:
                raise Invalid("invalid_rank", f"{key} is out of range", {"field": key})
            fields[key] = value
    return fields


def rank_create(*, data: dict) -> DistributorRank:
    fields = _rank_fields(data)
    if "name" not in fields or "level" not in fields:
        raise Invalid("invalid_rank", "a rank needs a name and a level")
    try:
        with transaction.atomic():
            return DistributorRank.objects.create(**fields)
    except IntegrityError as exc:
        raise Conflict("rank_level_taken", "a rank with this level exists") from exc


def rank_update(*, rank_id: int, data: dict) -> DistributorRank:
    rank = DistributorRank.objects.filter(pk=rank_id).first()
    if rank is None:
        raise NotFound("rank_not_found", "no such rank")
    for key, value in _rank_fields(data).items():
        setattr(rank, key, value)
    try:
        with transaction.atomic():
            rank.save()
    except IntegrityError as exc:
        raise Conflict("rank_level_taken", "a rank with this level exists") from exc
    return rank


def rank_delete(*, rank_id: int) -> None:
    deleted, _ = DistributorRank.objects.filter(pk=rank_id).delete()
    if not deleted:
        raise NotFound("rank_not_found", "no such rank")


def ranks_evaluate_all(*, batch: int = 1000) -> int:
    """Sweep: re-evaluate everyone with sales (ranks the operator added or lowered since
    apply). Idempotent: ranks only go up. Ranks depend on own sales only, so a team
    without sales is never looked at."""
    from quanzi.distribution.models import DistributorProfile
    from quanzi.distribution.ranks import rank_evaluate

    if not DistributorRank.objects.exists():
        return 0
    sellers = DistributorProfile.objects.filter(sales__gt=0).values_list("user_id", flat=True)
    changed = 0
    for user_id in sorted(sellers[:batch]):
        with transaction.atomic():
            before = (
                DistributorProfile.objects.filter(user_id=user_id)
                .values_list("rank_id", flat=True)
                .first()
            )
            profile = rank_evaluate(user_id=user_id)
            if profile is not None and profile.rank_id != before:
                changed += 1
    return changed
