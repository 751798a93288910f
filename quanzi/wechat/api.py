from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from quanzi.core.ratelimit import rate_limit_request
from quanzi.core.schemas import ErrorOut
from quanzi.wechat import identities
from quanzi.wechat.identities import Signup

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
