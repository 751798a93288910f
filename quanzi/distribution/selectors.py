"""Distribution reads, in real time: earnings, commissions, team, withdrawals, shops.

The storefront calls ``earnings_of``, ``team_of``, ``commissions_of`` and
``withdrawals_of`` (keyword-only ``user=``); the API shapes the same answers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, F, IntegerField, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.pagination import paginate
from quanzi.distribution import books
from quanzi.distribution.models import (
    Commission,
    CommissionStatus,
    DistributorProfile,
    Shop,
    ShopProduct,
    Withdrawal,
    WithdrawalStatus,
)
from quanzi.distribution.payees import mask_name, mask_ref
from quanzi.ledger.models import Account, Posting

TEAM_LIMIT = 500


def _valid_binding(prefix: str = "") -> Q:
    now = timezone.now()
    return Q(**{f"{prefix}referrer_expires_at__isnull": True}) | Q(
        **{f"{prefix}referrer_expires_at__gt": now}
    )


def valid_downlines(*, user: User) -> QuerySet:
    """Users whose valid referrer is ``user`` (its level 1)."""
    return User.objects.filter(_valid_binding(), referrer_id=user.pk)


def valid_downline_counts(*, user_ids) -> dict[int, int]:
    """How many valid downlines each of ``user_ids`` has (one query)."""
    rows = (
        User.objects.filter(_valid_binding(), referrer_id__in=list(user_ids))
        .values("referrer_id")
        .annotate(n=Count("id"))
        .values_list("referrer_id", "n")
    )
    return dict(rows)


def level2_downlines(*, user: User) -> QuerySet:
    """Users on whose orders ``user`` earns level 2: their valid referrer's valid
    referrer is ``user``, and they are not detached."""
    return (
        User.objects.filter(_valid_binding(), referrer__in=valid_downlines(user=user))
        .exclude(distributor__detached_at__isnull=False)
        .exclude(pk=user.pk)
    )


def earnings_of(*, user: User) -> dict[str, int]:
    frozen = (
        Commission.objects.filter(beneficiary=user, status=CommissionStatus.FROZEN).aggregate(
            total=Sum(F("amount") - F("reversed_amount"))
        )["total"]
        or 0
    )
    withdrawals = Withdrawal.objects.filter(user=user)
    withdrawn = withdrawals.filter(status=WithdrawalStatus.PAID).aggregate(t=Sum("amount"))["t"]
    pending = withdrawals.filter(
        status__in=[
            WithdrawalStatus.REQUESTED,
            WithdrawalStatus.APPROVED,
            WithdrawalStatus.PROCESSING,
        ]
    ).aggregate(t=Sum("amount"))["t"]
    return {
        "frozen": int(frozen),
        "available": books.available_of(user.pk),
        "withdrawn": int(withdrawn or 0),
        "pending_withdrawal": int(pending or 0),
    }


def _team_rows(qs: QuerySet) -> list[dict[str, Any]]:
    paid = Q(orders__paid_at__isnull=False)
    rows = (
        qs.annotate(
            n_orders=Count("orders", filter=paid),
            gmv=Coalesce(
                Sum(F("orders__payable") - F("orders__refunded_amount"), filter=paid),
                Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-id")
        .values("id", "nickname", "n_orders", "gmv", "referrer_id", "referrer_bound_at")[
            :TEAM_LIMIT
        ]
    )
    return [
        {
            "user_id": row["id"],
            "nickname": row["nickname"],
            "orders": row["n_orders"],
            "gmv": int(row["gmv"] or 0),
            "via_user_id": row["referrer_id"],
            "bound_at": row["referrer_bound_at"],
        }
        for row in rows
    ]


def team_of(*, user: User) -> dict[str, Any]:
    """Direct (level 1) and second-level team, with each member's paid orders and GMV
    (paid minus refunded)."""
    level1 = valid_downlines(user=user)
    level2 = level2_downlines(user=user)
    return {
        "level1": _team_rows(level1),
        "level2": _team_rows(level2),
        "level1_count": level1.count(),
        "level2_count": level2.count(),
    }


def commission_out(commission: Commission) -> dict[str, Any]:
    return {
        "id": commission.pk,
        "order_id": commission.order_id,
        "line_id": commission.line_id,
        "level": commission.level,
        "amount": commission.amount,
        "reversed_amount": commission.reversed_amount,
        "net": commission.net,
        "status": commission.status,
        "held": commission.held,
        "source": commission.source,
        "beneficiary_id": commission.beneficiary_id,
        "buyer_id": commission.buyer_id,
        "base": commission.base,
        "qty": commission.qty,
        "rate_bp": commission.rate_bp,
        "fixed": commission.fixed,
        "multiplier_bp": commission.multiplier_bp,
        "capped": commission.capped,
        "created_at": commission.created_at,
        "settled_at": commission.settled_at,
    }


def commissions_of(
    *, user: User, status: str | None = None, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    qs = Commission.objects.filter(beneficiary=user)
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=commission_out)


def commissions_all(
    *,
    status: str | None = None,
    user_id: int | None = None,
    order_id: int | None = None,
    held: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    qs = Commission.objects.all()
    if status:
        qs = qs.filter(status=status)
    if user_id:
        qs = qs.filter(beneficiary_id=user_id)
    if order_id:
        qs = qs.filter(order_id=order_id)
    if held is not None:
        qs = qs.filter(held=held)
    return paginate(qs, cursor=cursor, limit=limit, serialize=commission_out)


def withdrawal_out(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.pk,
        "user_id": withdrawal.user_id,
        "status": withdrawal.status,
        "amount": withdrawal.amount,
        "fee": withdrawal.fee,
        "net": withdrawal.amount - withdrawal.fee,
        "gateway": withdrawal.gateway,
        "payee_account": mask_ref(withdrawal.payee_ref),
        "payee_name": mask_name(withdrawal.payee_name),
        "auto_approved": withdrawal.auto_approved,
        "attempts": withdrawal.attempts,
        "last_error": withdrawal.last_error,
        "reject_reason": withdrawal.reject_reason,
        "created_at": withdrawal.created_at,
        "approved_at": withdrawal.approved_at,
        "paid_at": withdrawal.paid_at,
        "rejected_at": withdrawal.rejected_at,
    }


def withdrawals_of(
    *, user: User, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    return paginate(
        Withdrawal.objects.filter(user=user), cursor=cursor, limit=limit, serialize=withdrawal_out
    )


def withdrawals_all(
    *, status: str | None = None, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    qs = Withdrawal.objects.all()
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=withdrawal_out)


def payout_funding_of(*, gateway: str) -> dict[str, Any]:
    """The operator's payout balance at ``gateway``: put in (recorded deposits and
    shortfalls booked at payout time), paid out, and what is left."""
    rows = (
        Posting.objects.filter(account__code=books.payout_funding_code(gateway))
        .values_list("entry__kind")
        .annotate(total=Sum("amount"))
    )
    by_kind = {kind: int(total or 0) for kind, total in rows}
    paid_out = -sum(by_kind.get(kind, 0) for kind in books.PAYOUT_KINDS)
    deposited = sum(total for kind, total in by_kind.items() if kind not in books.PAYOUT_KINDS)
    return {
        "gateway": gateway,
        "balance": deposited - paid_out,
        "deposited": deposited,
        "paid_out": paid_out,
    }


def payout_funding_all() -> list[dict[str, Any]]:
    codes = Account.objects.filter(code__startswith=books.PAYOUT_FUNDING_PREFIX).values_list(
        "code", flat=True
    )
    gateways = sorted(code.removeprefix(books.PAYOUT_FUNDING_PREFIX) for code in codes)
    return [payout_funding_of(gateway=gateway) for gateway in gateways]


def distributor_out(profile: DistributorProfile) -> dict[str, Any]:
    from quanzi.distribution.distributors import distributor_is_qualified

    return {
        "user_id": profile.user_id,
        "nickname": profile.user.nickname,
        "status": profile.status,
        "qualified": distributor_is_qualified(user_id=profile.user_id),
        "rank": (
            {"id": profile.rank.pk, "name": profile.rank.name, "level": profile.rank.level}
            if profile.rank_id
            else None
        ),
        "sales": profile.sales,
        "detached": profile.detached_at is not None,
        "real_name": profile.real_name,
        "wechat_openid": profile.wechat_openid,
        "reason": profile.reason,
        "decision_note": profile.decision_note,
        "applied_at": profile.applied_at,
        "decided_at": profile.decided_at,
    }


def distributor_of(*, user: User) -> dict[str, Any]:
    profile = DistributorProfile.objects.select_related("rank", "user").filter(user=user).first()
    if profile is None:
        profile = DistributorProfile(user=user)
    out = distributor_out(profile)
    out["team_size"] = valid_downlines(user=user).count()
    return out


def distributors_all(
    *, status: str | None = None, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    qs = DistributorProfile.objects.select_related("rank", "user")
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=distributor_out)


def shop_out(shop: Shop) -> dict[str, Any]:
    items = (
        ShopProduct.objects.filter(shop=shop, product__is_active=True)
        .select_related("product")
        .prefetch_related("product__images")
        .annotate(min_price=Min("product__skus__price", filter=Q(product__skus__is_active=True)))
        .order_by("sort", "-id")
    )
    return {
        "id": shop.pk,
        "name": shop.name,
        "slug": shop.slug,
        "description": shop.description,
        "is_active": shop.is_active,
        "owner": {
            "id": shop.owner_id,
            "nickname": shop.owner.nickname,
            "avatar": shop.owner.avatar,
        },
        "share_token": shop.share_token,
        "share_url": f"{settings.PUBLIC_URL}/s/{shop.share_token}" if shop.share_token else "",
        "products": [
            {
                "id": item.product.pk,
                "title": item.product.title,
                "min_price": item.min_price or 0,
                "cover": item.product.cover,
                "sales": item.product.sales,
            }
            for item in items
        ],
    }


def shop_public(*, shop_id: int) -> dict[str, Any] | None:
    shop = Shop.objects.select_related("owner").filter(pk=shop_id, is_active=True).first()
    return shop_out(shop) if shop is not None else None
