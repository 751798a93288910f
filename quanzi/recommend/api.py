from __future__ import annotations

from typing import Literal

from ninja import Router
from pydantic import Field

from quanzi.core.errors import Invalid, NotFound
from quanzi.core.schemas import ErrorOut, Id, Schema
from quanzi.recommend import preferences, selectors, serving
from quanzi.recommend.models import Hidden

router = Router(tags=["recommendations"])


class RecommendationOut(Schema):
    product_id: int
    title: str
    cover: str
    min_price: int
    score: float
    reasons: list[str]


class RecommendationPage(Schema):
    items: list[RecommendationOut]


class FriendOut(Schema):
    user_id: int
    nickname: str
    avatar: str


class FriendsBoughtOut(Schema):
    items: list[FriendOut]


class HiddenOut(Schema):
    product_id: int
    hidden: bool


class QuietHours(Schema):
    start: int = Field(ge=0, le=23)
    end: int = Field(ge=0, le=23)


class Keywords(Schema):
    follow: list[str] = Field(default_factory=list, max_length=20)
    never: list[str] = Field(default_factory=list, max_length=20)


class Topics(Schema):
    orders: bool = True
    groups: bool = True
    bargains: bool = True
    commissions: bool = True
    promotions: bool = False
    recommendations: bool = False


class SmsTopics(Schema):
    """Topics also sent as a text message to the account's phone: none unless turned on."""

    orders: bool = False
    groups: bool = False
    bargains: bool = False
    commissions: bool = False
    promotions: bool = False
    recommendations: bool = False


class PreferencesIn(Schema):
    topics: Topics
    # Left out (null): the texted topics stay as they were.
    sms: SmsTopics | None = None
    keywords: Keywords
    quiet_hours: QuietHours
    frequency: Literal["daily", "weekly"] = "weekly"
    daily_cap: int = Field(default=3, ge=0, le=20)
    show_purchases: bool = False


class PreferencesOut(PreferencesIn):
    sms: SmsTopics


@router.get("/me/recommendations", response={200: RecommendationPage, 401: ErrorOut, 422: ErrorOut})
def recommendation_list(request, limit: int = 20):
    if not 1 <= limit <= serving.MAX_LIMIT:
        raise Invalid("limit_out_of_range", f"limit must be 1 to {serving.MAX_LIMIT}")
    items = serving.recommendations_for(user_id=request.auth.pk, limit=limit)
    cards = selectors.cards_for(items)
    return {
        "items": [
            {
                "product_id": c["id"],
                "title": c["title"],
                "cover": c["cover"],
                "min_price": c["min_price"],
                "score": c["score"],
                "reasons": c["reasons"],
            }
            for c in cards
        ]
    }


@router.post(
    "/me/recommendations/{product_id}/hide",
    response={200: HiddenOut, 401: ErrorOut, 404: ErrorOut},
)
def recommendation_hide(request, product_id: Id):
    from quanzi.catalog.models import Product

    if not Product.objects.filter(pk=product_id).exists():
        raise NotFound("product_not_found", "no such product")
    Hidden.objects.get_or_create(user=request.auth, product_id=product_id)
    serving.list_forget(request.auth.pk)  # the stored list skips the exclusions
    return {"product_id": product_id, "hidden": True}


@router.get(
    "/products/{product_id}/friends-bought",
    response={200: FriendsBoughtOut, 401: ErrorOut},
)
def friends_bought(request, product_id: Id):
    return {"items": selectors.friends_who_bought(user_id=request.auth.pk, product_id=product_id)}


@router.get("/me/notification-preferences", response={200: PreferencesOut, 401: ErrorOut})
def preferences_get(request):
    return preferences.preferences_out(user_id=request.auth.pk)


@router.put(
    "/me/notification-preferences",
    response={200: PreferencesOut, 401: ErrorOut, 422: ErrorOut},
)
def preferences_put(request, payload: PreferencesIn):
    preferences.preferences_update(user_id=request.auth.pk, data=payload.model_dump())
    return preferences.preferences_out(user_id=request.auth.pk)
