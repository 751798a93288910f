from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.pagination import paginate
from quanzi.core.platform_settings import get_settings
from quanzi.core.ratelimit import rate_limit_request
from quanzi.core.schemas import ErrorOut
from quanzi.wechat import identities, subscribe
from quanzi.wechat.identities import Signup
from quanzi.wechat.models import SubscribeSend

router = Router(tags=["wechat"])

_ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut, 502: ErrorOut, 503: ErrorOut}


class MiniLoginIn(Schema):
    code: str = Field(min_length=1, max_length=128, description="the code of wx.login()")
    share_token: str | None = Field(
        default=None,
        max_length=24,
        description="the share link (scene) the mini-program was opened from; on the first"
        " login its sharer is credited and bound as referrer when the rules allow",
    )
    invite_code: str | None = Field(default=None, max_length=12)
    device_id: str | None = Field(default=None, max_length=64)


class MiniLoginOut(Schema):
    user_id: int
    token: str
    is_new: bool


class PhoneIn(Schema):
    code: str | None = Field(
        default=None, max_length=128, description="getPhoneNumber's code (newer clients)"
    )
    encrypted_data: str | None = Field(default=None, max_length=4096)
    iv: str | None = Field(default=None, max_length=64)


class PhoneOut(Schema):
    user_id: int
    phone: str


@router.post("/auth/wechat/mini", auth=None, response={200: MiniLoginOut, **_ERRORS})
def mini_login(request, payload: MiniLoginIn):
    rate_limit_request(request, "login")
    user, token, is_new = identities.mini_login(
        code=payload.code,
        signup=Signup(
            invite_code=payload.invite_code or "",
            share_token=payload.share_token or "",
            device_id=payload.device_id or "",
        ),
    )
    return {"user_id": user.pk, "token": token, "is_new": is_new}


@router.post("/me/phone/wechat", response={200: PhoneOut, **_ERRORS})
def phone_bind(request, payload: PhoneIn):
    user = identities.phone_bind(
        user=request.auth,
        code=payload.code or "",
        encrypted_data=payload.encrypted_data or "",
        iv=payload.iv or "",
    )
    return {"user_id": user.pk, "phone": user.phone}


class JssdkConfigOut(Schema):
    app_id: str
    timestamp: int
    nonce_str: str
    signature: str


@router.get("/wechat/jssdk-config", auth=None, response={200: JssdkConfigOut, **_ERRORS})
def jssdk_config(request, url: str):
    """``wx.config`` for the page at ``url`` (this shop's pages only)."""
    from quanzi.wechat.jssdk import jssdk_config as config

    return config(url=url)


class ConsentIn(Schema):
    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(
        description="wx.requestSubscribeMessage's answer: template id → accept / reject / ban",
        max_length=20,
    )
    long_term: bool = Field(default=False, description="a long-term subscription (长期订阅)")


class ConsentOut(Schema):
    remaining: dict[str, int] = Field(
        description="messages still allowed per template (-1: long-term, no limit)"
    )


class TemplatesOut(Schema):
    templates: dict[str, str] = Field(description="topic → template id to ask consent for")


@router.get("/wechat/subscribe-templates", auth=None, response=TemplatesOut)
def subscribe_templates(request):
    """The templates the mini-program asks consent for (wx.requestSubscribeMessage)."""
    configured = get_settings().wechat.subscribe_templates
    return {"templates": {topic: t.template_id for topic, t in configured.items() if t.template_id}}


@router.post("/me/wechat/subscriptions", response={200: ConsentOut, 422: ErrorOut})
def consents(request, payload: ConsentIn):
    remaining = subscribe.consents_record(
        user=request.auth, results=payload.results, long_term=payload.long_term
    )
    return {"remaining": remaining}


class SendOut(Schema):
    id: int
    user_id: int
    topic: str
    template_id: str
    status: str
    reason: str
    attempts: int
    errcode: int | None
    answer: dict
    created_at: datetime
    sent_at: datetime | None


class SendPage(Schema):
    items: list[SendOut]
    next_cursor: str | None


@router.get("/admin/wechat/subscribe-sends", response={200: SendPage, 403: ErrorOut, 422: ErrorOut})
def sends(
    request,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
):
    """Every subscribe message with WeChat's answer (operator)."""
    require_operator(request)
    rows = SubscribeSend.objects.all()
    if status:
        rows = rows.filter(status=status)
    return paginate(rows, cursor=cursor, limit=limit, serialize=lambda row: row)


class MergeIn(Schema):
    from_user_id: int = Field(description="the account WeChat made (no phone)")
    to_user_id: int = Field(description="the account that has the phone number")


class MergeOut(Schema):
    moved: int


@router.post(
    "/admin/wechat/merges",
    response={200: MergeOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def merge(request, payload: MergeIn):
    """Move a WeChat-made account's identities onto the account with the phone
    (operator): the shopper then logs in with WeChat as that account."""
    require_operator(request)
    moved = identities.identities_move(
        from_user_id=payload.from_user_id, to_user_id=payload.to_user_id
    )
    return {"moved": moved}
