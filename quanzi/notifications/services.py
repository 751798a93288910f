"""Writing to the inbox. Other apps call ``notify`` inside their own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import NotFound
from quanzi.core.logging import get_logger
from quanzi.notifications.models import Notification

log = get_logger("quanzi.notifications")

# Push channels (WeChat subscribe messages, SMS…), registered from apps' ``ready()``:
# each is called with every new inbox message, in the writer's transaction, and decides
# itself whether to push it (by ``kind`` and the person's consent). A channel schedules
# its sending after commit; it must not fail the caller.
push_channels: list[Callable[[Notification], None]] = []

# Push gates, registered from apps' ``ready()`` (the recommendation app's preferences):
# a channel asks ``push_allowed`` before it sends a push outside the inbox. A gate is
# ``gate(user_id=, topic=, key=, call=) -> bool``; ``key`` names the message (the same
# key for a retry), ``call`` is what the channel needs to send it later (a gate may defer
# the push and have it sent again after quiet hours). No gate: everything is allowed.
push_gates: list[Callable[..., bool]] = []


def push_allowed(*, user_id: int, topic: str, key: str, call: dict[str, Any]) -> bool:
    return all(gate(user_id=user_id, topic=topic, key=key, call=call) for gate in push_gates)


def notify(
    *, user_id: int, kind: str, title: str, body: str, data: dict[str, Any] | None = None
) -> Notification:
    """Put a message in ``user_id``'s inbox (in the caller's transaction)."""
    note = Notification.objects.create(
        user_id=user_id,
        kind=kind[:40],
        title=title[:120],
        body=body[:500],
        data=data or {},
    )
    log.info("notified", extra={"user_id": user_id, "kind": kind, "notification_id": note.pk})
    for channel in push_channels:
        try:
            channel(note)
        except Exception:  # noqa: BLE001 - the inbox message stands without the push
            log.exception("push channel failed", extra={"notification_id": note.pk})
    return note


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's messages read; reading it again changes nothing."""
    note = Notification.objects.filter(pk=notification_id, user=user).first()
    if note is None:
        # Someone else's message looks exactly like a missing one.
        raise NotFound("notification_not_found", "no such notification")
    if note.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=now)
        note.refresh_from_db(fields=["read_at"])
    return note


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
