"""Community group buying over HTTP: ``/community/...`` (customers, leaders) and
``/admin/community/...`` (operator). Thin: parse, call one service, shape the answer."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.community import leaders, pickups, selectors, sweeps, waves
from quanzi.community.models import (
    CommunitySettings,
    Leader,
    LeaderApplication,
    Wave,
)
from quanzi.core.auth import require_operator, require_role
from quanzi.core.errors import NotFound
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Date, Datetime, ErrorOut, Id, Schema, Time

router = Router(tags=["community"])


class PointIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    address: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    hours: str = Field(default="", max_length=60)
    photo: str = Field(default="", max_length=300)
    area: str = Field(default="", max_length=60)
    capacity: int = Field(default=0, ge=0, le=100_000)


class ApplicationIn(Schema):
    point: PointIn


class ApplicationOut(Schema):
    id: int
    user_id: int
    status: str
    point: dict[str, Any]
    reason: str
    leader_id: int | None
    point_id: int | None
    created_at: Datetime


class ApprovedOut(Schema):
    leader_id: int
    point_id: int


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None


class LeaderBrief(Schema):
    id: int
    nickname: str


class PointOut(Schema):
    id: int
    name: str
    address: str
    area: str
    lat: float
    lng: float
    hours: str
    photo: str
    capacity: int
    status: str
    distance_m: int | None
    leader: LeaderBrief


class PointList(Schema):
    items: list[PointOut]
    next_cursor: str | None = None


class WaveItemIn(Schema):
    sku_id: Id
    price: int = Field(ge=1)
    stock: int = Field(ge=1, le=10_000_000)
    per_user_limit: int = Field(default=0, ge=0, le=999)
    leader_rate_bp: int | None = Field(default=None, ge=0, le=5000)


class WaveIn(Schema):
    title: str = Field(default="", max_length=80)
    sale_date: Date
    cutoff_at: Datetime
    pickup_date: Date
    pickup_start: Time | None = None
    pickup_end: Time | None = None
    items: list[WaveItemIn] = Field(min_length=1, max_length=100)


class WaveItemOut(Schema):
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    cover: str
    retail_price: int
    price: int
    per_user_limit: int
    stock: int
    remaining: int
    sold: int


class WaveOut(Schema):
    id: int
    title: str
    status: str
    sale_date: Date
    cutoff_at: Datetime
    pickup_date: Date
    pickup_start: str | None
    pickup_end: str | None
    seconds_left: int
    aggregated: bool
    items: list[WaveItemOut]


class WaveList(Schema):
    items: list[WaveOut]
    next_cursor: str | None


class ChooseIn(Schema):
    point_id: Id


class ChosenOut(Schema):
    point: PointOut
    bound_leader_id: int | None


class BindIn(Schema):
    point_id: Id | None = None


class ShortageIn(Schema):
    sku_id: Id
    qty: int = Field(ge=1, le=100_000)


class ArrivalIn(Schema):
    wave_id: Id
    shortages: list[ShortageIn] = Field(default_factory=list, max_length=100)


class ArrivalOut(Schema):
    id: int
    point_id: int
    wave_id: Id
    shortages: list[dict[str, int]]
    refunds: list[dict[str, Any]]
    created_at: Datetime


class PickupIn(Schema):
    code: str = Field(max_length=20)


class PickupOut(Schema):
    order_id: int
    status: str


class PauseIn(Schema):
    dates: list[Date] = Field(min_length=1, max_length=60)
    paused: bool = True


class PauseOut(Schema):
    point_id: int
    paused_dates: list[Date]


class ItemsOut(Schema):
    items: list[dict[str, Any]]


class LeaderMeOut(Schema):
    leader: dict[str, Any]
    points: list[PointOut]
    earnings: dict[str, int]
    share_url: str


class LeaderOut(Schema):
    id: int
    user_id: int
    nickname: str
    status: str
    share_code: str


class LeaderPage(Schema):
    items: list[LeaderOut]
    next_cursor: str | None


class PointStatusIn(Schema):
    status: Literal["active", "suspended", "closed"]


class RejectIn(Schema):
    reason: str = Field(default="", max_length=200)


class SettingsIO(Schema):
    leader_rate_bp: int = Field(ge=0, le=5000)
    unpicked_days: int = Field(ge=0, le=60)
    unpicked_action: Literal["refund", "remind"]
    pickup_attempts_per_10min: int = Field(ge=1, le=1000)
    leader_upline_level2: bool = Field(
        default=False,
        description="the leader's own referrer earns level 2 on community orders"
        " (distribution's level-2 rate); off: the leader alone earns",
    )


# --- customers ------------------------------------------------------------------


@router.post(
    "/community/leader-applications",
    response={201: ApplicationOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def application_create(request, payload: ApplicationIn):
    app = leaders.application_create(user=request.auth, point=payload.point.dict())
    return Status(201, selectors.application_out(app))


@router.get("/community/points", response={200: PointList}, auth=None)
def point_list(request, lat: float | None = None, lng: float | None = None, limit: int = 20):
    if lat is not None and not -90 <= lat <= 90 or lng is not None and not -180 <= lng <= 180:
        lat = lng = None
    return {"items": selectors.points_nearest(lat=lat, lng=lng, limit=max(1, min(limit, 50)))}


@router.get("/community/waves/current", response={200: WaveOut, 404: ErrorOut}, auth=None)
def wave_current(request):
    wave = waves.wave_current()
    if wave is None:
        raise NotFound("no_open_wave", "no wave is open for orders now")
    return selectors.wave_out(wave)


@router.get("/community/waves/{wave_id}", response={200: WaveOut, 404: ErrorOut}, auth=None)
def wave_detail(request, wave_id: int):
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None:
        raise NotFound("wave_not_found", "no such wave")
    return selectors.wave_out(wave)


def _chosen_answer(chosen) -> dict:
    return {"point": selectors.point_out(chosen.point), "bound_leader_id": chosen.bound_leader_id}


@router.get("/community/me/point", response={200: ChosenOut, 404: ErrorOut})
def my_point(request):
    chosen = selectors.chosen_point(request.auth)
    if chosen is None:
        raise NotFound("no_point", "choose a pickup point first")
    return _chosen_answer(chosen)


@router.put("/community/me/point", response={200: ChosenOut, 404: ErrorOut})
def my_point_set(request, payload: ChooseIn):
    leaders.point_choose(user=request.auth, point_id=payload.point_id)
    return _chosen_answer(selectors.chosen_point(request.auth))


@router.post("/community/leaders/{share_code}/bind", response={200: ChosenOut, 404: ErrorOut})
def leader_bind(request, share_code: str, payload: BindIn):
    """Following a leader's share link: the point is set and the customer bound to the leader."""
    leader = leaders.leader_by_share_code(share_code)
    if leader is None:
        raise NotFound("leader_not_found", "no such leader")
    point_id = payload.point_id
    if point_id is None:
        first = selectors.points_usable().filter(leader=leader).order_by("id").first()
        if first is None:
            raise NotFound("point_not_found", "this leader has no open point")
        point_id = first.pk
    elif not leader.points.filter(pk=point_id).exists():
        raise NotFound("point_not_found", "no such point of this leader")
    leaders.point_choose(user=request.auth, point_id=point_id, via_leader=leader)
    return _chosen_answer(selectors.chosen_point(request.auth))


