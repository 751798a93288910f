from __future__ import annotations

from ninja import Router, Status
from pydantic import Field

from quanzi.accounts import services
from quanzi.accounts.models import Address
from quanzi.core.errors import Unauthorized
from quanzi.core.ratelimit import rate_limit_request
from quanzi.core.schemas import ErrorOut, Schema

router = Router(tags=["accounts"])


class RegisterIn(Schema):
    phone: str = Field(max_length=20)
    password: str = Field(max_length=128)
    nickname: str = Field(default="", max_length=40)
    invite_code: str | None = Field(default=None, max_length=12)
    device_id: str | None = Field(default=None, max_length=64)
    share_token: str | None = Field(
        default=None,
        max_length=24,
        description="the share link the person arrived through (/s/<token>); its sharer"
        " is credited with the sign-up and bound as referrer when the rules allow;"
        " an unknown token is ignored",
    )


class LoginIn(Schema):
    phone: str = Field(max_length=20)
    password: str = Field(max_length=128)


class TokenOut(Schema):
    user_id: int
    token: str


class MeOut(Schema):
    id: int
    phone: str
    nickname: str
    avatar: str
    roles: list[str]
    invite_code: str
    referrer_id: int | None


class AddressIn(Schema):
    name: str = Field(max_length=40)
    phone: str = Field(max_length=20)
    province: str = Field(max_length=40)
    city: str = Field(max_length=40)
    district: str = Field(max_length=40)
    detail: str = Field(max_length=200)
    is_default: bool = False


class AddressOut(Schema):
    id: int
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool


@router.post(
    "/auth/register",
    auth=None,
    response={201: TokenOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def register(request, payload: RegisterIn):
    rate_limit_request(request, "register", phone=payload.phone)
    user, token = services.user_register(
        phone=payload.phone,
        password=payload.password,
        nickname=payload.nickname,
        invite_code=payload.invite_code or "",
        device_id=payload.device_id or "",
        share_token=payload.share_token or "",
    )
    return Status(201, {"user_id": user.pk, "token": token})


@router.post("/auth/login", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut})
def login(request, payload: LoginIn):
    rate_limit_request(request, "login", phone=payload.phone)
    user, token = services.user_login(phone=payload.phone, password=payload.password)
    return {"user_id": user.pk, "token": token}


@router.post("/auth/logout", response={204: None})
def logout(request):
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("not_a_token_session", "log out of the web session at /logout/")
    services.token_revoke(raw=header.removeprefix("Bearer ").strip())
    return Status(204, None)


@router.get("/me", response=MeOut)
def me(request):
    user = request.auth
    return {
        "id": user.pk,
        "phone": "" if services.phone_is_placeholder(user.phone) else user.phone,
        "nickname": user.nickname,
        "avatar": user.avatar,
        "roles": user.roles,
        "invite_code": user.invite_code,
        "referrer_id": user.referrer_id if services.referrer_is_valid(user) else None,
    }


@router.get("/me/addresses", response=list[AddressOut])
def addresses(request):
    return list(
        Address.objects.filter(user=request.auth, is_deleted=False).order_by("-is_default", "-id")
    )


@router.post("/me/addresses", response={201: AddressOut, 422: ErrorOut})
def address_create(request, payload: AddressIn):
    data = payload.dict()
    is_default = data.pop("is_default")
    return Status(201, services.address_create(user=request.auth, data=data, is_default=is_default))


@router.put("/me/addresses/{address_id}", response={200: AddressOut, 404: ErrorOut, 422: ErrorOut})
def address_update(request, address_id: int, payload: AddressIn):
    data = payload.dict()
    data.pop("is_default")
    return services.address_update(user=request.auth, address_id=address_id, data=data)


@router.delete("/me/addresses/{address_id}", response={204: None, 404: ErrorOut})
def address_delete(request, address_id: int):
    services.address_delete(user=request.auth, address_id=address_id)
    return Status(204, None)
