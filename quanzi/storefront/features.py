"""Where the storefront meets the feature apps (group buying, bargaining, membership,
coupons, points, distribution). Each function asks that app's selectors and shapes the
answer for a template; the pages never reach into a feature's models themselves."""

from __future__ import annotations

from typing import Any


def group_deals(*, limit: int) -> list[dict[str, Any]]:
    """Running group deals for the home page."""
    from quanzi.groupbuy import selectors as groupbuy

    deals = []
    for campaign in groupbuy.campaigns_active().order_by("-id")[:limit]:
        out = groupbuy.campaign_public_out(campaign)
        if out["sold_out"] or not out["skus"]:
            continue
        deals.append(
            {
                "product_id": out["product"]["id"],
                "title": out["product"]["title"],
                "cover": out["product"]["cover"],
                "group_size": out["group_size"],
                "group_price": out["group_price"],
                "price": out["price"],
            }
        )
    return deals


def group_offer(*, product, user=None, extras: dict[str, Any] | None = None):
    """The group deal running on the product, if any (``product_extras`` has it)."""
    if extras is not None and "group_deal" in extras:
        deal = extras["group_deal"]
    else:
        from quanzi.groupbuy.selectors import campaign_offer_for_product

        deal = campaign_offer_for_product(product_id=product.pk)
    if not deal or deal.get("sold_out") or not deal.get("skus"):
        return None
    return {**deal, "campaign_id": deal["id"]}


def open_groups(extras: dict[str, Any]) -> list[dict[str, Any]]:
    return list(extras.get("open_groups") or [])


def group_page(*, group_id: int, viewer) -> dict[str, Any]:
    from quanzi.groupbuy.selectors import group_share_data

    return group_share_data(group_id=group_id, viewer=viewer)


def bargain_deals(*, limit: int) -> list[dict[str, Any]]:
    """Running bargain campaigns for the home page."""
    from quanzi.bargain.selectors import campaigns_running

    deals = []
    qs = campaigns_running().select_related("sku__product").prefetch_related("sku__product__images")
    for campaign in qs.filter(stock__gt=0).order_by("-id")[:limit]:
        product = campaign.sku.product
        deals.append(
            {
                "product_id": product.pk,
                "title": campaign.title or product.title,
                "cover": product.cover,
                "floor_price": campaign.floor_price,
                "start_price": campaign.start_price,
            }
        )
    return deals


def bargain_offer(*, product) -> dict[str, Any] | None:
    from quanzi.bargain.selectors import campaigns_running

    campaign = campaigns_running().filter(sku__product=product, stock__gt=0).order_by("id").first()
    if campaign is None:
        return None
    return {
        "campaign_id": campaign.pk,
        "floor_price": campaign.floor_price,
        "start_price": campaign.start_price,
    }


def bargain_sku_id(*, campaign_id: int) -> int:
    from quanzi.bargain.models import BargainCampaign
    from quanzi.bargain.selectors import campaign_out

    return campaign_out(BargainCampaign.objects.get(pk=campaign_id))["sku_id"]


def bargain_page(*, bargain_id: int, viewer) -> dict[str, Any]:
    from quanzi.bargain.selectors import bargain_share_data

    return bargain_share_data(bargain_id, viewer=viewer)


def checkout_coupons(*, user, items) -> list[dict[str, Any]]:
    """The user's coupons usable on ``items``, best first, with a label for the select."""
    from quanzi.core.money import yuan
    from quanzi.marketing.selectors import coupons_for_checkout

    return [
        {**c, "label": f"{c['name']} −¥{yuan(c['discount'])}"}
        for c in coupons_for_checkout(user=user, items=items)
    ]


def points_balance(*, user) -> int | None:
    from quanzi.marketing.points import points_balance as balance

    return balance(user_id=user.pk)


def membership_of(*, user) -> dict[str, Any] | None:
    from quanzi.membership.selectors import membership_state

    state = membership_state(user=user)
    plan = state.get("plan")
    return {
        **state,
        "active": plan is not None,
        "plan_name": plan["name"] if plan else "",
    }


def earnings_of(*, user) -> dict[str, Any] | None:
    from quanzi.distribution.selectors import earnings_of as earnings

    return earnings(user=user)


def coupon_count(*, user) -> int | None:
    from quanzi.marketing.selectors import coupon_count as count

    return count(user_id=user.pk)


def share_link(request, *, user, target: str, target_id: int, path: str, channel: str = "") -> str:
    """The link a person shares: their own tracked link (``/s/<token>``) when logged in,
    so that visits, sign-ups and orders it brings are credited to them."""
    if user is None or not user.is_authenticated:
        return request.build_absolute_uri(path)
    from quanzi.social.services import share_create

    link = share_create(sharer=user, target=target, target_id=target_id, channel=channel)
    return request.build_absolute_uri(f"/s/{link.token}")


def mini_program_code(*, link: str) -> bytes | None:
    """The WeChat mini-program code for a share link (``…/s/<token>``), or None when the
    shop has no mini-program (the poster then prints the link's QR code)."""
    if "/s/" not in link:
        return None
    from quanzi.wechat.wxacode import share_code

    return share_code(share_token=link.rsplit("/s/", 1)[1])


def wechat_pay_available() -> bool:
    """WeChat Pay is configured (the cashier then offers it)."""
    from quanzi.core.errors import QuanziError
    from quanzi.payments.gateways import get_gateway

    try:
        get_gateway("wechatpay")
    except QuanziError:
        return False
    return True


def wechat_pay_client(request) -> str:
    """``wechat_mp`` when the cashier is open in WeChat's browser and the shopper has an
    openid in the 公众号 (WeChat Pay then takes a JSAPI payment), else "" (a QR code)."""
    from quanzi.wechat.hooks import payer_for
    from quanzi.wechat.jssdk import in_wechat

    if not in_wechat(request):
        return ""
    found = payer_for(user=request.user, gateway="wechatpay", client="wechat_mp")
    return "wechat_mp" if found else ""


def has_shop(*, user) -> bool:
    if user is None:
        return False
    from quanzi.distribution.models import Shop

    return Shop.objects.filter(owner=user, is_active=True).exists()
