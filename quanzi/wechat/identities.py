"""Logging in with WeChat: one Quanzi user per unionid, one identity per app and openid.

``identity_login`` is the one way a WeChat identity becomes a Quanzi user. Two first
logins of one person racing (the mini-program and the 公众号 at once, or one code sent
twice) both try to insert; the unique constraints (``UnionAccount.unionid``,
``Identity(provider, app_id, openid)``) let one win, the loser's transaction (with the
user it made) rolls back and it takes the winner's user on its next attempt.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from wechatpy.crypto import WeChatWxaCrypto
from wechatpy.exceptions import InvalidAppIdException

from quanzi.accounts.models import User
from quanzi.accounts.services import token_issue, user_phone_bind, user_register_external
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import check_text
from quanzi.wechat import client
from quanzi.wechat.config import App, mini_app, seal, unseal
from quanzi.wechat.models import WECHAT_MINI, Identity, UnionAccount

log = get_logger("quanzi.wechat")

_ATTEMPTS = 4
# code2Session's answers to a code that is not (or no longer) good.
_BAD_CODE = {40029: "invalid_wechat_code", 40163: "wechat_code_used", 40226: "wechat_user_blocked"}
DEFAULT_NICKNAME = "微信用户"


@dataclass
class Signup:
    """What a first login carries to the new account (as a phone sign-up would)."""

    invite_code: str = ""
    share_token: str = ""
    session_key: str = ""  # the anonymous web session whose share visits become theirs
    device_id: str = ""
    nickname: str = ""
    avatar: str = ""


def require_mini() -> App:
    app = mini_app()
    if app is None:
        raise NotFound("wechat_not_configured", "this shop has no WeChat mini-program")
    return app


def code_error(exc: client.WechatError) -> Exception:
    """A WeChat refusal of the code the client sent, as the client's error."""
    code = _BAD_CODE.get(exc.errcode)
    if code is None:
        return exc
    return Invalid(code, "the WeChat login code is not valid; call wx.login again", exc.detail)


def code2session(app: App, code: str) -> dict:
    try:
        return client.request(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": app.app_id,
                "secret": app.secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
    except client.WechatError as exc:
        raise code_error(exc) from exc


def mini_login(*, code: str, signup: Signup) -> tuple[User, str, bool]:
    """``wx.login``'s code → the user (made on the first login) and a bearer token."""
    app = require_mini()
    answer = code2session(app, code.strip())
    openid = str(answer.get("openid") or "")
    if not openid:
        raise client.WechatUnavailable(message="WeChat answered without an openid")
    user, is_new = identity_login(
        provider=WECHAT_MINI,
        app_id=app.app_id,
        openid=openid,
        unionid=str(answer.get("unionid") or ""),
        session_key=str(answer.get("session_key") or ""),
        signup=signup,
    )
    return user, token_issue(user=user), is_new


def identity_login(
    *,
    provider: str,
    app_id: str,
    openid: str,
    unionid: str = "",
    session_key: str = "",
    signup: Signup | None = None,
) -> tuple[User, bool]:
    """The user of this identity, made on the first login; ``(user, is_new)``."""
    signup = signup or Signup()
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                user, is_new = _login_once(provider, app_id, openid, unionid, session_key, signup)
        except IntegrityError:
            # Another first login of this person won the race: take its user next time.
            log.info("wechat login raced", extra={"provider": provider, "attempt": attempt})
            continue
        if is_new:
            _check_nickname(user)
        log.info(
            "wechat login",
            extra={"user_id": user.pk, "provider": provider, "app_id": app_id, "new": is_new},
        )
        return user, is_new
    raise Conflict("login_busy", "too many logins at once for this WeChat user; try again")


def _login_once(
    provider: str, app_id: str, openid: str, unionid: str, session_key: str, signup: Signup
) -> tuple[User, bool]:
    now = timezone.now()
    session = {"session_key_enc": seal(session_key), "session_at": now} if session_key else {}
    identity = (
        Identity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, app_id=app_id, openid=openid)
        .first()
    )
    if identity is not None:
        fields = {"last_login_at": now, **session}
        if unionid and not identity.unionid:
            fields["unionid"] = unionid
            _union_claim(unionid, identity.user)
        Identity.objects.filter(pk=identity.pk).update(**fields)
        return identity.user, False
    is_new = False
    union = (
        UnionAccount.objects.select_related("user").filter(unionid=unionid).first()
        if unionid
        else None
    )
    if union is not None:
        user = union.user
    else:
        user = user_register_external(
            nickname=signup.nickname,
            avatar=signup.avatar,
            invite_code=signup.invite_code,
            device_id=signup.device_id,
            share_token=signup.share_token,
            session_key=signup.session_key,
        )
        is_new = True
        if unionid:
            UnionAccount.objects.create(unionid=unionid, user=user)
    Identity.objects.create(
        user=user,
        provider=provider,
        app_id=app_id,
        openid=openid,
        unionid=unionid,
        last_login_at=now,
        **session,
    )
    return user, is_new


