"""Template tags the storefront uses for WeChat: the login button and the share card.
Both render nothing outside WeChat's browser or when no 公众号 is configured."""

from __future__ import annotations

from django import template
from django.conf import settings

from quanzi.wechat.config import mp_app
from quanzi.wechat.jssdk import in_wechat, share_card

register = template.Library()


@register.inclusion_tag("wechat/_login_button.html", takes_context=True)
def wechat_login(context, next_url: str = "/"):
    request = context.get("request")
    show = request is not None and in_wechat(request) and mp_app() is not None
    return {"show": show, "next": next_url}


@register.inclusion_tag("wechat/_share.html", takes_context=True)
def wechat_share(context, target: str, target_id: int, title: str, desc: str = "", image=""):
    request = context.get("request")
    card = None
    if request is not None:
        card = share_card(
            request,
            target=target,
            target_id=int(target_id),
            title=str(title),
            desc=str(desc or ""),
            image=str(image or ""),
        )
    return {"card": card, "jssdk_url": settings.QUANZI_WECHAT_JSSDK_URL}
