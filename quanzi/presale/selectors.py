"""Reads of proposals, pre-sales and bookings, shaped as the API answers them."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from quanzi.core.errors import NotFound
from quanzi.presale.models import (
    Booking,
    BookingStatus,
    Mode,
    Presale,
    PresaleStatus,
    Proposal,
    ProposalStatus,
    Vote,
)

PUBLIC_PROPOSALS = (ProposalStatus.OPEN, ProposalStatus.ACCEPTED, ProposalStatus.PRESALE)


def _with_presale(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Each proposal with the id of its latest pre-sale, in the same query."""
    latest = Presale.objects.filter(proposal=OuterRef("pk")).order_by("-id").values("id")[:1]
    return qs.select_related("author").annotate(latest_presale_id=Subquery(latest))


def proposals_public() -> QuerySet[Proposal]:
    return _with_presale(Proposal.objects.filter(status__in=PUBLIC_PROPOSALS))


def proposals_all(status: str | None = None) -> QuerySet[Proposal]:
    qs = _with_presale(Proposal.objects.all())
    return qs.filter(status=status) if status else qs


def proposal_get(*, proposal_id: int, viewer_id: int | None = None) -> Proposal:
    proposal = _with_presale(Proposal.objects.filter(pk=proposal_id)).first()
    if proposal is None or (
        proposal.status not in PUBLIC_PROPOSALS and proposal.author_id != viewer_id
    ):
        raise NotFound("proposal_not_found", "no such proposal")
    return proposal


def voted_ids(*, user_id: int | None, proposal_ids) -> set[int]:
    if not user_id:
        return set()
    return set(
        Vote.objects.filter(user_id=user_id, proposal_id__in=list(proposal_ids)).values_list(
            "proposal_id", flat=True
        )
    )


def proposal_out(proposal: Proposal, *, voted: bool | None = None) -> dict[str, Any]:
    if hasattr(proposal, "latest_presale_id"):
        presale_id = proposal.latest_presale_id
    else:
        latest = proposal.presales.order_by("-id").values_list("id", flat=True).first()
        presale_id = latest
    presale_id = presale_id if proposal.status == ProposalStatus.PRESALE else None
    return {
        "id": proposal.pk,
        "kind": proposal.kind,
        "product_id": proposal.product_id,
        "title": proposal.title,
        "body": proposal.body,
        "status": proposal.status,
        "votes": proposal.votes,
        "author": proposal.author.nickname or "",
        "voted": voted,
        "presale_id": presale_id,
        "created_at": proposal.created_at,
    }


def presale_state(presale: Presale, now=None) -> str:
    """``scheduled`` | ``deposit`` | ``waiting_balance`` | ``balance`` | ``selling`` |
    ``closed``: what a buyer may do now."""
    now = now or timezone.now()
    if presale.status != PresaleStatus.OPEN:
        return "closed"
    if now < presale.starts_at:
        return "scheduled"
    if presale.mode == Mode.THRESHOLD:
        return "selling" if now < presale.deadline else "closed"
    if now < presale.balance_starts_at:
        return "deposit"
    if now < presale.balance_ends_at:
        return "balance"
    return "closed"


def presales_visible() -> QuerySet[Presale]:
    return Presale.objects.select_related("sku__product").exclude(status=PresaleStatus.CANCELLED)


def presales_all() -> QuerySet[Presale]:
    return Presale.objects.select_related("sku__product")


def presale_get(*, presale_id: int, public: bool = False) -> Presale:
    qs = presales_visible() if public else presales_all()
    presale = qs.filter(pk=presale_id).first()
    if presale is None:
        raise NotFound("presale_not_found", "no such pre-sale")
    return presale


def units_by_status(presale_ids) -> dict[int, dict[str, int]]:
    """Booked units per booking status, for many pre-sales in one query."""
    found: dict[int, dict[str, int]] = {
        pk: {s.value: 0 for s in BookingStatus} for pk in presale_ids
    }
    rows = (
        Booking.objects.filter(presale_id__in=list(presale_ids))
        .values_list("presale_id", "status")
        .annotate(n=Sum("qty"))
        .values_list("presale_id", "status", "n")
    )
    for presale_id, status, n in rows:
        found[presale_id][status] = n
    return found


def presales_admin_out(presales) -> list[dict[str, Any]]:
    counts = units_by_status([p.pk for p in presales])
    return [presale_out(p, admin=True, counts=counts[p.pk]) for p in presales]


def presale_out(
    presale: Presale, *, admin: bool = False, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    now = timezone.now()
    sku = presale.sku
    answer = {
        "id": presale.pk,
        "title": presale.title,
        "mode": presale.mode,
        "status": presale.status,
        "state": presale_state(presale, now),
        "proposal_id": presale.proposal_id,
        "sku_id": sku.pk,
        "product_id": sku.product_id,
        "sku_name": sku.name,
        "retail_price": sku.price,
        "price": presale.price,
        "per_user_limit": presale.per_user_limit,
        "starts_at": presale.starts_at,
        "early_starts_at": presale.early_starts_at,
        "deposit": presale.deposit,
        "deposit_value": presale.deposit_value,
        "balance_due": presale.price - presale.deposit_value if presale.mode == Mode.DEPOSIT else 0,
        "balance_starts_at": presale.balance_starts_at,
        "balance_ends_at": presale.balance_ends_at,
        "unpaid_rule": presale.unpaid_rule,
        "threshold_units": presale.threshold_units,
        "deadline": presale.deadline,
        "paid_units": presale.paid_units,
        "threshold_met": presale.threshold_met_at is not None,
    }
    if admin:
        if counts is None:
            counts = units_by_status([presale.pk])[presale.pk]
        answer["units_by_status"] = counts
        answer["voter_coupon_template_id"] = presale.voter_coupon_template_id
        answer["closed_at"] = presale.closed_at
    return answer


def bookings_of(*, presale_id: int, user_id: int) -> QuerySet[Booking]:
    return Booking.objects.filter(presale_id=presale_id, user_id=user_id).select_related(
        "first_order", "balance_order"
    )


def booking_out(booking: Booking) -> dict[str, Any]:
    balance = booking.balance_order
    return {
        "id": booking.pk,
        "presale_id": booking.presale_id,
        "qty": booking.qty,
        "status": booking.status,
        "first_order_id": booking.first_order_id,
        "first_order_status": booking.first_order.status,
        "balance_order_id": balance.pk if balance else None,
        "balance_order_status": balance.status if balance else None,
    }
