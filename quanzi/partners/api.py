"""Partner channels over HTTP.

* ``/partners/{partner_code}/arrivals`` (anyone): a partner's user arrives with a signed
  token or a one-time code; ``/partners/{partner_code}/offers`` (anyone) the channel
  prices; ``/partners/{partner_code}/coupons/{template_id}/claim`` and ``/me/partners``
  (signed-in).
* ``/partners/{partner_code}/codes`` and ``/partners/{partner_code}/reconciliation``: the
  partner's server, authenticated by its signature (``X-Partner-*`` headers), no user.
* ``/admin/partners/...`` (operator).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpResponse
from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import Invalid
from quanzi.core.schemas import Datetime, ErrorOut, Id, Money, Schema
from quanzi.partners import arrivals, channel, reports, services
from quanzi.partners.models import Partner, PartnerKey, PartnerLevel, PartnerMember, PartnerPrice

router = Router(tags=["partners"])

CSV_ANSWER = {
    "responses": {
        200: {
            "description": "CSV, UTF-8, one order per line (docs/partners.md)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


def _viewer(request, *, session: bool = True):
    """The caller on endpoints anyone may call: the bearer token's user, or (``session``)
    the web session's. A POST links accounts, so it trusts the bearer token only (a
    cookie would let another site link its partner user to the visitor's account)."""
    user = getattr(request, "user", None) if session else None
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from quanzi.accounts.services import token_authenticate

        return token_authenticate(raw=header.removeprefix("Bearer ").strip())
    return None


# ------------------------------------------------------------------ arrivals


class PartnerArrivalIn(Schema):
    token: str | None = Field(default=None, min_length=1, max_length=4096)
    code: str | None = Field(default=None, min_length=1, max_length=64)


class PartnerArrivalOut(Schema):
    user_id: int
    partner: str
    level: str
    level_name: str
    level_expires_at: Datetime
    created: bool = Field(description="a Quanzi account was made for this partner user")
    linked: bool = Field(description="this arrival linked the partner user")
    token: str | None = Field(description="a bearer token, for a caller who was not signed in")


