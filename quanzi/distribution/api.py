from __future__ import annotations

from typing import Any, Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema
from quanzi.distribution import (
    distributors,
    payout_funding,
    ranks,
    selectors,
    services,
    shops,
    withdrawals,
)
from quanzi.distribution.models import DistributorRank, Withdrawal

router = Router(tags=["distribution"])

CommissionStatusQ = Literal["frozen", "available", "withdrawn", "reversed"]
WithdrawalStatusQ = Literal["requested", "approved", "processing", "paid", "rejected"]


class EarningsOut(Schema):
    frozen: int
    available: int
    withdrawn: int
    pending_withdrawal: int


class CommissionOut(Schema):
    id: int
    order_id: int
    line_id: int
    level: int
    amount: int
    reversed_amount: int
    net: int
    status: str
    held: bool
    source: str
    beneficiary_id: int
    buyer_id: int
    base: int
    qty: int
    rate_bp: int | None
    fixed: int | None
    multiplier_bp: int
    capped: bool
    created_at: Datetime
    settled_at: Datetime | None


class CommissionPage(Schema):
    items: list[CommissionOut]
    next_cursor: str | None


class TeamMemberOut(Schema):
    user_id: int
    nickname: str
    orders: int
    gmv: int
    via_user_id: int | None
    bound_at: Datetime | None


class TeamOut(Schema):
    level1: list[TeamMemberOut]
    level2: list[TeamMemberOut]
    level1_count: int
    level2_count: int


class WithdrawIn(Schema):
    amount: int = Field(ge=1, le=10**12)
    # Additive: the payout gateway (default: the operator's ``payout_gateway``) and the
    # payee it needs (WeChat Pay: openid, real name from 2,000 yuan; Alipay: account and
    # real name). See docs/distribution.md.
    gateway: str | None = Field(default=None, max_length=20)
    payee_account: str = Field(default="", max_length=100)
    payee_name: str = Field(default="", max_length=40)


class WithdrawalOut(Schema):
    id: int
    user_id: int
    status: str
    amount: int
    fee: int
    net: int
    gateway: str
    payee_account: str  # masked
    payee_name: str  # masked
    auto_approved: bool
    attempts: int
    last_error: str
    reject_reason: str
    created_at: Datetime
    approved_at: Datetime | None
    paid_at: Datetime | None
    rejected_at: Datetime | None


class WithdrawalPage(Schema):
    items: list[WithdrawalOut]
    next_cursor: str | None


class PayoutDepositIn(Schema):
    gateway: str = Field(min_length=1, max_length=20)
    amount: int = Field(ge=1, le=10**12)
    reference: str = Field(min_length=1, max_length=64)


class PayoutFundingOut(Schema):
    gateway: str
    balance: int
    deposited: int
    paid_out: int


class PayoutFundingList(Schema):
    items: list[PayoutFundingOut]


class RejectIn(Schema):
    reason: str = Field(default="", max_length=200)


class ApplicationIn(Schema):
    real_name: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=200)


class RankRef(Schema):
    id: int
    name: str
    level: int


class DistributorOut(Schema):
    user_id: int
    nickname: str
    status: str
    qualified: bool
    rank: RankRef | None
    sales: int
    detached: bool
    real_name: str
    wechat_openid: str
    reason: str
    decision_note: str
    applied_at: Datetime | None
    decided_at: Datetime | None


class MeDistributorOut(DistributorOut):
    team_size: int


class DistributorPage(Schema):
    items: list[DistributorOut]
    next_cursor: str | None


class PayoutAccountIn(Schema):
    wechat_openid: str = Field(min_length=1, max_length=64)


class DecisionIn(Schema):
    note: str = Field(default="", max_length=200)


class RankIn(Schema):
    name: str = Field(min_length=1, max_length=40)
    level: int = Field(ge=1, le=100)
    min_sales: int = Field(default=0, ge=0, le=10**12)
    min_team: int | None = Field(
        default=None, ge=0, description="refused when above 0: ranks never count people"
    )
    multiplier_bp: int = Field(default=10_000, ge=0, le=50_000)


class RankPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    level: int | None = Field(default=None, ge=1, le=100)
    min_sales: int | None = Field(default=None, ge=0, le=10**12)
    min_team: int | None = Field(
        default=None, ge=0, description="refused when above 0: ranks never count people"
    )
    multiplier_bp: int | None = Field(default=None, ge=0, le=50_000)


class RankOut(Schema):
    id: int
    name: str
    level: int
    min_sales: int
    multiplier_bp: int


class RankAssignIn(Schema):
    rank_id: Id | None = None


class ShopIn(Schema):
    name: str = Field(min_length=1, max_length=40)
    slug: str | None = Field(default=None, max_length=40)
    description: str = Field(default="", max_length=200)


class ShopPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    description: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None


class ShopProductsIn(Schema):
    product_ids: list[int] = Field(min_length=1, max_length=100)


class ShopOwnerOut(Schema):
    id: int
    nickname: str
    avatar: str


class ShopProductOut(Schema):
    id: int
    title: str
    min_price: int
    cover: str
    sales: int


class ShopOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    is_active: bool
    owner: ShopOwnerOut
    share_token: str
    share_url: str
    products: list[ShopProductOut]


# --- the distributor's own views -------------------------------------------------


@router.get("/me/earnings", response=EarningsOut)
def my_earnings(request):
    return selectors.earnings_of(user=request.auth)


@router.get("/me/commissions", response={200: CommissionPage, 422: ErrorOut})
def my_commissions(
    request,
    status: CommissionStatusQ | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    return selectors.commissions_of(user=request.auth, status=status, cursor=cursor, limit=limit)


@router.get("/me/team", response=TeamOut)
def my_team(request):
    return selectors.team_of(user=request.auth)


@router.get("/me/withdrawals", response={200: WithdrawalPage, 422: ErrorOut})
def my_withdrawals(request, cursor: str | None = None, limit: int | None = None):
    return selectors.withdrawals_of(user=request.auth, cursor=cursor, limit=limit)


@router.post(
    "/me/withdrawals", response={201: WithdrawalOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def my_withdrawal_create(request, payload: WithdrawIn):
    def work():
        created = withdrawals.withdrawal_request(
            user=request.auth,
            amount=payload.amount,
            gateway=payload.gateway,
            payee_account=payload.payee_account,
            payee_name=payload.payee_name,
        )
        return Status(201, selectors.withdrawal_out(Withdrawal.objects.get(pk=created.pk)))

    return run_idempotent(request, route="withdrawal_create", body=payload.dict(), work=work)


@router.get("/me/distributor", response=MeDistributorOut)
def my_distributor(request):
    return selectors.distributor_of(user=request.auth)


@router.post(
    "/me/distributor-application", response={201: MeDistributorOut, 409: ErrorOut, 422: ErrorOut}
)
def my_application(request, payload: ApplicationIn):
    distributors.distributor_apply(
        user=request.auth, real_name=payload.real_name, reason=payload.reason
    )
    return Status(201, selectors.distributor_of(user=request.auth))


@router.put("/me/distributor/payout-account", response={200: MeDistributorOut, 422: ErrorOut})
def my_payout_account(request, payload: PayoutAccountIn):
    withdrawals.payout_account_set(user=request.auth, wechat_openid=payload.wechat_openid)
    return selectors.distributor_of(user=request.auth)


# --- shops -----------------------------------------------------------------------


def _my_shop(request) -> dict[str, Any]:
    return selectors.shop_out(shops.shop_of(owner=request.auth))


@router.post("/me/shop", response={201: ShopOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def my_shop_create(request, payload: ShopIn):
    shop = shops.shop_create(
        owner=request.auth, name=payload.name, slug=payload.slug, description=payload.description
    )
    return Status(201, selectors.shop_out(shop))


@router.get("/me/shop", response={200: ShopOut, 404: ErrorOut})
def my_shop(request):
    return _my_shop(request)


@router.patch("/me/shop", response={200: ShopOut, 404: ErrorOut, 422: ErrorOut})
def my_shop_update(request, payload: ShopPatch):
    shops.shop_update(
        owner=request.auth,
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
    )
    return _my_shop(request)


@router.post("/me/shop/products", response={200: ShopOut, 404: ErrorOut, 422: ErrorOut})
def my_shop_add(request, payload: ShopProductsIn):
    shops.shop_products_add(owner=request.auth, product_ids=payload.product_ids)
    return _my_shop(request)


@router.delete("/me/shop/products/{product_id}", response={200: ShopOut, 404: ErrorOut})
def my_shop_remove(request, product_id: int):
    shops.shop_product_remove(owner=request.auth, product_id=product_id)
    return _my_shop(request)


@router.get("/shops/{shop_id}", auth=None, response={200: ShopOut, 404: ErrorOut})
def shop_public(request, shop_id: int):
    shop = selectors.shop_public(shop_id=shop_id)
    if shop is None:
        raise NotFound("shop_not_found", "no such shop")
    return shop


# --- operator --------------------------------------------------------------------


@router.get("/admin/distributors", response={200: DistributorPage, 403: ErrorOut, 422: ErrorOut})
def admin_distributors(
    request,
    status: Literal["none", "applied", "approved", "rejected"] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    require_operator(request)
    return selectors.distributors_all(status=status, cursor=cursor, limit=limit)


def _decide(request, user_id: int, approve: bool, note: str):
    operator = require_operator(request)
    profile = distributors.distributor_decide(
        user_id=user_id, operator=operator, approve=approve, note=note
    )
    return selectors.distributor_of(user=profile.user)


@router.post(
    "/admin/distributors/{user_id}/approve",
    response={200: MeDistributorOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_distributor_approve(request, user_id: int, payload: DecisionIn):
    return _decide(request, user_id, True, payload.note)


@router.post(
    "/admin/distributors/{user_id}/reject",
    response={200: MeDistributorOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_distributor_reject(request, user_id: int, payload: DecisionIn):
    return _decide(request, user_id, False, payload.note)


@router.put(
    "/admin/distributors/{user_id}/rank",
    response={200: MeDistributorOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_distributor_rank(request, user_id: int, payload: RankAssignIn):
    require_operator(request)
    profile = ranks.rank_assign(user_id=user_id, rank_id=payload.rank_id)
    return selectors.distributor_of(user=profile.user)


@router.get("/admin/commissions", response={200: CommissionPage, 403: ErrorOut, 422: ErrorOut})
def admin_commissions(
    request,
    status: CommissionStatusQ | None = None,
    user_id: int | None = None,
    order_id: int | None = None,
    held: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    require_operator(request)
    return selectors.commissions_all(
        status=status, user_id=user_id, order_id=order_id, held=held, cursor=cursor, limit=limit
    )


@router.post(
    "/admin/commissions/{commission_id}/release",
    response={200: CommissionOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_commission_release(request, commission_id: int):
    operator = require_operator(request)
    commission = services.commission_release(commission_id=commission_id, operator=operator)
    return selectors.commission_out(commission)


@router.post(
    "/admin/commissions/{commission_id}/void",
    response={200: CommissionOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_commission_void(request, commission_id: int):
    operator = require_operator(request)
    commission = services.commission_void(commission_id=commission_id, operator=operator)
    return selectors.commission_out(commission)


@router.get("/admin/withdrawals", response={200: WithdrawalPage, 403: ErrorOut, 422: ErrorOut})
def admin_withdrawals(
    request,
    status: WithdrawalStatusQ | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    require_operator(request)
    return selectors.withdrawals_all(status=status, cursor=cursor, limit=limit)


def _withdrawal_answer(withdrawal_id: int) -> dict[str, Any]:
    return selectors.withdrawal_out(Withdrawal.objects.get(pk=withdrawal_id))


@router.post(
    "/admin/withdrawals/{withdrawal_id}/approve",
    response={200: WithdrawalOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_withdrawal_approve(request, withdrawal_id: int):
    operator = require_operator(request)
    withdrawals.withdrawal_approve(withdrawal_id=withdrawal_id, operator=operator)
    return _withdrawal_answer(withdrawal_id)


@router.post(
    "/admin/withdrawals/{withdrawal_id}/reject",
    response={200: WithdrawalOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_withdrawal_reject(request, withdrawal_id: int, payload: RejectIn):
    operator = require_operator(request)
    withdrawals.withdrawal_reject(
        withdrawal_id=withdrawal_id, operator=operator, reason=payload.reason
    )
    return _withdrawal_answer(withdrawal_id)


@router.get("/admin/payout-funding", response={200: PayoutFundingList, 403: ErrorOut})
def admin_payout_funding(request):
    require_operator(request)
    return {"items": selectors.payout_funding_all()}


@router.post(
    "/admin/payout-funding",
    response={201: PayoutFundingOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_payout_deposit(request, payload: PayoutDepositIn):
    operator = require_operator(request)
    payout_funding.payout_deposit(
        gateway=payload.gateway,
        amount=payload.amount,
        reference=payload.reference,
        operator=operator,
    )
    return Status(201, selectors.payout_funding_of(gateway=payload.gateway))


@router.get("/admin/distributor-ranks", response={200: list[RankOut], 403: ErrorOut})
def admin_ranks(request):
    require_operator(request)
    return list(DistributorRank.objects.order_by("level"))


@router.post(
    "/admin/distributor-ranks", response={201: RankOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def admin_rank_create(request, payload: RankIn):
    require_operator(request)
    return Status(201, services.rank_create(data=payload.dict()))


@router.patch(
    "/admin/distributor-ranks/{rank_id}",
    response={200: RankOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_rank_update(request, rank_id: int, payload: RankPatch):
    require_operator(request)
    return services.rank_update(rank_id=rank_id, data=payload.dict(exclude_none=True))


@router.delete(
    "/admin/distributor-ranks/{rank_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def admin_rank_delete(request, rank_id: int):
    require_operator(request)
    services.rank_delete(rank_id=rank_id)
    return Status(204, None)
