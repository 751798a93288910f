"""Circles over HTTP: ``/circles/...`` (everyone, members, owners), ``/me/circles`` and
``/admin/circles/...`` (operator). Thin: parse, call one service, shape the answer."""

from __future__ import annotations

from typing import Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.circles import deals, feed, members, selectors, services
from quanzi.circles.models import Circle, Label, Membership, OwnerApplication
from quanzi.core.auth import require_operator
from quanzi.core.errors import Forbidden, Invalid
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Date, Datetime, ErrorOut, Id, Money, Schema

router = Router(tags=["circles"])


def _viewer(request):
    from quanzi.content.api import _viewer as content_viewer

    return content_viewer(request)


# ------------------------------------------------------------------ schemas


class LabelOut(Schema):
    id: int
    name: str


class CircleIn(Schema):
    name: str = Field(min_length=1, max_length=40)
    labels: list[Id] = Field(default_factory=list, max_length=5)
    tags: list[str] = Field(default_factory=list, max_length=8)
    join_policy: Literal["open", "invite", "approval"] = "open"
    cap: int | None = Field(default=None, ge=1, le=100_000)
    description: str = Field(default="", max_length=500)
    rules: str = Field(default="", max_length=2000)
    question: str = Field(default="", max_length=120)
    cover: str = Field(default="", max_length=300)
    members_only: bool = False
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)


class CirclePatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    labels: list[Id] | None = Field(default=None, max_length=5)
    tags: list[str] | None = Field(default=None, max_length=8)
    join_policy: Literal["open", "invite", "approval"] | None = None
    cap: int | None = Field(default=None, ge=1, le=100_000)
    description: str | None = Field(default=None, max_length=500)
    rules: str | None = Field(default=None, max_length=2000)
    question: str | None = Field(default=None, max_length=120)
    members_only: bool | None = None


class CircleOut(Schema):
    id: int
    name: str
    cover: str
    description: str
    rules: str
    labels: list[LabelOut]
    tags: list[str]
    owner_id: int
    join_policy: str
    question: str
    cap: int | None
    members_only: bool
    status: str
    member_count: int
    my_status: str | None
    my_role: str | None


class CirclePage(Schema):
    items: list[CircleOut]
    next_cursor: str | None


class CreatedOut(Schema):
    id: int


class JoinIn(Schema):
    invite_token: str = Field(default="", max_length=24)
    answer: str = Field(default="", max_length=200)


class JoinOut(Schema):
    status: str


class MemberOut(Schema):
    user_id: int
    nickname: str
    role: str
    status: str
    muted: bool
    answer: str
    joined_at: Datetime | None


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class InviteOut(Schema):
    token: str
    url: str


class PostIn(Schema):
    title: str = Field(min_length=1, max_length=60)
    body: str = Field(default="", max_length=2000)
    media_ids: list[Id] = Field(default_factory=list, max_length=9)
    product_ids: list[Id] = Field(default_factory=list, max_length=9)


class AnnouncementIn(Schema):
    body: str = Field(min_length=1, max_length=500)


class AnnouncementOut(Schema):
    id: int
    body: str
    created_at: Datetime


class FeedNoteOut(Schema):
    note_id: int
    title: str
    author_id: int
    like_count: int
    comment_count: int
    published_at: Datetime | None


class FeedOut(Schema):
    announcements: list[AnnouncementOut]
    notes: list[FeedNoteOut]


class DealIn(Schema):
    kind: Literal["group", "bargain", "coupon"]
    ref_id: Id


class DealOut(Schema):
    id: int
    kind: str
    ref_id: int
    title: str
    price: int | None
    retail: int | None
    sku_id: int | None
    ends_at: Datetime | None
    active: bool


class DealList(Schema):
    items: list[DealOut]


class DayOut(Schema):
    day: Date
    members: int
    joins: int
    leaves: int
    active_7d: int
    active_30d: int
    posts: int
    orders: int
    gmv: Money


class CohortOut(Schema):
    week_start: Date
    joined: int
    members: list[int]
    active: list[int]
    member_share_bp: list[int]
    active_share_bp: list[int]


class ContributorOut(Schema):
    user_id: int
    acts: int


class HealthOut(Schema):
    circle_id: int
    members: int
    joins: int
    leaves: int
    active_7d: int
    active_30d: int
    posts_per_member_x100: int
    orders_per_member_x100: int
    gmv_per_member: Money
    gmv: Money
    orders: int
    days: list[DayOut]
    retention: list[CohortOut]
    top_contributors: list[ContributorOut]
    churn_alert: bool
    computed_on: Date | None


