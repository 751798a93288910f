from __future__ import annotations

from typing import Any, Literal

from ninja import Router
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import NotFound
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Schema
from quanzi.risk.rules import ACTIONS, DEFAULTS, rules_effective
from quanzi.risk.selectors import risk_event_out, risk_events

router = Router(tags=["risk"])

Action = Literal["allow", "hold", "deny", "verify"]


class RiskEventOut(Schema):
    id: int
    kind: str
    user_id: int
    counterpart_id: int | None
    subject: str
    device_id: str
    ip: str
    action: str
    reason: str
    detail: dict[str, Any]
    review: str
    reviewed_by_id: int | None
    reviewed_at: Datetime | None
    review_note: str
    created_at: Datetime


class RiskEventPage(Schema):
    items: list[RiskEventOut]
    next_cursor: str | None


class RiskRuleOut(Schema):
    code: str
    description: str
    enabled: bool
    threshold: int | None
    window_seconds: int | None
    actions: dict[str, str]


class RiskRuleIn(Schema):
    enabled: bool | None = None
    threshold: int | None = Field(default=None, ge=0, le=1_000_000)
    window_seconds: int | None = Field(default=None, ge=60, le=365 * 86400)
    actions: dict[str, Action] | None = None


class ReviewIn(Schema):
    note: str = Field(default="", max_length=200)


def _rule_out(rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "description": rule.description,
        "enabled": rule.enabled,
        "threshold": rule.threshold,
        "window_seconds": rule.window_seconds,
        "actions": rule.actions,
    }


@router.get("/admin/risk-events", response={200: RiskEventPage, 403: ErrorOut, 422: ErrorOut})
def admin_risk_events(
    request,
    cursor: str | None = None,
    limit: int | None = None,
    action: Action | None = None,
    kind: str | None = None,
    user_id: int | None = None,
    review: Literal["open", "approved", "denied"] | None = None,
):
    require_operator(request)
    qs = risk_events(action=action, kind=kind, user_id=user_id, review=review)
    return paginate(qs, cursor=cursor, limit=limit, serialize=risk_event_out)


@router.get("/admin/risk/rules", response={200: list[RiskRuleOut], 403: ErrorOut})
def admin_risk_rules(request):
    require_operator(request)
    return [_rule_out(rule) for rule in rules_effective().values()]


@router.patch(
    "/admin/risk/rules/{code}",
    response={200: RiskRuleOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_risk_rule_update(request, code: str, payload: RiskRuleIn):
    require_operator(request)
    from quanzi.risk.services import risk_rule_update

    if code not in DEFAULTS:
        raise NotFound("risk_rule_not_found", "no such risk rule")
    risk_rule_update(code=code, **payload.dict(exclude_unset=True))
    return _rule_out(rules_effective()[code])


@router.post(
    "/admin/risk-events/{event_id}/approve",
    response={200: RiskEventOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_risk_approve(request, event_id: int, payload: ReviewIn):
    operator = require_operator(request)
    from quanzi.risk.reviews import review_decide

    event = review_decide(event_id=event_id, approve=True, operator=operator, note=payload.note)
    return risk_event_out(event)


@router.post(
    "/admin/risk-events/{event_id}/deny",
    response={200: RiskEventOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_risk_deny(request, event_id: int, payload: ReviewIn):
    operator = require_operator(request)
    from quanzi.risk.reviews import review_decide

    event = review_decide(event_id=event_id, approve=False, operator=operator, note=payload.note)
    return risk_event_out(event)


__all__ = ["ACTIONS", "router"]
