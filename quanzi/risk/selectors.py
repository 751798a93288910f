"""Risk reads for the operator."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from quanzi.risk.models import RiskEvent


def risk_events(
    *,
    action: str | None = None,
    kind: str | None = None,
    user_id: int | None = None,
    review: str | None = None,
) -> QuerySet[RiskEvent]:
    qs = RiskEvent.objects.all()
    if review:
        qs = qs.filter(review=review)
    if action:
        qs = qs.filter(action=action)
    if kind:
        qs = qs.filter(kind=kind)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs


def risk_event_out(event: RiskEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "user_id": event.user_id,
        "counterpart_id": event.counterpart_id,
        "subject": event.subject,
        "device_id": event.device_id,
        "ip": event.ip,
        "action": event.action,
        "reason": event.reason,
        "detail": event.detail,
        "review": event.review,
        "reviewed_by_id": event.reviewed_by_id,
        "reviewed_at": event.reviewed_at,
        "review_note": event.review_note,
        "created_at": event.created_at,
    }
