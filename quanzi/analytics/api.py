"""Analytics API: the operator's GMV, channel and funnel views, and each shopkeeper's,
leader's and creator's own (``/me/analytics``), all read from the daily facts."""

from __future__ import annotations

from typing import Literal

from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from quanzi.analytics import selectors, services
from quanzi.core.auth import BearerAuth, require_operator
from quanzi.core.schemas import Date, ErrorOut, Id, Schema

router = Router(tags=["analytics"])

ChannelName = Literal[
    "all", "direct", "share", "group", "bargain", "membership", "community", "note", "lottery"
]


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