@router.post(
    "/partners/{partner_code}/arrivals",
    auth=None,
    response={200: PartnerArrivalOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="A partner's user arrives with a signed token or a one-time code",
)
def arrival(request, partner_code: str, payload: PartnerArrivalIn):
    """Verifies the token (signature, times, level, nonce) or uses the code, then links
    the partner user to the caller's account, or signs them in to the account of that
    partner user (made at the first arrival) and answers a bearer token."""
    from quanzi.accounts.services import token_issue

    if (payload.token is None) == (payload.code is None):
        raise Invalid("invalid_value", "send either token or code", {"field": "token"})
    user = _viewer(request, session=False)
    if payload.token is not None:
        came = arrivals.arrival_by_token(partner_code=partner_code, token=payload.token, user=user)
    else:
        came = arrivals.arrival_by_code(partner_code=partner_code, code=payload.code, user=user)
    member = came.member
    return {
        "user_id": member.user_id,
        "partner": member.partner.code,
        "level": member.level.code,
        "level_name": member.level.name,
        "level_expires_at": member.level_expires_at,
        "created": came.created,
        "linked": came.linked,
        "token": None if user is not None else token_issue(user=came.user),
    }


class PartnerOfferOut(Schema):
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    retail: int
    price: int
    level: str
    level_name: str
    available: bool = Field(description="the caller's level may buy at this price now")


@router.get(
    "/partners/{partner_code}/offers",
    auth=None,
    response={200: list[PartnerOfferOut], 403: ErrorOut, 404: ErrorOut},
    summary="The partner's channel prices, and which the caller may buy",
)
def offers(request, partner_code: str):
    from quanzi.partners.selectors import offers_for

    partner = arrivals.partner_by_code(partner_code)
    return offers_for(partner=partner, user=_viewer(request))


class PartnerCouponOut(Schema):
    id: int
    template_id: int
    valid_until: Datetime


@router.post(
    "/partners/{partner_code}/coupons/{template_id}/claim",
    response={201: PartnerCouponOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Claim a coupon limited to a partner level",
)
def coupon_claim(request, partner_code: str, template_id: int):
    coupon = channel.partner_coupon_claim(
        user=request.auth, partner_code=partner_code, template_id=template_id
    )
    return Status(
        201, {"id": coupon.pk, "template_id": coupon.template_id, "valid_until": coupon.valid_until}
    )


class PartnerLinkOut(Schema):
    partner: str
    partner_name: str
    uid: str
    level: str | None
    level_name: str | None
    level_expires_at: Datetime | None
    active: bool


@router.get("/me/partners", response={200: list[PartnerLinkOut]}, summary="My partner links")
def my_partners(request):
    from django.utils import timezone

    now = timezone.now()
    rows = PartnerMember.objects.filter(user=request.auth).select_related("partner", "level")
    return [
        {
            "partner": m.partner.code,
            "partner_name": m.partner.name,
            "uid": m.uid,
            "level": m.level.code if m.level else None,
            "level_name": m.level.name if m.level else None,
            "level_expires_at": m.level_expires_at,
            "active": bool(
                m.level
                and m.level_expires_at
                and m.level_expires_at > now
                and m.partner.status == "active"
            ),
        }
        for m in rows.order_by("-last_arrived_at")
    ]


# ------------------------------------------------------------------ the partner's server


def _signed(request, partner_code: str) -> Partner:
    return arrivals.request_verify(
        partner_code=partner_code,
        method=request.method,
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        headers=request.headers,
        body=request.body,
    )


class PartnerCodeIn(Schema):
    uid: str = Field(min_length=1, max_length=64)
    level: str = Field(min_length=1, max_length=32)
    ttl_seconds: int = Field(default=1800, ge=60, le=7 * 86_400)


class PartnerCodeOut(Schema):
    code: str
    expires_at: Datetime
    link: str = Field(description="the storefront address that redeems the code")


@router.post(
    "/partners/{partner_code}/codes",
    auth=None,
    response={201: PartnerCodeOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="The partner's server issues a one-time code for one of its users (signed)",
)
def code_issue(request, partner_code: str, payload: PartnerCodeIn):
    partner = _signed(request, partner_code)
    code = arrivals.code_issue(
        partner=partner, uid=payload.uid, level=payload.level, ttl_seconds=payload.ttl_seconds
    )
    return Status(
        201,
        {
            "code": code.code,
            "expires_at": code.expires_at,
            "link": f"/p/{partner.code}?code={code.code}",
        },
    )


def _csv(partner: Partner, date_from, date_to) -> HttpResponse:
    text = reports.reconciliation_csv(partner_id=partner.pk, date_from=date_from, date_to=date_to)
    answer = HttpResponse(text, content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{partner.code}-orders.csv"'
    return answer


@router.get(
    "/partners/{partner_code}/reconciliation",
    auth=None,
    response={200: None, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    openapi_extra=CSV_ANSWER,
    summary="The partner's server downloads its orders as CSV (signed)",
)
def reconciliation(
    request, partner_code: str, date_from: date | None = None, date_to: date | None = None
):
    partner = _signed(request, partner_code)
    return _csv(partner, date_from, date_to)


# ------------------------------------------------------------------ operator


class PartnerIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    code: str = Field(min_length=2, max_length=32)
    token_max_age: int = Field(default=600, ge=30, le=86_400)
    clock_skew: int = Field(default=60, ge=0, le=600)
    level_days: int = Field(default=30, ge=1, le=3650)


class PartnerPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    status: Literal["active", "suspended"] | None = None
    token_max_age: int | None = Field(default=None, ge=30, le=86_400)
    clock_skew: int | None = Field(default=None, ge=0, le=600)
    level_days: int | None = Field(default=None, ge=1, le=3650)


class PartnerKeyOut(Schema):
    id: int
    kind: str
    status: str
    fingerprint: str
    retires_at: Datetime | None
    created_at: Datetime


class PartnerLevelOut(Schema):
    id: int
    code: str
    name: str
    rank: int


class PartnerPriceOut(Schema):
    id: int
    level_id: int
    sku_id: int
    price: int
    is_active: bool


class PartnerOut(Schema):
    id: int
    name: str
    code: str
    status: str
    token_max_age: int
    clock_skew: int
    level_days: int
    created_at: Datetime
    keys: list[PartnerKeyOut]
    levels: list[PartnerLevelOut]
    prices: list[PartnerPriceOut]


def _partner_out(partner: Partner) -> dict:
    return {
        "id": partner.pk,
        "name": partner.name,
        "code": partner.code,
        "status": partner.status,
        "token_max_age": partner.token_max_age,
        "clock_skew": partner.clock_skew,
        "level_days": partner.level_days,
        "created_at": partner.created_at,
        "keys": [
            _key_out(k)
            for k in PartnerKey.objects.filter(partner=partner).exclude(status="retired")
        ],
        "levels": list(
            PartnerLevel.objects.filter(partner=partner).values("id", "code", "name", "rank")
        ),
        "prices": list(
            PartnerPrice.objects.filter(partner=partner)
            .order_by("id")
            .values("id", "level_id", "sku_id", "price", "is_active")
        ),
    }


def _key_out(key: PartnerKey) -> dict:
    return {
        "id": key.pk,
        "kind": key.kind,
        "status": key.status,
        "fingerprint": key.fingerprint,
        "retires_at": key.retires_at,
        "created_at": key.created_at,
    }


@router.get("/admin/partners", response={200: list[PartnerOut], 403: ErrorOut}, summary="Partners")
def admin_partners(request):
    require_operator(request)
    return [_partner_out(p) for p in Partner.objects.order_by("id")[:200]]


@router.post(
    "/admin/partners",
    response={201: PartnerOut, 409: ErrorOut, 422: ErrorOut},
    summary="Add a partner",
)
def admin_partner_create(request, payload: PartnerIn):
    require_operator(request)
    partner = services.partner_create(**payload.dict())
    return Status(201, _partner_out(partner))


@router.get(
    "/admin/partners/{partner_id}", response={200: PartnerOut, 403: ErrorOut, 404: ErrorOut}
)
def admin_partner(request, partner_id: int):
    require_operator(request)
    return _partner_out(services._partner(partner_id))


@router.patch(
    "/admin/partners/{partner_id}", response={200: PartnerOut, 404: ErrorOut, 422: ErrorOut}
)
def admin_partner_update(request, partner_id: int, payload: PartnerPatch):
    require_operator(request)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    return _partner_out(services.partner_update(partner_id=partner_id, data=data))


class PartnerKeyIn(Schema):
    kind: Literal["hmac", "rsa"]
    secret: str = Field(default="", max_length=200)
    public_key: str = Field(default="", max_length=4000)
    overlap_hours: int = Field(default=24, ge=0, le=720)


@router.post(
    "/admin/partners/{partner_id}/keys",
    response={201: PartnerKeyOut, 404: ErrorOut, 422: ErrorOut},
    summary="Install a new signing key (the current one stays accepted for the overlap)",
)
def admin_key_rotate(request, partner_id: int, payload: PartnerKeyIn):
    require_operator(request)
    key = services.key_rotate(partner_id=partner_id, **payload.dict())
    return Status(201, _key_out(key))


class PartnerLevelIn(Schema):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=30)
    rank: int = Field(ge=1, le=100)


@router.post(
    "/admin/partners/{partner_id}/levels",
    response={201: PartnerLevelOut, 404: ErrorOut, 422: ErrorOut},
    summary="Add or change a level the partner may assert",
)
def admin_level_set(request, partner_id: int, payload: PartnerLevelIn):
    require_operator(request)
    level = services.level_set(partner_id=partner_id, **payload.dict())
    return Status(201, {"id": level.pk, "code": level.code, "name": level.name, "rank": level.rank})


class PartnerPriceIn(Schema):
    level_id: Id
    sku_id: Id
    price: Money


@router.post(
    "/admin/partners/{partner_id}/prices",
    response={201: PartnerPriceOut, 404: ErrorOut, 422: ErrorOut},
    summary="Set a channel-only price of a SKU for a level",
)
def admin_price_set(request, partner_id: int, payload: PartnerPriceIn):
    require_operator(request)
    row = services.price_set(partner_id=partner_id, **payload.dict())
    return Status(
        201,
        {
            "id": row.pk,
            "level_id": row.level_id,
            "sku_id": row.sku_id,
            "price": row.price,
            "is_active": row.is_active,
        },
    )


@router.delete(
    "/admin/partners/{partner_id}/prices/{price_id}",
    response={204: None, 404: ErrorOut},
    summary="Stop a channel price",
)
def admin_price_remove(request, partner_id: int, price_id: int):
    require_operator(request)
    services.price_remove(partner_id=partner_id, price_id=price_id)
    return Status(204, None)


class PartnerCouponLimitIn(Schema):
    template_id: Id
    level_id: Id


class PartnerCouponLimitOut(Schema):
    template_id: int
    level_id: int


@router.post(
    "/admin/partners/{partner_id}/coupons",
    response={201: PartnerCouponLimitOut, 404: ErrorOut, 422: ErrorOut},
    summary="Limit a coupon template to a partner level",
)
def admin_coupon_limit(request, partner_id: int, payload: PartnerCouponLimitIn):
    require_operator(request)
    row = services.coupon_limit(partner_id=partner_id, **payload.dict())
    return Status(201, {"template_id": row.template_id, "level_id": row.level_id})


class PartnerDayOut(Schema):
    day: date
    new_users: int
    buyers: int
    orders: int
    paid_orders: int
    gmv: int
    refunds: int


class PartnerTotalsOut(Schema):
    new_users: int
    buyers: int
    orders: int
    paid_orders: int
    gmv: int
    refunds: int


class PartnerReportOut(Schema):
    date_from: date
    date_to: date
    days: list[PartnerDayOut]
    totals: PartnerTotalsOut


@router.get(
    "/admin/partners/{partner_id}/report",
    response={200: PartnerReportOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="What the partner brought, per day",
)
def admin_report(
    request, partner_id: int, date_from: date | None = None, date_to: date | None = None
):
    require_operator(request)
    partner = services._partner(partner_id)
    return reports.partner_report(partner_id=partner.pk, date_from=date_from, date_to=date_to)


@router.get(
    "/admin/partners/{partner_id}/reconciliation",
    response={200: None, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    openapi_extra=CSV_ANSWER,
    summary="The partner's orders as CSV",
)
def admin_reconciliation(
    request, partner_id: int, date_from: date | None = None, date_to: date | None = None
):
    require_operator(request)
    return _csv(services._partner(partner_id), date_from, date_to)
