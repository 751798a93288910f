"""Group buying and bargaining pages (test client): the share pages show what a friend
needs to see, and their buttons go through the checkout to the feature's services."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.orders.models import Order

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pay(client: Client, order: Order) -> str:
    pay_url = client.post(f"/orders/{order.pk}/pay/", {"gateway": "sandbox"})["Location"]
    return client.post(pay_url)["Location"]


def place(client: Client, address) -> Order:
    response = client.post("/checkout/", {"address_id": address.pk, "points": "0", "place": "1"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Order.objects.get(pk=int(response["Location"].split("/")[2]))


@pytest.fixture
def deal(make_product):
    from quanzi.groupbuy.services import campaign_create

    product = make_product(title="赣南脐橙", price=2990, images=["/static/demo/orange.jpg"])
    sku = product.skus.get()
    campaign = campaign_create(
        title="脐橙 3 人团",
        skus=[{"sku_id": sku.pk, "group_price": 1990}],
        group_size=3,
        group_ttl_seconds=3600,
        per_user_limit=2,
        stock=20,
    )
    return product, sku, campaign


def test_product_page_offers_the_group_and_its_open_groups(deal, make_user, make_address):
    product, sku, campaign = deal
    page = Client().get(f"/p/{product.pk}")
    body = page.content.decode()
    assert "发起拼团" in body and "单独购买" in body and "3 人团" in body
    assert "19" in body

    leader = make_user(nickname="团长阿花")
    address = make_address(leader)
    client = logged_in(leader)
    client.post("/group/start/", {"sku_id": sku.pk, "qty": 1, "campaign_id": campaign.pk})
    order = place(client, address)
    assert order.channel == "group" and order.payable == 1990
    assert pay(client, order) == f"/g/{order.channel_ref}"

    stranger_view = Client().get(f"/p/{product.pk}").content.decode()
    assert "团长阿花" in stranger_view and "还差 2 人" in stranger_view
    assert f"/g/{order.channel_ref}" in stranger_view


def test_group_share_page_and_joining_until_it_succeeds(deal, make_user, make_address):
    _product, sku, campaign = deal
    leader, *friends = [make_user(nickname=n) for n in ("团长", "小张", "小李")]
    addresses = {u.pk: make_address(u) for u in (leader, *friends)}
    client = logged_in(leader)
    client.post("/group/start/", {"sku_id": sku.pk, "qty": 1, "campaign_id": campaign.pk})
    group_path = pay(client, place(client, addresses[leader.pk]))
    group_id = int(group_path.rsplit("/", 1)[1])

    anonymous = Client().get(group_path).content.decode()
    assert "仅差 2 人成团" in anonymous and "团长" in anonymous and "立即参团" in anonymous
    leader_view = client.get(group_path).content.decode()
    assert "立即参团" not in leader_view and "邀请好友" in leader_view

    for friend in friends:
        friend_client = logged_in(friend)
        friend_client.post(f"/g/{group_id}/join", {"sku_id": sku.pk, "qty": 1})
        order = place(friend_client, addresses[friend.pk])
        assert order.channel_ref == str(group_id)
        assert pay(friend_client, order) == group_path

    done = Client().get(group_path).content.decode()
    assert "拼团成功" in done and "立即参团" not in done
    assert set(Order.objects.filter(channel="group").values_list("status", flat=True)) == {
        "to_ship"
    }


def test_a_leader_joining_their_own_group_is_told_why(deal, make_user, make_address):
    _product, sku, campaign = deal
    leader = make_user()
    client = logged_in(leader)
    client.post("/group/start/", {"sku_id": sku.pk, "qty": 1, "campaign_id": campaign.pk})
    group_path = pay(client, place(client, make_address(leader)))
    group_id = int(group_path.rsplit("/", 1)[1])
    again = client.post(f"/g/{group_id}/join", {"sku_id": sku.pk, "qty": 1})
    assert again.status_code == 302
    response = client.post(
        "/checkout/", {"address_id": leader.addresses.get().pk, "points": "0", "place": "1"}
    )
    assert response.status_code == 200
    assert "你是该团团长" in response.content.decode()


def test_unknown_or_unpaid_groups_are_404(deal, make_user, make_address):
    _product, sku, campaign = deal
    assert Client().get("/g/999999").status_code == 404
    leader = make_user()
    client = logged_in(leader)
    client.post("/group/start/", {"sku_id": sku.pk, "qty": 1, "campaign_id": campaign.pk})
    order = place(client, make_address(leader))  # not paid: the group is not public yet
    assert Client().get(f"/g/{order.channel_ref}").status_code == 404
    assert client.get(f"/g/{order.channel_ref}").status_code == 200


@pytest.fixture
def bargain_campaign(make_product):
    from quanzi.bargain.services import campaign_create

    product = make_product(title="秦岭土蜂蜜", price=6800, images=["/static/demo/honey.jpg"])
    return product, campaign_create(
        sku_id=product.skus.get().pk,
        start_price=6800,
        floor_price=990,
        helpers_min=2,
        helpers_max=3,
        ttl_seconds=3600,
        per_user_limit=1,
        stock=10,
    )


def test_bargain_start_help_and_buy(bargain_campaign, make_user, make_address):
    product, campaign = bargain_campaign
    owner, helper = make_user(nickname="砍价王"), make_user(nickname="热心人")
    assert "发起砍价" in Client().get(f"/p/{product.pk}").content.decode()

    client = logged_in(owner)
    started = client.post("/b/start/", {"campaign_id": campaign.pk})
    bargain_path = started["Location"]
    assert bargain_path.startswith("/b/")
    again = client.post("/b/start/", {"campaign_id": campaign.pk})
    assert again["Location"] == bargain_path  # the running bargain, not an error

    page = Client().get(bargain_path).content.decode()
    assert "砍价王 邀请你帮忙砍一刀" in page and "登录后帮砍" in page
    assert "帮 TA 砍一刀" in logged_in(helper).get(bargain_path).content.decode()

    cut = logged_in(helper).post(f"{bargain_path}/help", follow=True)
    assert "你帮忙砍掉了" in cut.content.decode()
    twice = logged_in(helper).post(f"{bargain_path}/help", follow=True)
    assert "你已经帮忙砍过了" in twice.content.decode()
    own = client.post(f"{bargain_path}/help", follow=True)
    assert "不能给自己砍价" in own.content.decode()

    address = make_address(owner)
    client.post(f"{bargain_path}/buy")
    order = place(client, address)
    assert order.channel == "bargain" and order.payable < 6800
    pay(client, order)
    order.refresh_from_db()
    assert order.status == "to_ship"


def test_bargain_pages_of_strangers_and_the_old_share_path(bargain_campaign, make_user):
    _product, campaign = bargain_campaign
    owner, stranger = make_user(), make_user()
    bargain_path = logged_in(owner).post("/b/start/", {"campaign_id": campaign.pk})["Location"]
    bargain_id = bargain_path.rsplit("/", 1)[1]
    assert logged_in(stranger).post(f"{bargain_path}/buy").status_code == 404
    assert Client().get("/b/999999").status_code == 404
    assert Client().get(f"/bargains/{bargain_id}")["Location"] == bargain_path
    help_anonymous = Client().post(f"{bargain_path}/help")
    assert help_anonymous["Location"].startswith("/login/")
