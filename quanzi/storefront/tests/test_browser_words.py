"""Every page of the demo shop, in Chinese, as a shopper, a community leader and an
operator see it:
no stored code (``forming``, ``sign_in``…) and no untranslated English on screen."""

from __future__ import annotations

import re

import pytest

from quanzi.storefront.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Names that are the same in every language (brands, units, codes people type).
ALLOWED = {"Quanzi", "English", "WeChat", "VIP", "SKU", "API", "PNG", "ID", "CNY", "CSV"}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-z]{3,}")
NOT_WORDS = re.compile(r"(https?://\S+|/[\w./?=&%-]+|\b[A-Z0-9]{4,}\b|[\w.+-]+@[\w.-]+)")


def visible_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def foreign_words(text: str) -> list[str]:
    text = NOT_WORDS.sub(" ", text)
    found = set(SNAKE.findall(text))
    found |= {w for w in WORD.findall(text) if w not in ALLOWED}
    return sorted(found)


def seed_activity():
    """The demo shop after a day of use: an order paid, points signed in, a lottery
    drawn, a group opened, a bargain started."""
    from quanzi.accounts.models import Address, User
    from quanzi.bargain.models import BargainCampaign
    from quanzi.bargain.services import bargain_start
    from quanzi.core.demo import DEMO_CUSTOMER, demo_load
    from quanzi.groupbuy.models import GroupCampaign
    from quanzi.groupbuy.services import group_open
    from quanzi.marketing.services import sign_in
    from quanzi.orders.services import order_place
    from quanzi.payments.services import payment_create, sandbox_complete
    from quanzi.rewards.lottery import lottery_draw
    from quanzi.rewards.models import Lottery

    demo_load()
    customer = User.objects.get(phone=DEMO_CUSTOMER[0])
    address = Address.objects.filter(user=customer).first()
    sign_in(user=customer)
    lottery = Lottery.objects.first()
    if lottery is not None:
        lottery_draw(user=customer, lottery_id=lottery.pk)
    campaign = GroupCampaign.objects.first()
    offer = campaign.skus.first()
    grouped = group_open(
        user=customer,
        campaign_id=campaign.pk,
        sku_id=offer.sku_id,
        qty=1,
        address_id=address.pk,
    )
    normal = order_place(
        user=customer,
        items=[{"sku_id": offer.sku_id, "qty": 1}],
        address_id=address.pk,
    )
    for order in (grouped, normal):
        payment = payment_create(order_id=order.pk, user=customer, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=customer)
    bargain = bargain_start(user=customer, campaign_id=BargainCampaign.objects.first().pk)
    from quanzi.community.models import Wave
    from quanzi.content.models import Note

    note = Note.objects.order_by("id").first()
    wave = Wave.objects.order_by("id").first()
    return {
        "note_id": note.pk if note else 0,
        "author_id": note.author_id if note else 0,
        "wave_id": wave.pk if wave else 0,
        "order": normal,
        "group_order": grouped,
        "bargain": bargain,
        "campaign_id": campaign.pk,
        "lottery_id": lottery.pk if lottery else 0,
    }


# The first community leader of ``quanzi demo`` (quanzi/community/demo.py).
DEMO_LEADER = ("13800000101", "demo1234")

STOREFRONT = [
    "/",
    "/c/",
    "/search/?q=苹果",
    "/cart/",
    "/me/",
    "/me/profile/",
    "/me/addresses/",
    "/me/addresses/new/",
    "/me/coupons/",
    "/coupons/",
    "/me/points/",
    "/membership/",
    "/me/earnings/",
    "/me/withdrawals/",
    "/me/team/",
    "/me/invite/",
    "/me/shop/",
    "/orders/",
    "/lottery/",
    "/me/prizes/",
    "/rewards/",
    "/me/bargains/",
    "/me/groups/",
    "/service/",
    "/terms/",
    "/privacy/",
    # community group buying (社区团购) and content (种草)
    "/community/",
    "/community/points/",
    "/community/codes/",
    "/notes/",
    "/notes/new/",
    "/me/creator/",
]

# What a community leader (团长) sees besides the shop.
LEADER = ["/community/leader/", "/community/", "/community/codes/", "/me/", "/notes/"]

# The demo supplier (quanzi/supply/demo.py) and its desk.
DEMO_SUPPLIER = ("13800000301", "demo1234")
SUPPLIER = ["/supplier/"]

