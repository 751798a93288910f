"""Reading the inbox."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from quanzi.notifications.models import Notification


def notifications_of(*, user_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user_id=user_id)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notification_out(note: Notification) -> dict[str, Any]:
    return {
        "id": note.pk,
        "kind": note.kind,
        "title": note.title,
        "body": note.body,
        "data": note.data,
        "read": note.read_at is not None,
        "read_at": note.read_at,
        "created_at": note.created_at,
    }
