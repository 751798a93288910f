"""公众号 web login for the H5 storefront opened in WeChat's browser.

``oauth_start`` records a one-time ``state`` for this browser session and sends the
shopper to WeChat's authorize page (``snsapi_base``: silent, openid only;
``snsapi_userinfo``: WeChat asks them, then Quanzi gets their nickname and picture).
``oauth_finish`` takes the ``code`` back: the state must be this session's, unused and
recent; the code is exchanged once; the identity logs in (a new account on the first
visit, with the share link the session arrived through).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid, NotFound
from quanzi.wechat import client
from quanzi.wechat.config import App, mp_app, open_url
from quanzi.wechat.identities import Signup, code_error, identity_login
from quanzi.wechat.models import WECHAT_MP, OAuthState

STATE_SECONDS = 600
SCOPES = {"base": "snsapi_base", "userinfo": "snsapi_userinfo"}


def require_mp() -> App:
    app = mp_app()
    if app is None:
        raise NotFound("wechat_not_configured", "this shop has no WeChat official account")
    return app


def oauth_start(
    *, session_key: str, next_url: str, scope: str, redirect_uri: str, share_token: str = ""
) -> str:
    """The authorize URL to send the browser to."""
    app = require_mp()
    if scope not in SCOPES:
        raise Invalid("invalid_scope", "scope is base or userinfo")
    state = secrets.token_urlsafe(24)
    OAuthState.objects.create(
        state=state,
        session_key=session_key,
        next_url=next_url[:300],
        scope=scope,
        share_token=share_token[:24],
    )
    query = urlencode(
        {
            "appid": app.app_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPES[scope],
            "state": state,
        }
    )
    return f"{open_url()}/connect/oauth2/authorize?{query}#wechat_redirect"


def oauth_finish(
    *, code: str, state: str, session_key: str, device_id: str = ""
) -> tuple[User, bool, str]:
    """``(user, is_new, next_url)`` for WeChat's redirect back."""
    app = require_mp()
    record = OAuthState.objects.filter(state=(state or "")[:64]).first()
    fresh = timezone.now() - timedelta(seconds=STATE_SECONDS)
    if (
        record is None
        or not state
        or record.session_key != session_key
        or record.created_at < fresh
        or record.used_at is not None
    ):
        raise Invalid("invalid_oauth_state", "this login link is not valid any more; try again")
    used = OAuthState.objects.filter(pk=record.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not used:
        raise Invalid("invalid_oauth_state", "this login link was used already")
    if not code:
        raise Invalid("oauth_refused", "WeChat login was not allowed")
    try:
        answer = client.request(
            "GET",
            "/sns/oauth2/access_token",
            params={
                "appid": app.app_id,
                "secret": app.secret,
                "code": code,
                "grant_type": "authorization_code",
            },
        )
    except client.WechatError as exc:
        raise code_error(exc) from exc
    openid = str(answer.get("openid") or "")
    if not openid:
        raise client.WechatUnavailable(message="WeChat answered without an openid")
    unionid = str(answer.get("unionid") or "")
    signup = Signup(share_token=record.share_token, session_key=session_key, device_id=device_id)
    if record.scope == "userinfo":
        profile = client.request(
            "GET",
            "/sns/userinfo",
            params={"access_token": answer.get("access_token", ""), "openid": openid},
        )
        signup.nickname = str(profile.get("nickname") or "")
        signup.avatar = str(profile.get("headimgurl") or "")
        unionid = unionid or str(profile.get("unionid") or "")
    user, is_new = identity_login(
        provider=WECHAT_MP, app_id=app.app_id, openid=openid, unionid=unionid, signup=signup
    )
    return user, is_new, record.next_url or "/"