@router.get("/community/me/pickups", response={200: ItemsOut})
def my_pickups(request):
    return {"items": selectors.my_pickups(request.auth)}


# --- leaders --------------------------------------------------------------------


def _leader(request) -> Leader:
    user = require_role(request, "leader")
    leader = Leader.objects.select_related("user").filter(user=user).first()
    if leader is None:
        raise NotFound("leader_not_found", "you do not run a pickup point")
    return leader


@router.get("/community/leader/me", response={200: LeaderMeOut, 403: ErrorOut, 404: ErrorOut})
def leader_me(request):
    from quanzi.distribution.selectors import earnings_of

    leader = _leader(request)
    points = leader.points.select_related("leader__user").order_by("id")
    return {
        "leader": selectors.leader_out(leader),
        "points": [selectors.point_out(p) for p in points],
        "earnings": earnings_of(user=leader.user),
        "share_url": f"/community/l/{leader.share_code}",
    }


@router.get("/community/leader/orders", response={200: ItemsOut, 403: ErrorOut, 404: ErrorOut})
def leader_orders(request):
    return {"items": selectors.leader_orders(leader=_leader(request))}


def _arrival_answer(arrival) -> dict:
    return {
        "id": arrival.pk,
        "point_id": arrival.point_id,
        "wave_id": arrival.wave_id,
        "shortages": arrival.shortages,
        "refunds": [
            {"order_id": r.order_id, "lines": r.lines, "refund_id": r.refund_id}
            for r in arrival.refunds.order_by("id")
        ],
        "created_at": arrival.created_at,
    }


