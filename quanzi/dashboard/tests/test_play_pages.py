"""The operator runs the lottery and the reward campaigns from the dashboard, and edits a
running group deal."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(operator):
    client = Client()
    client.force_login(operator)
    return client


def test_create_a_lottery_see_its_results_and_close_it(desk, customer):
    from quanzi.rewards.lottery import lottery_draw
    from quanzi.rewards.models import Lottery

    refused = desk.post(
        "/dashboard/lotteries/new/",
        {"title": "周末抽奖", "cost_points": "0", "free_draws_per_day": "0"},
    )
    assert refused.status_code == 200
    assert "抽奖需要设置消耗积分或每日免费次数" in refused.content.decode()

    created = desk.post(
        "/dashboard/lotteries/new/",
        {
            "title": "周末抽奖",
            "cost_points": "10",
            "free_draws_per_day": "1",
            "prize1_name": "100 积分",
            "prize1_kind": "points",
            "prize1_weight": "1",
            "prize1_stock": "5",
            "prize1_points": "100",
            "prize2_name": "谢谢参与",
            "prize2_kind": "none",
            "prize2_weight": "0",
        },
    )
    assert created.status_code == 302
    lottery = Lottery.objects.get(title="周末抽奖")
    assert [p.name for p in lottery.prizes.order_by("sort")] == ["100 积分", "谢谢参与"]
    lottery_draw(user=customer, lottery_id=lottery.pk)

    listing = desk.get("/dashboard/lotteries/").content.decode()
    assert "周末抽奖" in listing and "已发 1，剩 4" in listing
    results = desk.get(f"/dashboard/lotteries/{lottery.pk}/").content.decode()
    assert customer.nickname in results and "已中奖" in results

    assert desk.post(f"/dashboard/lotteries/{lottery.pk}/close/").status_code == 302
    lottery.refresh_from_db()
    assert not lottery.is_active
    assert "当前没有进行中的抽奖" in Client().get("/lottery/").content.decode()


def test_create_and_close_a_reward_campaign(desk):
    from quanzi.rewards.models import RewardCampaign

    empty = desk.post("/dashboard/rewards/new/", {"kind": "invite", "needed": "3"})
    assert "请设置奖励积分或优惠券" in empty.content.decode()
    created = desk.post(
        "/dashboard/rewards/new/",
        {
            "title": "邀 3 位好友得 500 积分",
            "kind": "invite",
            "needed": "3",
            "reward_points": "500",
            "max_per_user": "0",
        },
    )
    assert created.status_code == 302
    campaign = RewardCampaign.objects.get()
    assert (campaign.trigger, campaign.needed, campaign.reward_points) == ("first_order", 3, 500)
    listing = desk.get("/dashboard/rewards/").content.decode()
    assert "邀 3 位好友得 500 积分" in listing and "邀请有礼" in listing
    shopper_page = Client().get("/rewards/").content.decode()
    assert "邀 3 位好友得 500 积分" in shopper_page
    desk.post(f"/dashboard/rewards/{campaign.pk}/close/")
    campaign.refresh_from_db()
    assert not campaign.is_active


def test_edit_a_running_group_deal(desk, make_product):
    from quanzi.groupbuy.models import CampaignSku
    from quanzi.groupbuy.services import campaign_create

    sku = make_product(price=3990).skus.get()
    campaign = campaign_create(
        title="两人团",
        skus=[{"sku_id": sku.pk, "group_price": 2990}],
        group_size=2,
        group_ttl_seconds=24 * 3600,
        per_user_limit=5,
        stock=50,
    )
    page = desk.get(f"/dashboard/groups/{campaign.pk}/edit/")
    form = page.context["form"]
    assert form["group_price"].value() == "29.90" and "sku_id" not in form.fields
    post = {
        "title": "三人团",
        "group_price": "25.90",
        "leader_price": "19.90",
        "group_size": "3",
        "group_ttl_hours": "12",
        "per_user_limit": "3",
        "stock": "80",
        "simulated_fill_max_missing": "0",
        "commission_enabled": "on",
    }
    assert desk.post(f"/dashboard/groups/{campaign.pk}/edit/", post).status_code == 302
    campaign.refresh_from_db()
    offer = CampaignSku.objects.get(campaign=campaign)
    assert (campaign.title, campaign.group_size, campaign.group_ttl_seconds) == ("三人团", 3, 43200)
    assert (offer.group_price, offer.leader_price) == (2590, 1990)
    assert (campaign.stock_allotted, campaign.stock, campaign.commission_enabled) == (80, 80, True)

    too_dear = desk.post(f"/dashboard/groups/{campaign.pk}/edit/", {**post, "group_price": "49.90"})
    assert too_dear.status_code == 200 and too_dear.context["form"].errors
    assert "编辑" in desk.get("/dashboard/groups/").content.decode()
