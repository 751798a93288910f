from __future__ import annotations

from typing import Any, Literal

from ninja import Router

from quanzi.core.auth import require_operator
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Schema
from quanzi.risk.selectors import risk_event_out, risk_events

router = Router(tags=["risk"])


class RiskEventOut(Schema):
    id: int
    kind: str
    user_id: int
    counterpart_id: int | None
    subject: str
    device_id: str
    action: str
    reason: str
    detail: dict[str, Any]
    created_at: Datetime


class RiskEventPage(Schema):
    items: list[RiskEventOut]
    next_cursor: str | None


@router.get("/admin/risk-events", response={200: RiskEventPage, 403: ErrorOut, 422: ErrorOut})
def admin_risk_events(
    request,
    cursor: str | None = None,
    limit: int | None = None,
    action: Literal["allow", "hold", "deny"] | None = None,
    kind: str | None = None,
    user_id: int | None = None,
):
    require_operator(request)
    qs = risk_events(action=action, kind=kind, user_id=user_id)
    return paginate(qs, cursor=cursor, limit=limit, serialize=risk_event_out)
