"""Where the storefront meets the feature apps (group buying, bargaining, membership,
coupons, points, distribution). Each function asks that app's selectors and shapes the
answer for a template; the pages never reach into a feature's models themselves."""

from __future__ import annotations

from typing import Any

# The session key holding the ids of the new-user coupons to show once after sign-up.
WELCOME_GIFT_KEY = "quanzi_welcome_gift"


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


def new_user_gifts(*, user) -> list[dict[str, Any]]:
    """The new-user red packet the person received at sign-up (for the welcome sheet)."""
    from quanzi.marketing.models import Coupon
    from quanzi.marketing.selectors import coupon_out

    coupons = Coupon.objects.filter(user_id=user.pk, source="new_user").select_related("template")
    return [coupon_out(c) for c in coupons.order_by("id")]


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


# --- pages of the lottery, reward campaigns, my bargains and my groups ------------------


def lotteries_running() -> list[dict[str, Any]]:
    from django.db.models import Q
    from django.utils import timezone

    from quanzi.rewards.models import Lottery

    now = timezone.now()
    qs = Lottery.objects.filter(is_active=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )
    return [{"id": lottery.pk, "title": lottery.title} for lottery in qs.order_by("-id")[:20]]


def lottery_page(*, lottery_id: int, user) -> dict[str, Any]:
    from quanzi.rewards.models import Lottery
    from quanzi.rewards.selectors import lottery_out

    lottery = Lottery.objects.prefetch_related("prizes").filter(pk=lottery_id).first()
    if lottery is None:
        from quanzi.core.errors import NotFound

        raise NotFound("lottery_not_found", "no such lottery")
    return lottery_out(lottery, user=user)


def lottery_draw(*, lottery_id: int, user) -> dict[str, Any]:
    from quanzi.rewards.lottery import lottery_draw as draw
    from quanzi.rewards.selectors import draw_out

    return draw_out(draw(user=user, lottery_id=lottery_id))


def my_draw(*, draw_id: int, user) -> dict[str, Any] | None:
    from quanzi.rewards.selectors import draw_out, draws_of

    draw = draws_of(user_id=user.pk).filter(pk=draw_id).first()
    return draw_out(draw) if draw is not None else None


def my_prizes(*, user) -> list[dict[str, Any]]:
    """The user's draws that won something, newest first, with the lottery's title."""
    from quanzi.rewards.selectors import draw_out, draws_of

    draws = draws_of(user_id=user.pk).exclude(status="lost").select_related("lottery")
    rows = []
    for draw in draws.order_by("-id")[:100]:
        rows.append({**draw_out(draw), "lottery_title": draw.lottery.title})
    return rows


def prize_claim(*, draw_id: int, user, address_id: int | None):
    from quanzi.rewards.lottery import lottery_claim

    return lottery_claim(draw_id=draw_id, user=user, address_id=address_id)


def reward_campaigns(*, user) -> dict[str, Any]:
    """Running share and invite campaigns, each with the user's progress towards it."""
    from django.utils import timezone

    from quanzi.rewards.models import RewardCampaign
    from quanzi.rewards.selectors import reward_campaign_out, rewards_of

    now = timezone.now()
    running = RewardCampaign.objects.filter(is_active=True, starts_at__lte=now).order_by("-pk")
    campaigns = [
        reward_campaign_out(c) for c in running[:50] if c.ends_at is None or c.ends_at > now
    ]
    mine = rewards_of(user_id=user.pk) if user is not None else {"progress": [], "items": []}
    progress = {p["campaign_id"]: p for p in mine["progress"]}
    waiting: dict[int, int] = {}
    for item in mine["items"]:
        if item["source"] == "referral" and item["status"] in ("pending", "held"):
            waiting[item["campaign_id"]] = waiting.get(item["campaign_id"], 0) + 1
    for campaign in campaigns:
        mine_here = progress.get(campaign["id"], {})
        towards = mine_here.get("towards_next", 0)
        campaign["rewards_won"] = mine_here.get("rewards", 0)
        campaign["towards_next"] = towards
        campaign["waiting"] = waiting.get(campaign["id"], 0)
        campaign["progress_pct"] = min(100, towards * 100 // max(1, campaign["needed"]))
        campaign["capped"] = bool(campaign["max_per_user"]) and (
            campaign["rewards_won"] >= campaign["max_per_user"]
        )
    return {"campaigns": campaigns, "items": mine["items"]}


def my_bargains(*, user) -> list[dict[str, Any]]:
    from django.utils import timezone

    from quanzi.bargain.selectors import bargains_of

    now = timezone.now()
    rows = []
    qs = bargains_of(user_id=user.pk).select_related("campaign__sku__product")
    for bargain in qs.prefetch_related("campaign__sku__product__images").order_by("-id")[:100]:
        status = bargain.status
        if status in ("open", "floor_reached") and bargain.expires_at <= now:
            status = "expired"
        product = bargain.campaign.sku.product
        rows.append(
            {
                "id": bargain.pk,
                "title": bargain.campaign.title or product.title,
                "cover": product.cover,
                "status": status,
                "current_price": bargain.current_price,
                "floor_price": bargain.floor_price,
                "start_price": bargain.start_price,
                "expires_at": bargain.expires_at,
                "order_id": bargain.order_id,
            }
        )
    return rows


def my_groups(*, user) -> list[dict[str, Any]]:
    from quanzi.groupbuy.selectors import groups_of_user

    rows = []
    qs = groups_of_user(user_id=user.pk).select_related("campaign__product")
    for group in qs.prefetch_related("campaign__product__images").order_by("-id")[:100]:
        product = group.campaign.product
        rows.append(
            {
                "id": group.pk,
                "title": group.campaign.title or product.title,
                "cover": product.cover,
                "status": group.status,
                "size": group.size,
                "paid_members": group.paid_count,
                "missing": group.missing,
                "expires_at": group.expires_at,
                "is_leader": group.leader_id == user.pk,
            }
        )
    return rows


def prizes_to_claim(*, user) -> int:
    from quanzi.rewards.selectors import draws_of

    return draws_of(user_id=user.pk).filter(status="unclaimed").count()


def cart_added(request, *, sku) -> None:
    """An add-to-cart counts for the daily facts (analytics' traffic), like a page view:
    the signed-in person, or the session; through a shop's share link, that shop's."""
    from quanzi.analytics.page_views import cart_record

    cart_record(request, product_id=sku.product_id)
