"""The mini-program code (小程序码) on share posters: an unlimited code whose ``scene`` is
the share token, drawn by WeChat once per share and kept (``ShareCode``). Without a
mini-program, or when WeChat cannot draw it, the poster keeps the QR code of the link."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.wechat import client
from quanzi.wechat.config import mini_app
from quanzi.wechat.models import ShareCode

log = get_logger("quanzi.wechat")


def share_code(*, share_token: str) -> bytes | None:
    """The image of the share's mini-program code, or None (use the QR code)."""
    app = mini_app()
    if app is None or not share_token:
        return None
    kept = ShareCode.objects.filter(share_token=share_token, app_id=app.app_id).first()
    if kept is not None:
        return bytes(kept.image)
    body = {"scene": share_token, "check_path": False, "width": 280}
    page = get_settings().wechat.share_page
    if page:
        body["page"] = page
    try:
        image = client.call(app, "POST", "/wxa/getwxacodeunlimit", json=body, binary=True)
    except (client.WechatError, client.WechatUnavailable) as exc:
        log.warning("no mini-program code", extra={"share_token": share_token, "error": str(exc)})
        return None
    if not isinstance(image, bytes):
        return None
    try:
        with transaction.atomic():
            ShareCode.objects.create(share_token=share_token, app_id=app.app_id, image=image)
    except IntegrityError:
        pass  # drawn by another request meanwhile: the same code
    return image
