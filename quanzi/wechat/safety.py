"""WeChat's text security check (msg_sec_check v2) behind the moderation interface.

It answers only when the operator turned ``wechat.content_check`` on and the author has
an identity in the mini-program (the API needs the author's openid); otherwise it has
nothing to say and the other checkers decide. ``risky`` is refused, ``review`` held.
"""

from __future__ import annotations

from quanzi.core.moderation import ALLOW, HOLD, REFUSE, Verdict
from quanzi.core.platform_settings import get_settings
from quanzi.wechat import client
from quanzi.wechat.config import mini_app
from quanzi.wechat.models import WECHAT_MINI, Identity

# msg_sec_check's scene: 1 profile (资料), 2 comment, 3 forum post, 4 social log.
SCENES = {"nickname": 1, "comment": 2, "review": 2, "note": 3, "circle": 3}


class WechatTextChecker:
    name = "wechat"

    def check(self, text: str, *, kind: str, user_id: int | None) -> Verdict | None:
        if not get_settings().wechat.content_check or user_id is None:
            return None
        app = mini_app()
        if app is None:
            return None
        openid = (
            Identity.objects.filter(user_id=user_id, provider=WECHAT_MINI, app_id=app.app_id)
            .values_list("openid", flat=True)
            .first()
        )
        if not openid:
            return None
        data = client.call(
            app,
            "POST",
            "/wxa/msg_sec_check",
            json={"content": text, "version": 2, "scene": SCENES.get(kind, 4), "openid": openid},
        )
        result = data.get("result") or {}
        suggest = result.get("suggest", "pass")
        label = str(result.get("label", ""))
        if suggest == "risky":
            return Verdict(REFUSE, (f"wechat:{label}",))
        if suggest == "review":
            return Verdict(HOLD, (f"wechat:{label}",))
        return Verdict(ALLOW)