class OwnerApplyIn(Schema):
    intro: str = Field(default="", max_length=200)


class OwnerOut(Schema):
    user_id: int
    status: str
    intro: str
    created_at: Datetime


class OwnerPage(Schema):
    items: list[OwnerOut]
    next_cursor: str | None


class LabelIn(Schema):
    name: str = Field(min_length=1, max_length=20)
    sort: int = Field(default=0, ge=-10_000, le=10_000)


class SuspendIn(Schema):
    reason: str = Field(default="", max_length=200)


class MyCircleOut(Schema):
    circle_id: int
    name: str
    status: str
    role: str
    member_count: int


class MyCircles(Schema):
    items: list[MyCircleOut]


# ------------------------------------------------------------------ helpers


def _circle_out(circle: Circle, user) -> dict:
    return selectors.circle_out(
        circle, membership=members.membership_of(circle_id=circle.pk, user=user)
    )


def _member_out(m: Membership) -> dict:
    return {
        "user_id": m.user_id,
        "nickname": m.user.nickname,
        "role": m.role,
        "status": m.status,
        "muted": m.muted,
        "answer": m.answer,
        "joined_at": m.joined_at,
    }


def _owner_only(circle: Circle, user) -> None:
    if circle.owner_id != user.pk:
        raise Forbidden("not_circle_owner", "only the circle's owner may do this")


def _owner_or_admin(circle: Circle, user) -> None:
    m = members.membership_of(circle_id=circle.pk, user=user)
    if m is None or m.status != "member" or m.role not in ("owner", "admin"):
        raise Forbidden("not_circle_admin", "only the owner and admins may do this")


# ------------------------------------------------------------------ public


@router.get("/circle-labels", auth=None, response={200: list[LabelOut]})
def labels_list(request):
    return [{"id": label.pk, "name": label.name} for label in Label.objects.filter(is_active=True)]


@router.get("/circles", auth=None, response={200: CirclePage, 422: ErrorOut})
def circles_list(
    request,
    label: int | None = None,
    q: str = "",
    cursor: str | None = None,
    limit: int | None = None,
):
    """Active circles, biggest first; ``label`` keeps those with that label."""
    user = _viewer(request)
    mine = selectors.memberships_by_circle(user=user)  # one query, not one per circle
    return paginate(
        selectors.circles_find(label_id=label, q=q[:40]),
        cursor=cursor,
        limit=limit,
        serialize=lambda c: selectors.circle_out(c, membership=mine.get(c.pk)),
    )


class NearbyOut(Schema):
    circle: CircleOut
    distance_m: int


class NearbyList(Schema):
    items: list[NearbyOut]


class CircleList(Schema):
    items: list[CircleOut]


@router.get("/circles/nearby", auth=None, response={200: NearbyList, 422: ErrorOut})
def circles_nearby(request, lat: float, lng: float):
    """Circles with a place (community leaders' circles), nearest first."""
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Invalid("validation_error", "a position is a latitude and a longitude")
    mine = selectors.memberships_by_circle(user=_viewer(request))
    return {
        "items": [
            {"circle": selectors.circle_out(c, membership=mine.get(c.pk)), "distance_m": d}
            for c, d in selectors.circles_nearest(lat=lat, lng=lng)
        ]
    }


@router.get("/circles/recommended", auth=None, response={200: CircleList})
def circles_recommended(request):
    """Circles the viewer's friends are in, whose members bought what the viewer bought,
    or sharing a label with the viewer's circles, best first; else the biggest ones."""
    user = _viewer(request)
    mine = selectors.memberships_by_circle(user=user)
    return {
        "items": [
            selectors.circle_out(c, membership=mine.get(c.pk))
            for c in selectors.circles_recommended(user=user)
        ]
    }


@router.get("/circles/{circle_id}", auth=None, response={200: CircleOut, 404: ErrorOut})
def circle_get(request, circle_id: int):
    return _circle_out(services.circle_get(circle_id), _viewer(request))


