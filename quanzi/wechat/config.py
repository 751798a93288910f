"""Which WeChat apps are configured: ``QUANZI_WECHAT_*`` variables first, then the
operator's settings. An app without both its id and its secret is off."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from quanzi.core.platform_settings import get_settings
from quanzi.wechat.models import WECHAT_MINI, WECHAT_MP


@dataclass(frozen=True)
class App:
    provider: str
    app_id: str
    secret: str


def _env(name: str) -> str:
    return str(getattr(settings, f"QUANZI_WECHAT_{name}", "") or "").strip()


def app_for(provider: str) -> App | None:
    """The configured app of ``provider`` (``wechat_mini`` or ``wechat_mp``), or None."""
    prefix = {WECHAT_MINI: "MINI", WECHAT_MP: "MP"}[provider]
    app_id, secret = _env(f"{prefix}_APPID"), _env(f"{prefix}_SECRET")
    if not (app_id and secret):
        section = get_settings().wechat
        stored = section.mini if provider == WECHAT_MINI else section.mp
        app_id, secret = stored.app_id, stored.app_secret
    if not (app_id and secret):
        return None
    return App(provider=provider, app_id=app_id, secret=secret)


def mini_app() -> App | None:
    return app_for(WECHAT_MINI)


def mp_app() -> App | None:
    return app_for(WECHAT_MP)


def configured_app_ids() -> list[str]:
    return [app.app_id for app in (mini_app(), mp_app()) if app is not None]


def api_url() -> str:
    return _env("API_URL").rstrip("/") or "https://api.weixin.qq.com"


def open_url() -> str:
    return _env("OPEN_URL").rstrip("/") or "https://open.weixin.qq.com"


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"quanzi.wechat:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(text: str) -> str:
    """Encrypt a secret for storage (session keys)."""
    return _fernet().encrypt(text.encode()).decode() if text else ""


def unseal(token: str) -> str:
    """The secret ``seal`` stored, or "" when it does not decrypt (key changed)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
