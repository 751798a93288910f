"""Share cards in WeChat's browser: the JS-SDK signature and what a page shares.

The signature is the SHA-1 of the 公众号's ``jsapi_ticket`` (cached and renewed like the
access token, one process at a time), a nonce, a timestamp and the page's URL without
its ``#`` part. A page's card links to the viewer's own share link (``/s/<token>``), so
a friend who opens it is credited to them.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from wechatpy.utils import WeChatSigner

from quanzi.core.errors import Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.wechat import client
from quanzi.wechat.config import mp_app

log = get_logger("quanzi.wechat")

WECHAT_UA = "micromessenger"
JS_APIS = ["updateAppMessageShareData", "updateTimelineShareData", "chooseWXPay"]


def in_wechat(request) -> bool:
    return WECHAT_UA in request.headers.get("User-Agent", "").lower()


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    hosts = {urlsplit(settings.PUBLIC_URL).hostname}
    hosts.update(h for h in settings.ALLOWED_HOSTS if h and h != "*")
    if "*" in settings.ALLOWED_HOSTS and not getattr(settings, "PRODUCTION", False):
        return True
    return parts.hostname in hosts


def jssdk_config(*, url: str) -> dict:
    """``wx.config``'s app id, timestamp, nonce and signature for the page at ``url``."""
    app = mp_app()
    if app is None:
        raise NotFound("wechat_not_configured", "this shop has no WeChat official account")
    url = (url or "").split("#", 1)[0]
    if not _allowed(url):
        raise Invalid("invalid_url", "sign only pages of this shop (an absolute http(s) URL)")
    ticket = client.jsapi_ticket(app)
    nonce, timestamp = secrets.token_hex(8), int(time.time())
    signer = WeChatSigner(delimiter=b"&")
    signer.add_data(
        f"noncestr={nonce}", f"jsapi_ticket={ticket}", f"timestamp={timestamp}", f"url={url}"
    )
    return {
        "app_id": app.app_id,
        "timestamp": timestamp,
        "nonce_str": nonce,
        "signature": signer.signature,
    }


def share_card(
    request, *, target: str, target_id: int, title: str, desc: str = "", image: str = ""
) -> dict | None:
    """What the page sets as its WeChat share card, with the signed ``wx.config``; None
    outside WeChat's browser, without a 公众号, or when WeChat cannot be reached (the
    page then shares with WeChat's default card)."""
    if not in_wechat(request) or mp_app() is None:
        return None
    link = request.build_absolute_uri()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from quanzi.social.services import share_create

        try:
            token = share_create(
                sharer=user, target=target, target_id=target_id, channel="wechat"
            ).token
        except Exception:  # noqa: BLE001 - a card without the token still shares the page
            log.warning("share link for the card failed", exc_info=True)
        else:
            link = f"{settings.PUBLIC_URL}/s/{token}"
    try:
        config = jssdk_config(url=request.build_absolute_uri())
    except (client.WechatError, client.WechatUnavailable, Invalid):
        log.warning("no share card: the JS-SDK could not be signed", exc_info=True)
        return None
    if image and image.startswith("/"):
        image = f"{settings.PUBLIC_URL}{image}"
    return {
        "config": {
            "appId": config["app_id"],
            "timestamp": config["timestamp"],
            "nonceStr": config["nonce_str"],
            "signature": config["signature"],
            "jsApiList": JS_APIS,
        },
        "share": {"title": title[:60], "desc": desc[:120], "link": link, "imgUrl": image},
    }
