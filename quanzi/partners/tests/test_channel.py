"""Channel-only prices and coupons by the level the partner asserts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import Api
from quanzi.orders.models import Order
from quanzi.partners.models import PartnerMember, PartnerOrder
from quanzi.partners.tests.conftest import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(token, make_address):
    """Arrive at a level; answers the signed-in API client and its address."""
    from quanzi.accounts.models import User

    def make(level: str = "gold", uid: str = "u-1"):
        body = arrive(Api(), token(level=level, uid=uid)).json()
        user = User.objects.get(pk=body["user_id"])
        user.api = Api(body["token"])
        user.address = make_address(user)
        return user

    return make


def buy(user, sku, *, channel="partner", qty=1, coupon_id=None):
    body = {
        "items": [{"sku_id": sku.pk, "qty": qty}],
        "address_id": user.address.pk,
        "channel": channel,
    }
    if coupon_id:
        body["coupon_id"] = coupon_id
    return user.api.post("/orders", body)


def test_each_level_pays_its_channel_price_and_the_order_carries_the_partner(bank, priced, member):
    gold, platinum = member("gold", "g"), member("platinum", "p")
    g = buy(gold, priced["rice"], qty=2)
    assert g.status_code == 201, g.content
    assert g.json()["lines"][0]["unit_price"] == 1800
    assert g.json()["channel"] == "partner" and g.json()["channel_ref"] == str(bank.pk)
    p = buy(platinum, priced["rice"])
    assert p.json()["lines"][0]["unit_price"] == 1600
    attribution = PartnerOrder.objects.get(order_id=g.json()["id"])
    assert (attribution.partner_id, attribution.uid, attribution.level_code) == (
        bank.pk,
        "g",
        "gold",
    )
    # the normal checkout never shows the channel price
    normal = buy(gold, priced["rice"], channel="normal")
    assert normal.json()["lines"][0]["unit_price"] == 1990
    assert not PartnerOrder.objects.filter(order_id=normal.json()["id"]).exists()


def test_a_partner_price_is_refused_without_the_level(bank, priced, member, customer, make_address):
    customer.address = make_address(customer)
    stranger = buy(customer, priced["rice"])
    assert stranger.status_code == 403 and stranger.json()["code"] == "partner_level_required"
    gold = member("gold")
    higher = buy(gold, priced["tea"])
    assert higher.status_code == 403 and higher.json()["code"] == "partner_level_too_low"
    assert buy(member("platinum", "p2"), priced["tea"]).json()["lines"][0]["unit_price"] == 15000
    # an expired level loses access
    PartnerMember.objects.filter(user=gold).update(level_expires_at=timezone.now() - timedelta(1))
    expired = buy(gold, priced["rice"])
    assert expired.status_code == 403 and expired.json()["code"] == "partner_level_required"
    # and a suspended partner too
    from quanzi.partners.services import partner_update

    platinum = member("platinum", "p3")
    partner_update(partner_id=bank.pk, data={"status": "suspended"})
    assert buy(platinum, priced["rice"]).status_code == 403
    assert Order.objects.filter(channel="partner").count() == 1


def test_an_item_without_a_partner_price_is_not_sold_in_the_channel(
    bank, priced, member, make_product
):
    other = make_product(price=990, supply_price=500).skus.get()
    answer = buy(member("platinum"), other)
    assert answer.status_code == 422 and answer.json()["code"] == "partner_price_unavailable"


def test_a_lower_level_asserted_later_loses_the_higher_prices(bank, priced, member, token):
    platinum = member("platinum", "down")
    assert buy(platinum, priced["rice"]).json()["lines"][0]["unit_price"] == 1600
    arrive(Api(), token(level="gold", uid="down"))
    assert buy(platinum, priced["rice"]).json()["lines"][0]["unit_price"] == 1800
    assert buy(platinum, priced["tea"]).json()["code"] == "partner_level_too_low"


def test_offers_say_what_the_viewer_may_buy(bank, priced, member):
    anyone = Api().get("/partners/bank/offers").json()
    assert len(anyone) == 3 and not any(o["available"] for o in anyone)
    gold = member("gold")
    mine = {
        (o["sku_id"], o["level"]): o["available"]
        for o in gold.api.get("/partners/bank/offers").json()
    }
    assert mine[(priced["rice"].pk, "gold")] is True
    assert mine[(priced["tea"].pk, "platinum")] is False


@pytest.fixture
def platinum_coupon(bank, operator):
    from quanzi.marketing.services import coupon_template_create

    template = coupon_template_create(
        data={
            "name": "白金卡专享",
            "kind": "amount_off",
            "amount": 300,
            "threshold": 0,
            "scope": "all",
            "valid_days": 5,
            "total": 10,
            "per_user_limit": 1,
        }
    )
    answer = operator.api.post(
        f"/admin/partners/{bank.pk}/coupons",
        {"template_id": template.pk, "level_id": bank.platinum.pk},
    )
    assert answer.status_code == 201
    return template


def test_a_level_coupon_is_claimed_and_used_only_at_that_level(
    bank, priced, member, token, platinum_coupon, customer
):
    path = f"/partners/bank/coupons/{platinum_coupon.pk}/claim"
    # it left the public coupon centre
    assert customer.api.post(f"/coupon-templates/{platinum_coupon.pk}/claim").status_code == 404
    gold = member("gold", "g")
    refused = gold.api.post(path)
    assert refused.status_code == 403 and refused.json()["code"] == "partner_coupon_level_required"
    platinum = member("platinum", "p")
    claimed = platinum.api.post(path)
    assert claimed.status_code == 201
    assert platinum.api.post(path).json()["code"] == "already_claimed"
    coupon_id = claimed.json()["id"]
    # the level falls to gold: the coupon cannot be used any more
    arrive(Api(), token(level="gold", uid="p"))
    blocked = buy(platinum, priced["rice"], coupon_id=coupon_id)
    assert blocked.status_code == 403 and blocked.json()["code"] == "partner_coupon_level_required"
    # back to platinum: it is used, in the partner channel, on top of the channel price
    arrive(Api(), token(level="platinum", uid="p"))
    used = buy(platinum, priced["rice"], coupon_id=coupon_id)
    assert used.status_code == 201, used.content
    line = used.json()["lines"][0]
    assert (line["unit_price"], line["paid"]) == (1600, 1300)