@router.get(
    "/circles/{circle_id}/feed", auth=None, response={200: FeedOut, 403: ErrorOut, 404: ErrorOut}
)
def circle_feed(request, circle_id: int):
    """Pinned announcements and notes posted to the circle (members only where the owner
    chose so)."""
    circle = services.circle_get(circle_id)
    user = _viewer(request)
    if not selectors.can_read_feed(circle, members.membership_of(circle_id=circle.pk, user=user)):
        raise Forbidden("members_only", "this circle's feed is for its members")
    return {
        "announcements": [
            {"id": a.pk, "body": a.body, "created_at": a.created_at}
            for a in selectors.announcements_pinned(circle=circle)
        ],
        "notes": [
            {
                "note_id": n.pk,
                "title": n.title,
                "author_id": n.author_id,
                "like_count": n.like_count,
                "comment_count": n.comment_count,
                "published_at": n.published_at,
            }
            for n in selectors.feed_notes(circle=circle)
        ],
    }


@router.get("/circles/{circle_id}/deals", auth=None, response={200: DealList, 404: ErrorOut})
def circle_deals(request, circle_id: int):
    """The circle's deals (members buy them; others are refused at placement)."""
    return {"items": selectors.deals_of(circle=services.circle_get(circle_id))}


# ------------------------------------------------------------------ members


@router.post("/circles", response={201: CreatedOut, 409: ErrorOut, 422: ErrorOut})
def circle_create(request, body: CircleIn):
    """Create a circle (an owner the operator approved; the owner is its first member)."""
    data = body.dict()
    circle = services.circle_create(owner=request.auth, label_ids=data.pop("labels"), **data)
    return Status(201, {"id": circle.pk})


