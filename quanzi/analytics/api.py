"""Analytics API: the operator's GMV, channel and funnel views and breakdowns (member
share, buyer profiles, supplier quality, notes, shares), and each shopkeeper's, leader's,
creator's and circle owner's own (``/me/analytics…``), all read from the facts the job
built."""

from __future__ import annotations

from typing import Literal

from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from quanzi.analytics import breakdowns, selectors, services
from quanzi.analytics.channels import CHANNELS
from quanzi.core.auth import BearerAuth, require_operator
from quanzi.core.schemas import Date, ErrorOut, Id, Schema

router = Router(tags=["analytics"])

ChannelName = Literal[("all", *CHANNELS)]  # "all" or one of the facts' channels


class PeriodIn(Schema):
    start: Date | None = None
    end: Date | None = None
    channel: ChannelName = "all"


class Totals(Schema):
    visitors: int
    viewers: int
    views: int
    carters: int
    carts: int
    placers: int
    orders: int
    buyers: int
    paid_orders: int
    gmv: int
    refund_amount: int
    refund_orders: int
    repeat_buyers_30: int
    repeat_buyers_90: int
    conversion: float
    aov: float
    repeat: float
    repeat_rate_30: float
    repeat_rate_90: float


class DayOut(Totals):
    day: Date


class PreviousOut(Totals):
    start: Date
    end: Date


class Contributions(Schema):
    visitors: float
    conversion: float
    aov: float
    repeat: float


class CompareOut(Schema):
    current: Totals
    previous: PreviousOut
    change: int
    contributions: Contributions
    driver: str


class GmvOut(Schema):
    start: Date
    end: Date
    channel: str
    days: list[DayOut]
    compare: CompareOut


class FunnelStep(Schema):
    step: str
    people: int
    rate: float | None


class ChannelRow(Totals):
    channel: str
    funnel: list[FunnelStep]


class ChannelsOut(Schema):
    start: Date
    end: Date
    channels: list[ChannelRow]


class ScopeOut(Schema):
    dim: str
    dim_id: int
    name: str
    gmv: GmvOut
    channels: list[ChannelRow]


class MineOut(Schema):
    scopes: list[ScopeOut]


def _gmv(period: PeriodIn, *, dim: str = "all", dim_id: int = 0) -> dict:
    start, end = selectors.period_check(
        start=period.start, end=period.end, today=timezone.localdate()
    )
    scope = {"start": start, "end": end, "channel": period.channel, "dim": dim, "dim_id": dim_id}
    return {
        "start": start,
        "end": end,
        "channel": period.channel,
        "days": selectors.gmv_days(**scope),
        "compare": selectors.gmv_compare(**scope),
    }


def _channels(period: PeriodIn, *, dim: str = "all", dim_id: int = 0) -> dict:
    start, end = selectors.period_check(
        start=period.start, end=period.end, today=timezone.localdate()
    )
    return {
        "start": start,
        "end": end,
        "channels": selectors.channel_table(start=start, end=end, dim=dim, dim_id=dim_id),
    }


@router.get("/admin/analytics/gmv", response={200: GmvOut, 403: ErrorOut, 422: ErrorOut})
def admin_analytics_gmv(request, period: Query[PeriodIn]):
    require_operator(request)
    return _gmv(period)


@router.get("/admin/analytics/channels", response={200: ChannelsOut, 403: ErrorOut, 422: ErrorOut})
def admin_analytics_channels(request, period: Query[PeriodIn]):
    require_operator(request)
    return _channels(period)


@router.get("/me/analytics", response={200: MineOut, 401: ErrorOut, 422: ErrorOut})
def my_analytics(request, period: Query[PeriodIn]):
    scopes = []
    for scope in selectors.scopes_of(request.auth):
        dims = {"dim": scope["dim"], "dim_id": scope["dim_id"]}
        scopes.append(
            {
                **scope,
                "gmv": _gmv(period, **dims),
                "channels": _channels(period, **dims)["channels"],
            }
        )
    return {"scopes": scopes}


# ------------------------------------------------------------------ breakdowns


class PeriodHead(Schema):
    start: Date
    end: Date


class MemberSplit(Schema):
    member_gmv: int
    member_orders: int
    member_buyers: int
    other_gmv: int
    other_orders: int
    other_buyers: int
    member_share: float = Field(description="member GMV / GMV, 0 to 1")


class MemberDay(MemberSplit):
    day: Date


class MembersOut(PeriodHead):
    channel: str
    days: list[MemberDay]
    total: MemberSplit


class ProfileRow(Schema):
    key: str = Field(description="province, member level id (0: none), new or returning")
    name: str
    gmv: int
    paid_orders: int
    buyers: int
    gmv_share: float
    aov: float


class ProfilesOut(PeriodHead):
    channel: str
    regions: list[ProfileRow]
    levels: list[ProfileRow]
    buyer_types: list[ProfileRow]


class SupplierRow(Schema):
    supplier_id: int
    name: str
    gmv: int
    paid_orders: int
    units: int
    units_refunded: int
    refund_rate: float
    orders_complained: int
    complaint_rate: float
    reviews: int
    rating: float


class SuppliersOut(PeriodHead):
    channel: str
    suppliers: list[SupplierRow]


class Conversion(Schema):
    opens: int
    openers: int
    paid_orders: int
    buyers: int
    gmv: int
    conversion: float = Field(description="attributed paid orders / opens")
    buyer_conversion: float = Field(description="buyers / openers")


class NoteRow(Conversion):
    note_id: int
    title: str
    creator_id: int
    creator: str


class CreatorRow(Conversion):
    creator_id: int
    name: str