def _union_claim(unionid: str, user: User) -> None:
    """Record a unionid learned late; one already on another user stays there."""
    try:
        with transaction.atomic():
            UnionAccount.objects.get_or_create(unionid=unionid, defaults={"user": user})
    except IntegrityError:
        pass


def _check_nickname(user: User) -> None:
    """A nickname WeChat gave that the moderation checkers do not allow is replaced."""
    if user.nickname == DEFAULT_NICKNAME:
        return
    if not check_text(user.nickname, kind="nickname", user_id=user.pk).allowed:
        user.nickname = DEFAULT_NICKNAME
        user.save(update_fields=["nickname"])


def identity_of(*, user: User, provider: str, app_id: str) -> Identity | None:
    return Identity.objects.filter(user=user, provider=provider, app_id=app_id).first()


# -- the phone number -------------------------------------------------------------------


def phone_bind(*, user: User, code: str = "", encrypted_data: str = "", iv: str = "") -> User:
    """Bind the phone the shopper shared with ``getPhoneNumber``: the newer ``code``
    (asked from WeChat's phone-number API) or the older encrypted payload (decrypted
    with the session key of their last mini-program login)."""
    app = require_mini()
    if code:
        phone = _phone_from_code(app, code)
    elif encrypted_data and iv:
        phone = _phone_from_payload(app, user, encrypted_data, iv)
    else:
        raise Invalid("phone_payload_missing", "send the code, or encrypted_data and iv")
    bound = user_phone_bind(user=user, phone=phone)
    log.info("wechat phone bound", extra={"user_id": user.pk})
    return bound


def _phone_from_code(app: App, code: str) -> str:
    try:
        data = client.call(app, "POST", "/wxa/business/getuserphonenumber", json={"code": code})
    except client.WechatError as exc:
        if exc.errcode in (40029, 40163, 40013):
            raise Invalid(
                "invalid_wechat_code", "the phone-number code is not valid", exc.detail
            ) from exc
        raise
    info = data.get("phone_info") or {}
    return _mainland(info)


def _phone_from_payload(app: App, user: User, encrypted_data: str, iv: str) -> str:
    identity = identity_of(user=user, provider=WECHAT_MINI, app_id=app.app_id)
    session_key = unseal(identity.session_key_enc) if identity else ""
    if not session_key:
        raise Invalid("wechat_session_missing", "log in with wx.login again, then share the phone")
    try:
        data = WeChatWxaCrypto(session_key, iv, app.app_id).decrypt_message(encrypted_data)
    except InvalidAppIdException as exc:
        raise Invalid("invalid_encrypted_data", "the data was made for another app") from exc
    except (ValueError, TypeError, KeyError, binascii.Error, json.JSONDecodeError) as exc:
        raise Invalid(
            "invalid_encrypted_data", "the encrypted phone data does not decrypt"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - the cipher's own errors on tampered input
        raise Invalid(
            "invalid_encrypted_data", "the encrypted phone data does not decrypt"
        ) from exc
    return _mainland(data)


def _mainland(info: dict) -> str:
    phone = str(info.get("purePhoneNumber") or "")
    country = str(info.get("countryCode") or "86")
    if country != "86" or not phone:
        raise Invalid("phone_not_supported", "only mainland China mobile numbers can be bound")
    return phone


# -- the operator's merge ---------------------------------------------------------------


def identities_move(*, from_user_id: int, to_user_id: int) -> int:
    """Move a WeChat-made account's identities (and unionids) onto another account, for
    a shopper whose phone was already on that one (``409 phone_taken``). The source must
    be an account WeChat made and that never bound a phone; it is deactivated and its
    sign-ins revoked. Its orders stay where they are. Returns how many identities moved."""
    from quanzi.accounts.models import AuthToken
    from quanzi.accounts.services import phone_is_placeholder

    if from_user_id == to_user_id:
        raise Invalid("same_account", "choose two different accounts")
    with transaction.atomic():
        users = {
            u.pk: u
            for u in User.objects.select_for_update()
            .filter(pk__in=[from_user_id, to_user_id])
            .order_by("pk")
        }
        source, target = users.get(from_user_id), users.get(to_user_id)
        if source is None or target is None:
            raise NotFound("user_not_found", "no such account")
        if not phone_is_placeholder(source.phone):
            raise Conflict(
                "not_a_wechat_account", "only an account WeChat made (without a phone) is merged"
            )
        moving = list(Identity.objects.select_for_update().filter(user=source))
        taken = set(Identity.objects.filter(user=target).values_list("provider", "app_id")) & {
            (i.provider, i.app_id) for i in moving
        }
        if taken:
            raise Conflict(
                "identity_conflict",
                "the target account already has an identity in the same WeChat app",
                {"apps": sorted(app for _provider, app in taken)},
            )
        Identity.objects.filter(user=source).update(user=target)
        UnionAccount.objects.filter(user=source).update(user=target)
        source.is_active = False
        source.save(update_fields=["is_active"])
        AuthToken.objects.filter(user=source, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    log.info(
        "wechat identities moved",
        extra={"from_user_id": from_user_id, "to_user_id": to_user_id, "count": len(moving)},
    )
    return len(moving)