@router.post(
    "/community/points/{point_id}/arrivals",
    response={201: ArrivalOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def arrival_create(request, point_id: int, payload: ArrivalIn):
    require_role(request, "leader")
    arrival = pickups.arrival_confirm(
        user=request.auth,
        point_id=point_id,
        wave_id=payload.wave_id,
        shortages=[s.dict() for s in payload.shortages],
    )
    return Status(201, _arrival_answer(arrival))


@router.post(
    "/community/points/{point_id}/pickups",
    response={
        200: PickupOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
)
def pickup_create(request, point_id: int, payload: PickupIn):
    require_role(request, "leader")
    order = pickups.pickup_verify(user=request.auth, point_id=point_id, code=payload.code)
    return {"order_id": order.pk, "status": order.status}


@router.post(
    "/community/points/{point_id}/pauses",
    response={200: PauseOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def point_pause(request, point_id: int, payload: PauseIn):
    require_role(request, "leader")
    dates = leaders.point_pause(
        user=request.auth, point_id=point_id, dates=payload.dates, paused=payload.paused
    )
    return {"point_id": point_id, "paused_dates": dates}


@router.get(
    "/community/points/{point_id}/sorting-list",
    response={200: ItemsOut, 403: ErrorOut, 404: ErrorOut},
)
def point_sorting_list(request, point_id: int, wave_id: int):
    require_role(request, "leader")
    point = leaders.point_of_leader(user=request.auth, point_id=point_id)
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None:
        raise NotFound("wave_not_found", "no such wave")
    return {"items": selectors.sorting_lists(wave, point_id=point.pk)}


# --- operator -------------------------------------------------------------------


@router.get(
    "/admin/community/leader-applications",
    response={200: ApplicationPage, 403: ErrorOut, 422: ErrorOut},
)
def admin_applications(
    request, cursor: str | None = None, limit: int | None = None, status: str | None = None
):
    require_operator(request)
    qs = LeaderApplication.objects.all()
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=selectors.application_out)


@router.post(
    "/admin/community/leader-applications/{application_id}/approve",
    response={200: ApprovedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_application_approve(request, application_id: int):
    operator = require_operator(request)
    app = leaders.application_approve(application_id=application_id, operator=operator)
    return {"leader_id": app.leader_id, "point_id": app.created_point_id}


@router.post(
    "/admin/community/leader-applications/{application_id}/reject",
    response={200: ApplicationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_application_reject(request, application_id: int, payload: RejectIn):
    operator = require_operator(request)
    app = leaders.application_reject(
        application_id=application_id, operator=operator, reason=payload.reason
    )
    return selectors.application_out(app)


@router.get("/admin/community/leaders", response={200: LeaderPage, 403: ErrorOut, 422: ErrorOut})
def admin_leaders(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    qs = Leader.objects.select_related("user")
    return paginate(qs, cursor=cursor, limit=limit, serialize=selectors.leader_out)


@router.post(
    "/admin/community/leaders/{leader_id}/{action}",
    response={200: LeaderOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_leader_action(request, leader_id: int, action: Literal["suspend", "reinstate", "close"]):
    operator = require_operator(request)
    leader = leaders.leader_set_status(leader_id=leader_id, action=action, operator=operator)
    return selectors.leader_out(Leader.objects.select_related("user").get(pk=leader.pk))


@router.post(
    "/admin/community/points/{point_id}/status",
    response={200: PointOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_point_status(request, point_id: int, payload: PointStatusIn):
    operator = require_operator(request)
    point = leaders.point_set_status(point_id=point_id, status=payload.status, operator=operator)
    return selectors.point_out(point)


@router.post(
    "/admin/community/waves", response={201: WaveOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def admin_wave_create(request, payload: WaveIn):
    require_operator(request)
    wave = waves.wave_create(
        title=payload.title,
        sale_date=payload.sale_date,
        cutoff_at=payload.cutoff_at,
        pickup_date=payload.pickup_date,
        pickup_start=payload.pickup_start,
        pickup_end=payload.pickup_end,
        items=[i.dict() for i in payload.items],
    )
    return Status(201, selectors.wave_out(wave))


@router.get("/admin/community/waves", response={200: WaveList, 403: ErrorOut, 422: ErrorOut})
def admin_waves(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return paginate(Wave.objects.all(), cursor=cursor, limit=limit, serialize=selectors.wave_out)


def _wave(wave_id: int) -> Wave:
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None:
        raise NotFound("wave_not_found", "no such wave")
    return wave


@router.get(
    "/admin/community/waves/{wave_id}/purchase-orders",
    response={200: ItemsOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_purchase_orders(request, wave_id: int):
    require_operator(request)
    return {"items": selectors.purchase_orders_out(_wave(wave_id))}


@router.get(
    "/admin/community/waves/{wave_id}/sorting-lists",
    response={200: ItemsOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_sorting_lists(request, wave_id: int):
    require_operator(request)
    return {"items": selectors.sorting_lists(_wave(wave_id))}


@router.get(
    "/admin/community/waves/{wave_id}/routes",
    response={200: ItemsOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_routes(request, wave_id: int):
    require_operator(request)
    return {"items": selectors.routes(_wave(wave_id))}


@router.post("/admin/community/sweep", response={200: dict[str, int], 403: ErrorOut})
def admin_sweep(request):
    """Run the community sweeps now (close due waves, write purchase orders, unpicked)."""
    require_operator(request)
    return {
        "closed": sweeps.waves_close_due(),
        "aggregated": sweeps.waves_aggregate_due(),
        "shortage_refunds": pickups.shortage_refunds_run(),
        "unpicked": sweeps.orders_unpicked(),
    }


def _settings_out(s: CommunitySettings) -> dict:
    return {
        "leader_rate_bp": s.leader_rate_bp,
        "unpicked_days": s.unpicked_days,
        "unpicked_action": s.unpicked_action,
        "pickup_attempts_per_10min": s.pickup_attempts_per_10min,
        "leader_upline_level2": s.leader_upline_level2,
    }


@router.get("/admin/community/settings", response={200: SettingsIO, 403: ErrorOut})
def admin_settings(request):
    require_operator(request)
    return _settings_out(CommunitySettings.current())


@router.put("/admin/community/settings", response={200: SettingsIO, 403: ErrorOut, 422: ErrorOut})
def admin_settings_put(request, payload: SettingsIO):
    require_operator(request)
    s = CommunitySettings.current()
    for key, value in payload.dict().items():
        setattr(s, key, value)
    s.save()
    return _settings_out(s)