class NotesOut(PeriodHead):
    notes: list[NoteRow]
    creators: list[CreatorRow]


class CampaignRow(Schema):
    campaign: str = Field(description="<target>:<id>, what was shared")
    target: str
    target_id: int
    name: str
    sharers: int
    links: int
    recipients: int
    registrations: int
    buyers: int
    paid_orders: int
    gmv: int
    invites_per_sharer: float
    recipient_conversion: float
    k_factor: float = Field(description="invites per sharer × conversion of recipients")
    depth: int = Field(description="deepest link made in the period")
    tree_depth: int = Field(description="deepest link made up to the period's end")


class SharesOut(PeriodHead):
    campaigns: list[CampaignRow]


def breakdown(name: str, period, *, dim: str = "all", dim_id: int = 0) -> dict:
    start, end = selectors.period_check(
        start=period.start, end=period.end, today=timezone.localdate()
    )
    return breakdowns.breakdown_report(
        name, start=start, end=end, channel=period.channel, dim=dim, dim_id=dim_id
    )


_E = {403: ErrorOut, 422: ErrorOut}


@router.get("/admin/analytics/members", response={200: MembersOut, **_E})
def admin_analytics_members(request, period: Query[PeriodIn]):
    """GMV of paid members against the others, per day (operator)."""
    require_operator(request)
    return breakdown("members", period)


@router.get("/admin/analytics/profiles", response={200: ProfilesOut, **_E})
def admin_analytics_profiles(request, period: Query[PeriodIn]):
    """GMV and buyers by province, member level, new or returning buyers (operator)."""
    require_operator(request)
    return breakdown("profiles", period)


@router.get("/admin/analytics/suppliers", response={200: SuppliersOut, **_E})
def admin_analytics_suppliers(request, period: Query[PeriodIn]):
    """Refund rate, complaint rate and average rating per supplier (operator)."""
    require_operator(request)
    return breakdown("suppliers", period)


@router.get("/admin/analytics/notes", response={200: NotesOut, **_E})
def admin_analytics_notes(request, period: Query[PeriodIn]):
    """Note opens → attributed orders, per note and per creator (operator)."""
    require_operator(request)
    return breakdown("notes", period)


@router.get("/admin/analytics/shares", response={200: SharesOut, **_E})
def admin_analytics_shares(request, period: Query[PeriodIn]):
    """Share K-factor and share-tree depth per campaign shared (operator)."""
    require_operator(request)
    return breakdown("shares", period)


class ScopeHead(Schema):
    dim: str
    dim_id: int
    name: str


class ScopedMembers(MembersOut, ScopeHead):
    pass


class ScopedProfiles(ProfilesOut, ScopeHead):
    pass


class ScopedSuppliers(SuppliersOut, ScopeHead):
    pass


class ScopedNotes(NotesOut, ScopeHead):
    pass


class ScopedShares(SharesOut, ScopeHead):
    pass


class MineMembers(Schema):
    scopes: list[ScopedMembers]


class MineProfiles(Schema):
    scopes: list[ScopedProfiles]


class MineSuppliers(Schema):
    scopes: list[ScopedSuppliers]


class MineNotes(Schema):
    scopes: list[ScopedNotes]


class MineShares(Schema):
    scopes: list[ScopedShares]


def _mine(request, name: str, period) -> dict:
    return {
        "scopes": [
            {
                "dim": s["dim"],
                "dim_id": s["dim_id"],
                "name": s["name"],
                **breakdown(name, period, dim=s["dim"], dim_id=s["dim_id"]),
            }
            for s in selectors.scopes_of(request.auth)
        ]
    }


_M = {401: ErrorOut, 422: ErrorOut}


@router.get("/me/analytics/members", response={200: MineMembers, **_M})
def my_analytics_members(request, period: Query[PeriodIn]):
    """Member share of GMV of each of the caller's scopes (shop, points, notes, circles)."""
    return _mine(request, "members", period)


@router.get("/me/analytics/profiles", response={200: MineProfiles, **_M})
def my_analytics_profiles(request, period: Query[PeriodIn]):
    return _mine(request, "profiles", period)


@router.get("/me/analytics/suppliers", response={200: MineSuppliers, **_M})
def my_analytics_suppliers(request, period: Query[PeriodIn]):
    return _mine(request, "suppliers", period)


@router.get("/me/analytics/notes", response={200: MineNotes, **_M})
def my_analytics_notes(request, period: Query[PeriodIn]):
    return _mine(request, "notes", period)


@router.get("/me/analytics/shares", response={200: MineShares, **_M})
def my_analytics_shares(request, period: Query[PeriodIn]):
    return _mine(request, "shares", period)


class TrafficIn(Schema):
    kind: Literal["view", "cart"]
    visitor: str = Field(min_length=1, max_length=60)
    product_id: Id | None = None
    channel: Literal["direct", "share", "group", "bargain", "membership", "community", "note"] = (
        "direct"
    )
    share_token: str = Field(default="", max_length=24)


class TrafficOut(Schema):
    recorded: bool


@router.post("/analytics/events", auth=None, response={202: TrafficOut, 422: ErrorOut})
def analytics_event(request, payload: TrafficIn):
    """A view or an add-to-cart, from the storefront or the mini-program (anyone)."""
    user = _caller(request)
    services.traffic_record(
        kind=payload.kind,
        visitor=payload.visitor,
        user_id=user.pk if user else None,
        product_id=payload.product_id,
        channel=payload.channel,
        share_token=payload.share_token,
    )
    return Status(202, {"recorded": True})


def _caller(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return BearerAuth().authenticate(request, header[7:].strip())
    return None
