from __future__ import annotations

from typing import Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import NotFound
from quanzi.core.schemas import Datetime, ErrorOut, Schema
from quanzi.social import selectors, services

router = Router(tags=["sharing"])


class ShareIn(Schema):
    target: Literal["product", "group", "bargain", "note", "shop"]
    target_id: int = Field(ge=1)
    channel: str | None = Field(default=None, max_length=20)


class ShareCreatedOut(Schema):
    token: str
    url: str
    id: int
    target: str
    target_id: int
    channel: str
    depth: int


class ShareOut(Schema):
    id: int
    token: str
    url: str
    target: str
    target_id: int
    channel: str
    parent_id: int | None
    depth: int
    created_at: Datetime
    opens: int
    visitors: int
    registrations: int
    orders: int
    gmv: int


class SharePage(Schema):
    items: list[ShareOut]
    next_cursor: str | None


class ShareStatsOut(Schema):
    links: int
    sharers: int
    visitors: int
    registrations: int
    orders: int
    buyers: int
    gmv: int
    max_depth: int
    k_factor: float


class TreeLinkOut(Schema):
    id: int
    sharer_id: int
    parent_id: int | None
    depth: int
    opens: int
    visitors: int
    registrations: int
    orders: int
    gmv: int


class TreeOut(Schema):
    root_id: int
    depth: int
    links: list[TreeLinkOut]
    sharers: int
    brought: int
    k_factor: float


@router.post("/shares", response={201: ShareCreatedOut, 404: ErrorOut, 422: ErrorOut})
def share_create(request, payload: ShareIn):
    link = services.share_create(
        sharer=request.auth,
        target=payload.target,
        target_id=payload.target_id,
        channel=payload.channel or "",
    )
    return Status(
        201,
        {
            "token": link.token,
            "url": selectors.share_url(link),
            "id": link.pk,
            "target": link.target,
            "target_id": link.target_id,
            "channel": link.channel,
            "depth": link.depth,
        },
    )


@router.get("/me/shares", response=SharePage)
def my_shares(request, cursor: str | None = None, limit: int | None = None):
    return selectors.shares_of(user=request.auth, cursor=cursor, limit=limit)


@router.get("/me/shares/stats", response=ShareStatsOut)
def my_share_stats(request):
    return selectors.share_stats(sharer=request.auth)


@router.get("/admin/shares/stats", response={200: ShareStatsOut, 403: ErrorOut})
def share_stats(request, since: Datetime | None = None, until: Datetime | None = None):
    require_operator(request)
    return selectors.share_stats(since=since, until=until)


@router.get("/admin/shares/{share_id}/tree", response={200: TreeOut, 403: ErrorOut, 404: ErrorOut})
def share_tree(request, share_id: int):
    require_operator(request)
    tree = selectors.share_tree(link_id=share_id)
    if not tree:
        raise NotFound("share_not_found", "no such share link")
    return tree
