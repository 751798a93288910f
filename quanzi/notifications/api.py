from __future__ import annotations

from typing import Any

from ninja import Router

from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Schema
from quanzi.notifications import selectors, services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    read_at: Datetime | None
    created_at: Datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int


@router.get("/me/notifications", response={200: NotificationPage, 401: ErrorOut, 422: ErrorOut})
def notification_list(
    request, cursor: str | None = None, limit: int | None = None, unread_only: bool = False
):
    user = request.auth
    page = paginate(
        selectors.notifications_of(user_id=user.pk, unread_only=unread_only),
        cursor=cursor,
        limit=limit,
        serialize=selectors.notification_out,
    )
    page["unread"] = selectors.unread_count(user_id=user.pk)
    return page


@router.post(
    "/me/notifications/{notification_id}/read",
    response={200: NotificationOut, 401: ErrorOut, 404: ErrorOut},
)
def notification_read(request, notification_id: int):
    note = services.notification_mark_read(user=request.auth, notification_id=notification_id)
    return selectors.notification_out(note)


@router.post("/me/notifications/read-all", response={200: ReadAllOut, 401: ErrorOut})
def notification_read_all(request):
    marked = services.notifications_mark_all_read(user=request.auth)
    return {"marked": marked, "unread": selectors.unread_count(user_id=request.auth.pk)}