DASHBOARD = [
    "/dashboard/",
    "/dashboard/products/",
    "/dashboard/products/new/",
    "/dashboard/orders/",
    "/dashboard/refunds/",
    "/dashboard/groups/",
    "/dashboard/groups/new/",
    "/dashboard/bargains/",
    "/dashboard/bargains/new/",
    "/dashboard/coupons/",
    "/dashboard/coupons/new/",
    "/dashboard/plans/",
    "/dashboard/plans/new/",
    "/dashboard/withdrawals/",
    "/dashboard/settings/",
    "/dashboard/lotteries/",
    "/dashboard/lotteries/new/",
    "/dashboard/rewards/",
    "/dashboard/rewards/new/",
    "/dashboard/community/",
    "/dashboard/community/waves/",
    "/dashboard/content/",
    "/dashboard/content/creators/",
    "/dashboard/content/words/",
    "/dashboard/supply/",
]


def walk(page, urls, prefix: str) -> dict[str, list[str]]:
    problems = {}
    for index, url in enumerate(urls):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        words = foreign_words(visible_text(page))
        if words:
            problems[url] = words
        shot(page, f"words-{prefix}-{index:02d}")
    return problems


def test_every_page_speaks_chinese_to_a_shopper_and_an_operator(
    new_phone, new_desktop, live_server
):
    from quanzi.core.demo import DEMO_CUSTOMER, DEMO_OPERATOR
    from quanzi.dashboard.settings_form import sections

    seeded = seed_activity()
    order, group_order, bargain = seeded["order"], seeded["group_order"], seeded["bargain"]
    product_id = order.lines.first().sku.product_id

    shopper = new_phone()
    shopper.goto("/login/?next=/me/")
    shopper.fill("#id_phone", DEMO_CUSTOMER[0])
    shopper.fill("#id_password", DEMO_CUSTOMER[1])
    shopper.click("main button[type=submit]")
    shopper.wait_for_url(live_server.url + "/me/")
    pages = [
        *STOREFRONT,
        f"/p/{product_id}",
        f"/orders/{order.pk}/",
        f"/orders/{group_order.pk}/",
        f"/g/{group_order.channel_ref}",
        f"/b/{bargain.pk}",
        f"/n/{seeded['note_id']}",
        f"/u/{seeded['author_id']}",
    ]
    problems = walk(shopper, pages, "shopper")

    leader = new_phone()
    leader.goto("/login/?next=/me/")
    leader.fill("#id_phone", DEMO_LEADER[0])
    leader.fill("#id_password", DEMO_LEADER[1])
    leader.click("main button[type=submit]")
    leader.wait_for_url(live_server.url + "/me/")
    problems |= walk(leader, LEADER, "leader")

    supplier = new_phone()
    supplier.goto("/login/?next=/supplier/")
    supplier.fill("#id_phone", DEMO_SUPPLIER[0])
    supplier.fill("#id_password", DEMO_SUPPLIER[1])
    supplier.click("main button[type=submit]")
    supplier.wait_for_url(live_server.url + "/supplier/")
    problems |= walk(supplier, SUPPLIER, "supplier")

    operator = new_desktop()
    operator.goto("/dashboard/login/")
    operator.fill("#id_phone", DEMO_OPERATOR[0])
    operator.fill("#id_password", DEMO_OPERATOR[1])
    operator.click("main button[type=submit]")
    operator.wait_for_url(live_server.url + "/dashboard/")
    settings_pages = [
        "/dashboard/settings/" + ("" if name == "general" else f"{name}/")
        for name, _label in sections()
    ]
    pages = [
        *DASHBOARD,
        *settings_pages,
        f"/dashboard/orders/{order.pk}/",
        f"/dashboard/products/{product_id}/",
        f"/dashboard/groups/{seeded['campaign_id']}/edit/",
        f"/dashboard/lotteries/{seeded['lottery_id']}/",
        f"/dashboard/community/waves/{seeded['wave_id']}/",
    ]
    problems |= walk(operator, pages, "operator")
    assert problems == {}, "English or raw codes on screen:\n" + "\n".join(
        f"{url}: {words}" for url, words in problems.items()
    )


def test_the_word_check_catches_codes_and_english():
    assert {"forming", "sign_in"} <= set(foreign_words("拼团中 forming · 每日签到 sign_in"))
    assert foreign_words("订单已支付 (payment captured)") == ["captured", "payment"]
    assert foreign_words("微信 WeChat · 邀请码 BLWX · 链接 https://x.cn/s/abc · A2 奶粉 5kg") == []