@router.patch(
    "/circles/{circle_id}",
    response={200: CircleOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def circle_update(request, circle_id: int, body: CirclePatch):
    data = body.dict()
    circle = services.circle_update(
        circle_id=circle_id, user=request.auth, label_ids=data.pop("labels"), **data
    )
    return _circle_out(circle, request.auth)


@router.post(
    "/circles/{circle_id}/join",
    response={201: JoinOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def circle_join(request, circle_id: int, body: JoinIn):
    """Join (``open``; ``invite`` with a member's ``invite_token``) or ask to join
    (``approval``, answering the owner's question). Joining pays no one."""
    m = members.circle_join(circle_id=circle_id, user=request.auth, **body.dict())
    return Status(201, {"status": m.status})


@router.post("/circles/{circle_id}/leave", response={200: JoinOut, 404: ErrorOut, 409: ErrorOut})
def circle_leave(request, circle_id: int):
    """Leave: the circle's open deals are no longer yours; orders placed stay."""
    return {"status": members.circle_leave(circle_id=circle_id, user=request.auth).status}


@router.post(
    "/circles/{circle_id}/invites", response={201: InviteOut, 404: ErrorOut, 409: ErrorOut}
)
def invite_create(request, circle_id: int):
    services.circle_get(circle_id)
    invite = members.invite_create(circle_id=circle_id, user=request.auth)
    return Status(201, {"token": invite.token, "url": f"/s/{invite.token}"})


@router.post(
    "/circles/{circle_id}/posts",
    response={201: CreatedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def post_create(request, circle_id: int, body: PostIn):
    """Post a note to the circle (members who are not muted); the content app's
    moderation, likes and comments apply to it."""
    post = feed.post_create(circle_id=circle_id, author=request.auth, **body.dict())
    return Status(201, {"id": post.note_id})


@router.get("/me/circles", response={200: MyCircles})
def my_circles(request):
    return {
        "items": [
            {
                "circle_id": m.circle_id,
                "name": m.circle.name,
                "status": m.status,
                "role": m.role,
                "member_count": m.circle.member_count,
            }
            for m in selectors.circles_of(user=request.auth)
        ]
    }


@router.post("/me/circle-owner", response={201: OwnerOut})
def owner_apply(request, body: OwnerApplyIn):
    """Ask the operator to let you own circles."""
    app = services.owner_apply(user=request.auth, intro=body.intro)
    return Status(201, _owner_out(app))


def _owner_out(app: OwnerApplication) -> dict:
    return {
        "user_id": app.user_id,
        "status": app.status,
        "intro": app.intro,
        "created_at": app.created_at,
    }


# ------------------------------------------------------------------ owner tools


@router.get(
    "/circles/{circle_id}/members",
    response={200: MemberPage, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def members_list(
    request,
    circle_id: int,
    status: str = "member",
    cursor: str | None = None,
    limit: int | None = None,
):
    """The circle's members or requests to join (owner and admins)."""
    circle = services.circle_get(circle_id)
    _owner_or_admin(circle, request.auth)
    qs = Membership.objects.filter(circle=circle, status=status[:10]).select_related("user")
    return paginate(qs, cursor=cursor, limit=limit, serialize=_member_out)


@router.post(
    "/circles/{circle_id}/members/{user_id}/{action}",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def member_action(
    request,
    circle_id: int,
    user_id: int,
    action: Literal["approve", "reject", "remove", "mute", "unmute", "make-admin", "unmake-admin"],
):
    """Owner and admins: approve or reject a request, remove, mute or unmute a member;
    the owner names admins."""
    services.circle_get(circle_id)
    actor = request.auth
    if action in ("approve", "reject"):
        m = members.member_decide(
            circle_id=circle_id, actor=actor, user_id=user_id, approve=action == "approve"
        )
    elif action == "remove":
        m = members.member_remove(circle_id=circle_id, actor=actor, user_id=user_id)
    elif action in ("mute", "unmute"):
        m = members.member_mute(
            circle_id=circle_id, actor=actor, user_id=user_id, muted=action == "mute"
        )
    else:
        m = members.member_set_admin(
            circle_id=circle_id, actor=actor, user_id=user_id, admin=action == "make-admin"
        )
    m = Membership.objects.select_related("user").get(pk=m.pk)
    return _member_out(m)


@router.post(
    "/circles/{circle_id}/announcements",
    response={201: AnnouncementOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def announcement_create(request, circle_id: int, body: AnnouncementIn):
    services.circle_get(circle_id)
    a = feed.announcement_create(circle_id=circle_id, author=request.auth, body=body.body)
    return Status(201, {"id": a.pk, "body": a.body, "created_at": a.created_at})


@router.get("/circles/{circle_id}/health", response={200: HealthOut, 404: ErrorOut})
def circle_health(request, circle_id: int):
    """Health figures from the daily job (owner and operator; to anyone else the page
    does not exist)."""
    circle = services.circle_get(circle_id)
    user = request.auth
    if circle.owner_id != user.pk and not user.is_operator:
        from quanzi.core.errors import NotFound

        raise NotFound("not_found", "no such circle")
    return selectors.health_of(circle=circle)


# ------------------------------------------------------------------ operator


@router.post(
    "/admin/circle-labels", response={201: LabelOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def label_create(request, body: LabelIn):
    require_operator(request)
    label = services.label_create(name=body.name, sort=body.sort)
    return Status(201, {"id": label.pk, "name": label.name})


@router.get("/admin/circle-owners", response={200: OwnerPage, 403: ErrorOut, 422: ErrorOut})
def owners_list(
    request, status: str = "pending", cursor: str | None = None, limit: int | None = None
):
    require_operator(request)
    qs = OwnerApplication.objects.filter(status=status[:10])
    return paginate(qs, cursor=cursor, limit=limit, serialize=_owner_out)


@router.post(
    "/admin/circle-owners/{user_id}/{decision}",
    response={200: OwnerOut, 403: ErrorOut, 404: ErrorOut},
)
def owner_decide(request, user_id: int, decision: Literal["approve", "reject"]):
    require_operator(request)
    return _owner_out(services.owner_decide(user_id=user_id, approve=decision == "approve"))


@router.post(
    "/admin/circles/{circle_id}/suspend", response={200: CircleOut, 403: ErrorOut, 404: ErrorOut}
)
def circle_suspend(request, circle_id: int, body: SuspendIn):
    require_operator(request)
    circle = services.circle_suspend(circle_id=circle_id, suspend=True, reason=body.reason)
    return _circle_out(circle, request.auth)


@router.post(
    "/admin/circles/{circle_id}/reinstate", response={200: CircleOut, 403: ErrorOut, 404: ErrorOut}
)
def circle_reinstate(request, circle_id: int):
    require_operator(request)
    circle = services.circle_suspend(circle_id=circle_id, suspend=False)
    return _circle_out(circle, request.auth)


@router.post(
    "/admin/circles/{circle_id}/deals",
    response={201: CreatedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def deal_add(request, circle_id: int, body: DealIn):
    """Limit a group-buy campaign, bargain campaign or coupon template to the circle's
    members (checked when an order is placed)."""
    require_operator(request)
    deal = deals.deal_add(circle_id=circle_id, kind=body.kind, ref_id=body.ref_id)
    return Status(201, {"id": deal.pk})
